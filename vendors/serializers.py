"""The shapes of the API (requests and responses), for validation and for the OpenAPI
schema. Strict types: a till that sends "12.50" or "true" as a string is told so."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

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
    card_last4 = serializers.CharField(min_length=4, max_length=4)


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
