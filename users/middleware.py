from allauth.mfa.models import Authenticator
from django.shortcuts import redirect
from django.urls import reverse

from . import roles

# What a staff member without a second factor may still reach: setting it up, leaving.
_OPEN_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/accounts/login/", "/static/", "/i18n/", "/healthz")


def requires_mfa(user) -> bool:
    return user.is_staff or user.is_superuser or user.groups.filter(name__in=roles.STAFF_ROLES).exists()


class RequireStaffMFAMiddleware:
    """Coordinators, desk volunteers and admin staff must use two-factor authentication.

    Until they have activated TOTP, every page sends them to its set-up page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
            and requires_mfa(user)
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            return redirect(reverse("mfa_activate_totp") + "?next=" + request.get_full_path())
        return self.get_response(request)
