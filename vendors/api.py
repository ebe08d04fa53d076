"""REST API v1 for tills: thin views over vendors.payments and vendors.selectors."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from kernel import ratelimit
from kernel.db import model_order, prepared_cursor
from members import cards

from . import payment_requests, payments, selectors, serializers
from .api_errors import exception_handler
from .models import ApiKey, IdempotencyRecord, PaymentRequest, Vendor
from .services import hash_key

# --- Authentication, permission, rate limit --------------------------------------------


class Till:
    """Who is calling: one till of one vendor, by its API key."""

    is_authenticated = True

    def __init__(self, api_key: ApiKey, known_record=payments.LOOK_IT_UP, known_card: cards.Lookup | None = None):
        self.api_key = api_key
        self.vendor: Vendor = api_key.vendor
        # The record of this request's Idempotency-Key, read with the key (payments.RECORD_COLUMNS).
        self.known_record = known_record
        # For a payment, the card its body names, read with the key too (cards.find_card_statement).
        self.known_card = known_card


_KEY_FIELDS = model_order(ApiKey, "id", "vendor_id", "label", "prefix")
_VENDOR_FIELDS = model_order(Vendor, "id", "slug", "display_name", "status", "account_id")
# The vendor comes in the same query, read on every request, so that a suspension or a
# revoked key takes effect from the next one; and, for a POST, what the request's
# Idempotency-Key already answered (the look every payment makes before anything else);
# and for a payment, the card its body names: a payment then makes three statements, this
# one, the PIN's try and the payment itself. Hand-written: every payment starts here.
_KEY_SQL = f"""
    SELECT {", ".join(f"k.{name}" for name in _KEY_FIELDS)}, {", ".join(f"v.{name}" for name in _VENDOR_FIELDS)},
           {", ".join(f"r.{name}" for name in payments.RECORD_COLUMNS)}{{card_columns}}
    FROM {ApiKey._meta.db_table} k JOIN {Vendor._meta.db_table} v ON v.id = k.vendor_id
    LEFT JOIN {IdempotencyRecord._meta.db_table} r ON r.vendor_id = k.vendor_id AND r.key = %s{{card_join}}
    WHERE k.key_hash = %s AND k.revoked_at IS NULL
