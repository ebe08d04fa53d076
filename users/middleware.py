import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from . import roles, second_factor

# What a staff member who has not passed the second factor may reach: confirming the
# password (allauth asks before a factor is added), setting the factor up, leaving.
_SET_UP_PATHS = ("/accounts/2fa/totp/activate/", "/accounts/reauthenticate/")
_ALWAYS_OPEN = ("/accounts/logout/", "/accounts/login/", "/static/", "/i18n/", "/healthz")
LAST_SEEN_KEY = "caisse_staff_last_seen"
# Writing the session on every request would be wasted: a minute is precise enough.
_LAST_SEEN_RESOLUTION = 60


def _to_login(request, message: str):
    logout(request)
    messages.info(request, message)
    query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
    return redirect(reverse("account_login") + (f"?{query}" if query else ""))


class RequireStaffMFAMiddleware:
    """Coordinators, desk volunteers and admin staff: a second factor, and a session that ends.

    However the session was signed in (password form, activation, password reset, the
    admin's login, anything else), a staff page opens only once this session has passed
    the second factor with an authenticator the person still has. Without one yet, the
    person is sent to set it up (allauth first asks to confirm the password); with one,
    a session that skipped it is signed out. Staff sessions also end after
    `STAFF_IDLE_TIMEOUT` seconds without a request (shared desk computers).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(_ALWAYS_OPEN):
            return self.get_response(request)
        if not roles.requires_second_factor(user):
            return self.get_response(request)

        now = time.time()
        last_seen = request.session.get(LAST_SEEN_KEY)
        if last_seen is not None and now - last_seen > settings.STAFF_IDLE_TIMEOUT:
            return _to_login(request, _("You were signed out after a while without activity. Sign in again."))
        if last_seen is None or now - last_seen >= _LAST_SEEN_RESOLUTION:
            request.session[LAST_SEEN_KEY] = now

        if second_factor.passed(request):
            return self.get_response(request)
        if second_factor.has_totp(user) or second_factor.tried(request):
            # Signed in without the code, or with a factor since reset: sign in again.
            return _to_login(request, _("Sign in again with your code."))
        if request.path.startswith(_SET_UP_PATHS):
            return self.get_response(request)
        return redirect("mfa_activate_totp")
