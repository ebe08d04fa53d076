"""The vendors' pages: the web terminal, the dashboard, and the public application form.
Thin: forms in, vendors.payments / vendors.services called, templates out."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kernel import csv as kernel_csv
from kernel.banking import compact
from kernel.money import format_cents, parse_euros

from . import payments, selectors, services, settlements
from .models import ApiKey, Purchase, Vendor, VendorStaff


def vendor_staff_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        staff = VendorStaff.objects.select_related("vendor").filter(user=request.user).first()
        if staff is None:
            raise PermissionDenied
        request.vendor = staff.vendor
        return view(request, *args, **kwargs)

    return wrapper


def _today_purchases(vendor: Vendor):
    start = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    return Purchase.objects.filter(vendor=vendor, created_at__gte=start).order_by("-id")


def _till_label(request) -> str:
    return f"web:{request.user.get_username()}"[:64]


def _typed_amount(raw: str) -> int | None:
    """The amount typed at the terminal in cents; None when it is not one (kernel.money.parse_euros)."""
    try:
        return parse_euros(raw)
    except ValidationError:
        return None


# --- Terminal --------------------------------------------------------------------------

NEUTRAL_DECLINE = gettext_lazy("You can check your code or your balance on your space.")


@vendor_staff_required
def terminal(request):
    today = list(_today_purchases(request.vendor)[:50])
    for purchase in today:
        purchase.refund_key = uuid.uuid4().hex  # one per form shown: a double submit refunds once
    return render(request, "vendors/terminal.html", {"vendor": request.vendor, "today": today})


@require_POST
@vendor_staff_required
def terminal_pay(request):
    """The terminal's JSON endpoint; the same service as the API."""
    amount = _typed_amount(request.POST.get("amount", ""))
    partial = request.POST.get("partial") == "1"
    refused = _("The payment has not gone through.")
    if amount is None:
        return JsonResponse({"ok": False, "headline": refused, "reason": _("Type the amount in euros, e.g. 12,50.")})
    try:
        outcome = payments.capture(
            vendor=request.vendor, idempotency_key=request.POST.get("idempotency_key", ""),
            card=request.POST.get("card", ""), pin=request.POST.get("pin", ""), amount=amount,
            reference=request.POST.get("reference", "")[:255], partial=partial, till=_till_label(request),
        )
    except payments.Declined as error:
        # One text for every refusal, read aloud to the queue if need be: the reason goes
        # to the member's space (members.notices.notify_declined), never to this screen.
        return JsonResponse({
            "ok": False, "headline": refused, "reason": NEUTRAL_DECLINE,
            # Offered at once, without the member typing the PIN again (the page keeps it).
            "offer_partial": error.code == "insufficient_funds" and not partial,
        })
    except payments.PaymentError as error:  # the shop's own request or state, not the member's
        return JsonResponse({"ok": False, "headline": refused, "reason": str(error.message), "offer_partial": False})
    body = outcome.body
    paid, rest = body["amount"], body["requested"] - body["amount"]
    if rest:
        detail = _("%(paid)s paid by the fund, %(rest)s left to pay") % {
            "paid": format_cents(paid), "rest": format_cents(rest)}
    else:
        detail = _("%(paid)s paid by the fund") % {"paid": format_cents(paid)}
    return JsonResponse({"ok": True, "headline": _("Payment accepted"), "detail": detail,
                         "last4": body["card_last4"], "id": body["id"]})


@require_POST
@vendor_staff_required
def terminal_refund(request, purchase_id: int):
    get_object_or_404(_today_purchases(request.vendor), pk=purchase_id)  # today's, this vendor's only
    amount = _typed_amount(request.POST.get("amount", ""))
    try:
        if amount is None:
            raise payments.InvalidRequest(_("Type the amount in euros, e.g. 12,50."))
        payments.refund(vendor=request.vendor, purchase_id=purchase_id,
                        idempotency_key=request.POST.get("idempotency_key", ""), amount=amount,
                        reason=request.POST.get("reason", "")[:255])
    except payments.PaymentError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Refunded: %(amount)s.") % {"amount": format_cents(amount)})
    return redirect("vendors:terminal")


# --- Dashboard -------------------------------------------------------------------------


@vendor_staff_required
def dashboard(request):
    vendor, new_key = request.vendor, None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create_key":
            api_key, new_key = services.create_api_key(vendor, label=request.POST.get("label", ""), by=request.user)
        elif action == "revoke_key":
            services.revoke_api_key(get_object_or_404(ApiKey, pk=request.POST.get("key"), vendor=vendor))
            messages.success(request, _("The key is revoked: the till using it can no longer take payments."))
            return redirect("vendors:dashboard")
        elif action == "pause":
            try:
                services.pause_or_resume(vendor, by=request.user, reason=request.POST.get("reason", ""))
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            return redirect("vendors:dashboard")
    today = _today_purchases(vendor)
    summary = selectors.vendor_summary(vendor)
    return render(request, "vendors/dashboard.html", {
        "vendor": vendor,
        "today": today[:100],
        "per_till": today.values("till").annotate(count=Count("id"), total=Sum("amount"), refunded=Sum("refunded"))
        .order_by("till"),
        "owed": summary["owed"],
        "settlements": settlements.vendor_settlements(vendor),
        "keys": vendor.api_keys.all(),
        "new_key": new_key,
    })


# --- Statements -------------------------------------------------------------------------


@vendor_staff_required
def statement(request, number: str):
    """A settlement's statement, printable; a vendor sees only its own (404 otherwise)."""
    settlement = get_object_or_404(request.vendor.settlements.select_related("vendor", "run"), number=number)
    return render(request, "vendors/statement.html", {
        "vendor": request.vendor, "settlement": settlement,
        "purchases": settlements.statement_purchases(settlement)[:2000],
    })


@vendor_staff_required
def statement_csv(request, number: str):
    settlement = get_object_or_404(request.vendor.settlements.select_related("vendor"), number=number)
    response = HttpResponse(settlements.statement_csv(settlement), content_type=kernel_csv.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="releve-{settlement.number}.csv"'
    return response


# --- Applying ---------------------------------------------------------------------------


class ApplicationForm(forms.ModelForm):
    class Meta:
        model = Vendor
        fields = ["display_name", "legal_name", "kind", "address", "district", "opening_hours", "siret", "rna",
                  "iban", "bic", "contact_name", "contact_email", "contact_phone"]
        widgets = {"opening_hours": forms.Textarea(attrs={"rows": 3})}

    charter = forms.BooleanField(label=gettext_lazy("I have read the fund's charter and agree to it"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # People type these with spaces; they are stored compact (see clean_<field>).
        for name in ("siret", "rna", "iban", "bic"):
            self.fields[name].max_length = 64
            self.fields[name].widget.attrs["maxlength"] = 64
            self.fields[name].validators = []

    def _compact(self, name):
        return compact(self.cleaned_data.get(name, ""))

    def clean_siret(self):
        return self._compact("siret")

    def clean_rna(self):
        return self._compact("rna")

    def clean_iban(self):
        return self._compact("iban")

    def clean_bic(self):
        return self._compact("bic")

    def clean(self):
        data = super().clean()
        if not data.get("siret") and not data.get("rna"):
            raise ValidationError(_("Give the SIRET number, or for an association its RNA number."))
        return data


def apply(request):
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = {name: value for name, value in form.cleaned_data.items() if name != "charter"}
        services.apply(charter_signed_on=timezone.localdate(), charter_version=services.CHARTER_VERSION, **fields)
        return render(request, "vendors/applied.html")
    return render(request, "vendors/apply.html", {"form": form})