"""
_KEY_STATEMENTS = {
    None: _KEY_SQL.format(card_columns="", card_join=""),
    **{column: _KEY_SQL.format(card_columns=", card.*",
                               card_join=f"\n    LEFT JOIN LATERAL ({cards.find_card_statement(column)}) card ON TRUE")
       for column in ("number", "qr_token")},
}


def key_of_till(key_hash: str, idempotency_key: str | None = None,
                card: cards.Lookup | None = None) -> tuple[ApiKey | None, tuple | None, cards.Lookup | None]:
    """The till's key with its vendor, the record of `idempotency_key` (None if none) and,
    when `card` says where to look, the card found there (in the Lookup returned)."""
    params = [idempotency_key, key_hash] if card is None else [idempotency_key, card.value, key_hash]
    with prepared_cursor() as cursor:
        cursor.execute(_KEY_STATEMENTS[None if card is None else card.column], params)
        row = cursor.fetchone()
    if row is None:
        return None, None, None
    vendor_end = len(_KEY_FIELDS) + len(_VENDOR_FIELDS)
    record_end = vendor_end + len(payments.RECORD_COLUMNS)
    api_key = ApiKey.from_db(connection.alias, _KEY_FIELDS, row[: len(_KEY_FIELDS)])
    api_key.vendor = Vendor.from_db(connection.alias, _VENDOR_FIELDS, row[len(_KEY_FIELDS) : vendor_end])
    record = row[vendor_end:record_end]
    found = None if card is None else dataclasses.replace(card, card=cards.card_from_row(row[record_end:]))
    return api_key, (None if record[0] is None else record), found


def _usable_idempotency_key(request) -> str | None:
    if request.method != "POST":
        return None
    try:
        return payments.validate_key(request.headers.get("Idempotency-Key"))
    except payments.InvalidRequest:
        return None  # the view says what is wrong with it


def _card_to_read(request) -> cards.Lookup | None:
    """Where the card a payment's plain JSON body names is to be looked for, for the views
    that take payments (`reads_card`); None for anything else, which then goes its usual way."""
    view = request.parser_context.get("view")
    if request.method != "POST" or not getattr(view, "reads_card", False):
        return None
    body = _plain_json_body(request)
    return cards.lookup(body.get("card")) if isinstance(body, dict) else None


class BearerKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _sep, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise exceptions.AuthenticationFailed()
        idempotency_key = _usable_idempotency_key(request)
        api_key, record, card = key_of_till(hash_key(key.strip()), idempotency_key, _card_to_read(request))
        if api_key is None:
            raise exceptions.AuthenticationFailed()
        return Till(api_key, payments.LOOK_IT_UP if idempotency_key is None else record, card), api_key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = BearerKeyAuthentication
    name = "tillKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "One API key per till (Authorization: Bearer <key>)."}


class IsTill(BasePermission):
    def has_permission(self, request, view):
        if not isinstance(request.user, Till):
            raise exceptions.NotAuthenticated()
        return True


class PerKeyRate(BaseThrottle):
    """A fixed one-minute window per key, counted in Django's cache (Redis in production)
    so that every gunicorn worker shares it."""

    def allow_request(self, request, view):
        till = request.user
        if not isinstance(till, Till):
            return True
        limit = settings.CAISSE_API_RATE_PER_MINUTE
        now = time.time()
        window = int(now // 60)
        key = f"api-rate:{till.api_key.pk}:{window}"
        count = ratelimit.hit(key, expire=120)
        self._wait = 60 - (now % 60)
        return count <= limit

    def wait(self):
        return self._wait


# --- Views -----------------------------------------------------------------------------

ERRORS = {
    status: OpenApiResponse(serializers.Error, description=description)
    for status, description in {
        400: "invalid_request (param names the field), refund_exceeds_captured",
        401: "unauthenticated: missing, unknown or revoked key",
        402: "declined: insufficient_funds, invalid_pin, card_blocked, unknown_card, limit_exceeded",
        403: "vendor_not_approved",
        404: "not_found (another vendor's purchase is not found either)",
        405: "method_not_allowed",
        406: "not_acceptable",
        409: "idempotency_key_reused, request_in_progress; for a payment request: payment_request_expired, "
             "payment_request_cancelled, payment_request_already_paid",
        415: "unsupported_media_type",
        429: "rate_limited (see Retry-After)",
        503: "service_unavailable: the database went away mid-request; retry under the same Idempotency-Key",
    }.items()
}


def _errors(*statuses):
    return {status: ERRORS[status] for status in (401, 405, 406, 429, 503, *statuses)}


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
    description="1 to 255 characters, unique per sale attempt and per vendor. A retry with the same key and body "
                "gets the first answer again; money moves once.",
)


class TillAPIView(APIView):
    authentication_classes = [BearerKeyAuthentication]
    permission_classes = [IsTill]
    throttle_classes = [PerKeyRate]

    def get_exception_handler(self):
        return exception_handler

    @property
    def vendor(self) -> Vendor:
        return self.request.user.vendor

    def check_approved(self):
        # Money moves only for an approved vendor; reads stay open to a paused or
        # suspended one (what the fund owes it does not stop mattering).
        if not self.vendor.takes_payments:
            raise payments.VendorNotApproved()

    def parse(self, serializer_class):
        plainly_valid = serializers.validated_if_plainly_valid(serializer_class, _plain_json_body(self.request))
        if plainly_valid is not None:
            return plainly_valid
        # Anything else goes the whole DRF way, which names what is wrong.
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @staticmethod
    def answer(outcome: payments.Outcome) -> Response:
        return Response(outcome.body, status=outcome.status)


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")  # as DRF's strict JSON parser


_NOT_READ = object()


def _plain_json_body(request):
    """The body of a UTF-8 JSON request, decoded as DRF's parser would; None when it is
    anything less plain (DRF's parser then answers). Decoded once per request: a payment
    reads it for its card (`_card_to_read`) and then for its fields."""
    django_request = request._request
    body = getattr(django_request, "_caisse_plain_json", _NOT_READ)
    if body is _NOT_READ:
        body = django_request._caisse_plain_json = _decode_plain_json(django_request)
    return body


def _decode_plain_json(django_request):
    if django_request.content_type != "application/json" or django_request.content_params.get(
            "charset", "utf-8").lower() not in ("utf-8", "utf8"):
        return None
    try:
        return json.loads(django_request.body.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError, RequestDataTooBig):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None


def _encode_cursor(purchase_id: int) -> str:
    return base64.urlsafe_b64encode(str(purchase_id).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        value = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise payments.InvalidRequest(_("This cursor is not valid."), param="cursor")
    if value <= 0:
        raise payments.InvalidRequest(_("This cursor is not valid."), param="cursor")
    return value


def _datetime(request, name):
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise payments.InvalidRequest(_("An ISO 8601 date and time with its offset is expected."), param=name)
    return value


class PurchasesView(TillAPIView):
    reads_card = True  # a payment's card is read with the till's key (key_of_till)

    @extend_schema(
        operation_id="purchases_list", summary="This vendor's purchases, newest first",
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 100 (default 20)"),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="next_cursor of the previous page"),
            OpenApiParameter("created_after", OpenApiTypes.DATETIME),
            OpenApiParameter("created_before", OpenApiTypes.DATETIME),
            OpenApiParameter("till", OpenApiTypes.STR, description="the till's label"),
        ],
        responses={200: serializers.PurchaseList, **_errors(400)},
    )
    def get(self, request):
        raw_limit = request.query_params.get("limit", "20")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
            raise payments.InvalidRequest(_("limit is a whole number from 1 to 100."), param="limit")
        cursor = request.query_params.get("cursor")
        page, more = selectors.purchases_page(
            self.vendor, limit=int(raw_limit), before_id=_decode_cursor(cursor) if cursor else None,
            created_after=_datetime(request, "created_after"), created_before=_datetime(request, "created_before"),
            till=request.query_params.get("till"),
        )
        return Response({
            "data": [payments.purchase_body(purchase) for purchase in page],
            "next_cursor": _encode_cursor(page[-1].pk) if more else None,
        })

    @extend_schema(
        operation_id="purchases_create", summary="Take a payment",
        parameters=[IDEMPOTENCY_KEY], request=serializers.PurchaseRequest,
        responses={201: serializers.PurchaseResponse, **_errors(400, 402, 403, 409, 415)},
    )
    def post(self, request):
        self.check_approved()
        key = request.headers.get("Idempotency-Key")
        payments.validate_key(key)
        data = self.parse(serializers.PurchaseRequest)
        return self.answer(payments.capture(vendor=self.vendor, idempotency_key=key, till=request.user.api_key.label,
                                            known_record=request.user.known_record,
                                            known_card=request.user.known_card, **data))


def _purchase_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise payments.NotFound()
    return int(raw)


class PurchaseView(TillAPIView):
    @extend_schema(operation_id="purchases_retrieve", summary="One of this vendor's purchases",
                   responses={200: serializers.PurchaseResponse, **_errors(404)})
    def get(self, request, purchase_id: str):
        purchase = selectors.vendor_purchase(self.vendor, _purchase_id(purchase_id))
        if purchase is None:
            raise payments.NotFound()
        return Response(payments.purchase_body(purchase))


class RefundsView(TillAPIView):
    @extend_schema(
        operation_id="refunds_create", summary="Refund all or part of a purchase",
        parameters=[IDEMPOTENCY_KEY], request=serializers.RefundRequest,
        responses={201: serializers.RefundResponse, **_errors(400, 403, 404, 409, 415)},
    )
    def post(self, request, purchase_id: str):
        self.check_approved()
        key = request.headers.get("Idempotency-Key")
        payments.validate_key(key)
        purchase_pk = _purchase_id(purchase_id)
        data = self.parse(serializers.RefundRequest)
        return self.answer(payments.refund(vendor=self.vendor, purchase_id=purchase_pk, idempotency_key=key,
                                           known_record=request.user.known_record, **data))


class VendorView(TillAPIView):
    @extend_schema(operation_id="vendor_retrieve", summary="This vendor: status, what the fund owes it",
                   responses={200: serializers.VendorResponse, **_errors()})
    def get(self, request):
        return Response(selectors.vendor_summary(self.vendor))


# --- Payment requests: the member pays on their own phone (vendors.payment_requests) ------


def payment_request_body(request, payment_request: PaymentRequest) -> dict:
    """What a till sees of its request: never who paid, nor the card."""
    return {
        "id": payment_request.pk,
        "status": payment_request_status(payment_request),
        "amount": payment_request.amount,
        "reference": payment_request.reference,
        "code": payment_request.code,
        "qr_url": request.build_absolute_uri(reverse("phone:pay", args=[payment_request.code])),
        "expires_at": payments.iso(payment_request.expires_at),
        "purchase": payments.purchase_body(payment_request.purchase) if payment_request.purchase_id else None,
    }


def payment_request_status(payment_request: PaymentRequest) -> str:
    return payment_requests.status_of(payment_request)


def _payment_request_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise payment_requests.RequestNotFound()
    return int(raw)


class PaymentRequestsView(TillAPIView):
    @extend_schema(
        operation_id="payment_requests_create", summary="Ask the member to pay on their own phone",
        description="Returns a short code and the address to show as a QR code. The member confirms on their own "
                    "phone (their PIN typed there above the fund's amount); poll the request until it is paid. "
                    "It expires after at most 3 minutes.",
        parameters=[IDEMPOTENCY_KEY], request=serializers.PaymentRequestCreate,
        responses={201: serializers.PaymentRequestResponse, **_errors(400, 403, 409, 415)},
    )
    def post(self, request):
        self.check_approved()
        key = request.headers.get("Idempotency-Key")
        payments.validate_key(key)
        data = self.parse(serializers.PaymentRequestCreate)
        payment_request, _replayed = payment_requests.create_request(
            vendor=self.vendor, idempotency_key=key, till=request.user.api_key.label,
            known_record=request.user.known_record, **data)
        return Response(payment_request_body(request, payment_request), status=201)


class PaymentRequestView(TillAPIView):
    @extend_schema(operation_id="payment_requests_retrieve", summary="One of this vendor's payment requests",
                   responses={200: serializers.PaymentRequestResponse, **_errors(404)})
    def get(self, request, request_id: str):
        payment_request = payment_requests.vendor_request(self.vendor, _payment_request_id(request_id))
        return Response(payment_request_body(request, payment_request))


class PaymentRequestCancelView(TillAPIView):
    @extend_schema(operation_id="payment_requests_cancel", summary="Cancel a pending payment request",
                   request=None, responses={200: serializers.PaymentRequestResponse, **_errors(404, 409)})
    def post(self, request, request_id: str):
        payment_request = payment_requests.cancel_request(vendor=self.vendor,
                                                          request_id=_payment_request_id(request_id))
        return Response(payment_request_body(request, payment_request))
