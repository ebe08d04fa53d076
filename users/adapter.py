from allauth.account.adapter import DefaultAccountAdapter

from . import roles


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Households join through enrolment (application, lottery); staff are created by coordinators.
        return False

    def get_login_redirect_url(self, request):
        # Each person lands where their work is.
        return roles.landing_url(request.user)
