"""Django's session, login and message middleware, left out of the tills' API.

A till authenticates with its Bearer key on every request and has no session, no login
and no messages; these three did work on each payment for nothing. Everything else
(security headers, language, CSRF, clickjacking) still runs on /api/.
"""

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware

from kernel.web import API_PREFIX


class _NotForTheAPI:
    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_NotForTheAPI, DjangoSessionMiddleware):
    pass


class AuthenticationMiddleware(_NotForTheAPI, DjangoAuthenticationMiddleware):
    pass


class MessageMiddleware(_NotForTheAPI, DjangoMessageMiddleware):
    pass


class PermissionsPolicyMiddleware:
    """The Permissions-Policy header from settings.PERMISSIONS_POLICY (Django has none)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(f"{feature}={allow}" for feature, allow in settings.PERMISSIONS_POLICY.items())

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response
