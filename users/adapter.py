from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter

from kernel import fund_identity
from kernel.web import client_address

from . import roles
from .backends import login_limit_key


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Households join through enrolment (application, lottery); staff are created by coordinators.
        return False

    def get_login_redirect_url(self, request):
        # Each person lands where their work is.
        return roles.landing_url(request.user)

    def get_client_ip(self, request):
        # Behind the fund's reverse proxy, the member's address, not the proxy's (settings.TRUSTED_PROXIES).
        return client_address(request) or super().get_client_ip(request)

    def _get_login_attempts_cache_key(self, request, **credentials):
        # One count per account, whatever form of its identifier was typed (allauth counts the text).
        return login_limit_key(credentials.get("email") or credentials.get("username") or "")


class MFAAdapter(DefaultMFAAdapter):
    def get_totp_issuer(self) -> str:
        # The name an authenticator app shows for the account: the fund's, as its settings say now.
        return fund_identity.name()
