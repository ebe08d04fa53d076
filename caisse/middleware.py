"""Django's session, login and message middleware, left out of the tills' API.

A till authenticates with its Bearer key on every request and has no session, no login
and no messages; these three did work on each payment for nothing. Everything else
(security headers, language, CSRF, clickjacking) still runs on /api/.
"""

import logging

from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from kernel.web import API_PREFIX

logger = logging.getLogger(__name__)


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


# --- No 5xx from input (issue 17) -------------------------------------------------------

# The methods a browser or a till sends; anything else under /api/ is answered 405 in
# JSON before the CSRF check could answer it with an HTML page.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Above this many bytes, a body that is not a file upload is refused (413) before it is
# read; file uploads (CSV imports) may be larger, up to MAX_UPLOAD_BYTES.
_FORM_TYPES = ("multipart/form-data",)


def _is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _plain_page(status: int, title: str, text: str) -> HttpResponse:
    # No template, no context processor, no database: this page is also the answer when
    # Redis or the database is down.
    body = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            f"<body><main><h1>{escape(title)}</h1><p>{escape(text)}</p>"
            f'<p><a href="/">{escape(_("Home page"))}</a></p></main></body></html>')
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def refuse(request, status: int, code: str, message, retry_after: int | None = None) -> HttpResponse:
    """A 4xx or 503 for input (or a service) at fault: JSON under /api/, a plain page elsewhere."""
    if _is_api(request):
        response: HttpResponse = JsonResponse({"error": {"code": code, "message": str(message), "param": None}},
                                              status=status)
    else:
        title = _("Please try again in a moment") if status == 503 else _("This request cannot be processed")
        response = _plain_page(status, str(title), str(message))
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _has_nul(value: str) -> bool:
    return "\x00" in value


class BadInputMiddleware:
    """Input that no page or endpoint should ever see reaches none: a 400 (413 for a body
    over the limit) with a message that says what is wrong, instead of a 500 from deep
    inside (PostgreSQL refuses NUL bytes in text; a number past bigint; JSON nested
    50 000 deep). And Redis down answers 503 `service_unavailable`, never a 500 and never
    a payment without its rate limit (the limit is counted first, in Redis).

    Placed right after SecurityMiddleware: it covers every URL, the API's new endpoints
    included, without any of them having to ask.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = self._check(request)
        if refused is not None:
            return refused
        return self.get_response(request)

    def _check(self, request) -> HttpResponse | None:
        api = _is_api(request)
        if api and request.method not in _KNOWN_METHODS:
            return refuse(request, 405, "method_not_allowed", _("This method is not allowed here."))
        if _has_nul(request.path_info) or _has_nul(request.META.get("QUERY_STRING", "")) or "%00" in request.META.get(
                "QUERY_STRING", ""):
            return refuse(request, 400, "invalid_request", _("The address contains a NUL character (%00), which is never valid."))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return refuse(request, 400, "invalid_request", _("The Content-Length header is not a number."))
        upload = request.content_type in _FORM_TYPES
        limit = settings.MAX_UPLOAD_BYTES if upload else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return self._too_big(request, limit)
        if request.method in ("GET", "HEAD", "OPTIONS") or not length and not request.META.get("HTTP_TRANSFER_ENCODING"):
            return None
        try:
            if request.content_type in ("application/x-www-form-urlencoded", *_FORM_TYPES):
                fields = [text for name, values in request.POST.lists() for text in (name, *values)]
                if any(_has_nul(value) for value in fields):
                    return refuse(request, 400, "invalid_request", _("A field contains a NUL character, which is never valid."))
            elif api and (b"\x00" in request.body or b"\\u0000" in request.body):
                return refuse(request, 400, "invalid_request", _("The body contains a NUL character, which is never valid."))
        except RequestDataTooBig:
            return self._too_big(request, limit)
        return None

    @staticmethod
    def _too_big(request, limit: int) -> HttpResponse:
        return refuse(request, 413, "request_too_large",
                      _("The request is too large: at most %(size)s kB.") % {"size": limit // 1024})

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return self._too_big(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if isinstance(exception, RecursionError):
            return refuse(request, 400, "invalid_request", _("The body is nested too deeply."))
        if isinstance(exception, DataError):
            # A value PostgreSQL cannot hold (a number past its range, a malformed one):
            # from the request, since what the code writes itself fits its columns.
            return refuse(request, 400, "invalid_request", _("A number or an identifier in the request is out of range or not valid."))
        if isinstance(exception, RedisError):
            logger.warning("Redis unavailable: %s", exception)
            return refuse(request, 503, "service_unavailable", _("The service is briefly unavailable. Please try again in a moment."),
                          retry_after=5)
        return None


class CSPMiddleware(DjangoCSPMiddleware):
    """django-csp's middleware, which builds the whole policy (twice, with the report-only
    one) before it looks at EXCLUDE_URL_PREFIXES: skipped outright on those paths, the
    tills' JSON answers, so that a payment does not pay for a header it does not get."""

    def __init__(self, get_response):
        super().__init__(get_response)
        self.excluded = tuple(settings.CONTENT_SECURITY_POLICY.get("EXCLUDE_URL_PREFIXES", ()))

    def process_response(self, request, response):
        if request.path_info.startswith(self.excluded):
            return response
        return super().process_response(request, response)


class PermissionsPolicyMiddleware:
    """The Permissions-Policy header from settings.PERMISSIONS_POLICY (Django has none)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(f"{feature}={allow}" for feature, allow in settings.PERMISSIONS_POLICY.items())

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response
