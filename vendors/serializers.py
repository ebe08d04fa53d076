"""The shapes of the API (requests and responses), for validation and for the OpenAPI
schema. Strict types: a till that sends "12.50" or "true" as a string is told so."""

from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

MESSAGES = {
    "required": _("This field is required."),
    "null": _("This field may not be null."),
}


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            raise serializers.ValidationError(_("A whole number of cents is expected."), code="invalid")
        return data


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise serializers.ValidationError(_("true or false is expected."), code="invalid")
        return data


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(_("A string is expected."), code="invalid")
        return super().to_internal_value(data)


class _NoUnknownFields(serializers.Serializer):
    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({unknown[0]: [_("Unknown field.")]})
        return attrs


def _valid_char(field: StrictCharField, value) -> str | None:
    if not isinstance(value, str) or "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
        return None
    value = value.strip() if field.trim_whitespace else value
    if (value == "" and not field.allow_blank) or (field.max_length is not None and len(value) > field.max_length):
        return None
    return value


# The validators DRF gives a CharField, which _valid_char applies itself.
_CHECKED_BY_ACCEPTS = {MaxLengthValidator, ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator}
_ACCEPTS = {
    StrictCharField: _valid_char,
    StrictIntegerField: lambda field, value: value if isinstance(value, int) and not isinstance(value, bool) else None,
    StrictBooleanField: lambda field, value: value if isinstance(value, bool) else None,
}


def validated_if_plainly_valid(serializer_class: type[_NoUnknownFields], data) -> dict | None:
    """What `serializer_class(data=data)` would validate, computed from its declared
    fields without building the serializer; None when the data is not plainly valid, and
    the serializer must then say what is wrong.

    Every payment's body goes through here: building a DRF serializer deep-copies its
    fields, a tenth of a payment's CPU. Only the strict fields above are understood; a
    serializer with any other field, or a validate() of its own, is never short-cut.
    tests/test_api.py checks on generated bodies that this never accepts what the
    serializer refuses, nor returns anything else than it.
    """
    if not isinstance(data, dict) or serializer_class.validate is not _NoUnknownFields.validate:
        return None
    fields = serializer_class._declared_fields
    if not data.keys() <= fields.keys():
        return None
    validated = {}
    for name, field in fields.items():
        accept = _ACCEPTS.get(type(field))
        if accept is None or not all(type(check) in _CHECKED_BY_ACCEPTS for check in field.validators):
            return None
        if name not in data:
            if field.required or field.default is serializers.empty:
                return None
            validated[name] = field.default
            continue
        value = accept(field, data[name])
        if value is None:
            return None
        validated[name] = value
    return validated


class PurchaseRequest(_NoUnknownFields):
    card = StrictCharField(max_length=255, help_text="The card number (digits, spaces allowed) or the QR token.",
                           error_messages=MESSAGES)
    pin = StrictCharField(max_length=16, help_text="The 4-digit PIN the member typed.", error_messages=MESSAGES)
    amount = StrictIntegerField(help_text="Amount asked, in cents (> 0, at most the fund's maximum).",
                                error_messages=MESSAGES)
    reference = StrictCharField(max_length=255, required=False, allow_blank=True, default="",
                                help_text="The till's own reference (receipt number).")
    partial = StrictBooleanField(required=False, default=False,
                                 help_text="Capture what the wallet holds when it is short (the rest paid otherwise).")


class RefundRequest(_NoUnknownFields):
    amount = StrictIntegerField(help_text="Amount to give back, in cents.", error_messages=MESSAGES)
    reason = StrictCharField(max_length=255, required=False, allow_blank=True, default="")


class PurchaseResponse(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["captured", "partially_refunded", "refunded"])
    amount = serializers.IntegerField(help_text="Captured, in cents (less than requested after a partial capture).")
    requested = serializers.IntegerField()
    reference = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    refunded = serializers.IntegerField()
    card_last4 = serializers.CharField(
        max_length=4, allow_blank=True,
        help_text="The card's last 4 digits; empty when the member paid from their own phone (payment requests).")


class PaymentRequestCreate(_NoUnknownFields):
    amount = StrictIntegerField(help_text="Amount asked, in cents (> 0, at most the fund's maximum).",
                                error_messages=MESSAGES)
    reference = StrictCharField(max_length=255, required=False, allow_blank=True, default="",
                                help_text="The till's own reference (receipt number).")


class PaymentRequestResponse(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["pending", "paid", "expired", "cancelled"])
    amount = serializers.IntegerField(help_text="Asked, in cents.")
    reference = serializers.CharField(allow_blank=True)
    code = serializers.CharField(help_text="The short code the member may type in their portal instead of scanning.")
    qr_url = serializers.URLField(help_text="The address to show as a QR code: the member's phone opens it.")
    expires_at = serializers.DateTimeField(help_text="After this (at most 3 minutes), the request is refused.")
    purchase = PurchaseResponse(allow_null=True, help_text="The purchase, once paid (as the purchases API returns it).")


class PurchaseList(serializers.Serializer):
    data = PurchaseResponse(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class RefundResponse(serializers.Serializer):
    id = serializers.IntegerField()
    purchase = serializers.IntegerField()
    amount = serializers.IntegerField()
    reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class Reimbursement(serializers.Serializer):
    amount = serializers.IntegerField()
    at = serializers.DateTimeField()


class VendorResponse(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["applied", "under_review", "approved", "paused", "suspended", "revoked"])
    owed = serializers.IntegerField(help_text="What the fund owes this vendor, in cents (negative after refunds "
                                              "made since its last reimbursement).")
    last_reimbursement = Reimbursement(allow_null=True)


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, e.g. insufficient_funds, invalid_pin, card_blocked, unknown_card, "
                                           "limit_exceeded, invalid_request, vendor_not_approved, unauthenticated, "
                                           "idempotency_key_reused, request_in_progress, refund_exceeds_captured, "
                                           "rate_limited, not_found.")
    message = serializers.CharField(help_text="For people, in the request's Accept-Language (French by default).")
    param = serializers.CharField(allow_null=True, help_text="The parameter at fault, if any.")


class Error(serializers.Serializer):
    error = ErrorDetail()
