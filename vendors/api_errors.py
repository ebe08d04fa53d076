"""Every error of the API is `{"error": {"code", "message", "param"}}`, in the request's
language, with the right status; no error path answers HTML or a bare 500 page."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.response import Response

from kernel.errors import DomainError

logger = logging.getLogger(__name__)


def error_body(code: str, message, param: str | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "param": param}}


def _first_validation_error(detail) -> tuple[str | None, str]:
    """(param, message) of the first field error of a DRF ValidationError."""
    if isinstance(detail, dict):
        for field, errors in detail.items():
            param, message = _first_validation_error(errors)
            if field == "non_field_errors":
                return param, message
            return (field if param is None else f"{field}.{param}"), message
    if isinstance(detail, list) and detail:
        return _first_validation_error(detail[0])
    return None, str(detail)


def exception_handler(exc, context):
    headers = {}
    if isinstance(exc, DomainError):  # payments.PaymentError and every other refusal of the domain
        return Response(error_body(exc.code, exc.message, getattr(exc, "param", None)), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        status, body = 401, error_body("unauthenticated", _("A valid API key is required: Authorization: Bearer <key>."))
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    elif isinstance(exc, exceptions.ValidationError):
        param, message = _first_validation_error(exc.detail)
        status, body = 400, error_body("invalid_request", message, param)
    elif isinstance(exc, exceptions.ParseError):
        status, body = 400, error_body("invalid_request", _("The body is not valid JSON."))
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        status, body = 415, error_body("unsupported_media_type", _("Send the body as application/json."))
    elif isinstance(exc, exceptions.NotAcceptable):
        status, body = 406, error_body("not_acceptable", _("This API answers in application/json only."))
    elif isinstance(exc, exceptions.MethodNotAllowed):
        status, body = 405, error_body("method_not_allowed", _("This method is not allowed here."))
    elif isinstance(exc, exceptions.NotFound):
        status, body = 404, error_body("not_found", _("Nothing here."))
    elif isinstance(exc, exceptions.Throttled):
        wait = max(1, int(exc.wait or 1))
        status, body = 429, error_body("rate_limited", _("Too many requests for this key. Retry in %(seconds)s s.")
                                       % {"seconds": wait})
        headers["Retry-After"] = str(wait)
    elif isinstance(exc, exceptions.PermissionDenied):
        status, body = 403, error_body(getattr(exc, "default_code", "forbidden") or "forbidden", exc.detail)
    elif isinstance(exc, exceptions.APIException):
        status, body = exc.status_code, error_body(exc.default_code, exc.detail)
    elif isinstance(exc, RecursionError):
        status, body = 400, error_body("invalid_request", _("The body is nested too deeply."))
    elif isinstance(exc, DataError):
        # A value PostgreSQL cannot hold: from the request (what the code writes fits its columns).
        status, body = 400, error_body("invalid_request", _("A number or an identifier in the request is out of range or not valid."))
    elif isinstance(exc, RedisError):
        # The rate limit is counted in Redis before anything else: without it, no payment.
        logger.warning("Redis unavailable during an API request: %s", exc)
        status, body = 503, error_body("service_unavailable", _("The service is briefly unavailable. Retry in a moment."))
        headers["Retry-After"] = "5"
    elif isinstance(exc, (OperationalError, InterfaceError)):
        # The database went away mid-request (a restart, a fail-over): nothing was
        # written, and a retry under the same Idempotency-Key is safe.
        logger.warning("database unavailable during an API request: %s", exc)
        status, body = 503, error_body("service_unavailable", _("The service is briefly unavailable. Retry in a moment."))
        headers["Retry-After"] = "1"
    else:
        logger.exception("unexpected error in the API")
        status, body = 500, error_body("internal_error", _("Something went wrong on our side. Retry later."))
    return Response(body, status=status, headers=headers)


@csrf_exempt  # no cookie reaches the API: a POST to an unknown address is a 404, not a CSRF page
def not_found(request, *args, **kwargs):
    """Anything under /api/v1/ that no route matches: still JSON."""
    return JsonResponse(error_body("not_found", _("Nothing here.")), status=404)
