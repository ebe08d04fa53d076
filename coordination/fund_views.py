"""The fund's settings page: name, unit, collection day, the caps and thresholds (in
euros; changed at once, audited), the bank account (changed under four eyes). Thin:
allocations.fund does it. Bad input: the page again, with its errors, HTTP 400."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from allocations import fund
from allocations.models import CAP_LIMIT_CENTS
from kernel.errors import DomainError
from kernel.money import EurosField, format_cents

from .decorators import coordinator_required


class SettingsForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Fund's name"), max_length=140)
    unit_label = forms.CharField(label=gettext_lazy("Unit's name"), max_length=20)
    collection_day = forms.IntegerField(label=gettext_lazy("Direct debit collection day (1 to 28)"),
                                        validators=[MinValueValidator(1), MaxValueValidator(28)])
    # The caps and thresholds, typed in euros, kept in cents (allocations.fund.LIMIT_FIELDS).
    max_purchase_cents = EurosField(
        label=gettext_lazy("Maximum for one purchase (€)"), max_cents=CAP_LIMIT_CENTS,
        validators=[MinValueValidator(1, gettext_lazy("The maximum must be more than zero."))])
    daily_cap_per_card_cents = EurosField(
        label=gettext_lazy("Cap per card, per shop, per day (€, 0: none)"), max_cents=CAP_LIMIT_CENTS)
    phone_pin_above_cents = EurosField(
        label=gettext_lazy("Paying from one's phone: the PIN is asked above (€)"), max_cents=CAP_LIMIT_CENTS)
    refund_four_eyes_above_cents = EurosField(
        label=gettext_lazy("A coordinator's refund above this waits for a second coordinator (€)"),
        max_cents=CAP_LIMIT_CENTS, help_text=gettext_lazy("Takes effect at once."))
    desk_cash_ceiling_cents = EurosField(
        label=gettext_lazy("One cash payment at a desk above this waits for a coordinator (€)"),
        max_cents=CAP_LIMIT_CENTS, help_text=gettext_lazy("Takes effect at once."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The tills read the caps from a copy in their process (allocations.fund).
        at_the_tills = _("Takes effect at every till within %(seconds)s seconds.") % {
            "seconds": fund.TILL_REFRESH_SECONDS}
        for name in ("max_purchase_cents", "daily_cap_per_card_cents", "phone_pin_above_cents"):
            self.fields[name].help_text = at_the_tills


class BankForm(forms.Form):
    iban = forms.CharField(label=gettext_lazy("IBAN"), max_length=42)
    bic = forms.CharField(label=gettext_lazy("BIC"), max_length=14)
    creditor_id = forms.CharField(label=gettext_lazy("SEPA creditor identifier"), max_length=40, required=False)
    reason = forms.CharField(label=gettext_lazy("Why (read by the second coordinator)"), max_length=500)


def _initial(row) -> dict:
    return {"name": row.name, "unit_label": row.unit_label, "collection_day": row.collection_day,
            **{name: format_cents(getattr(row, name), "").strip() for name in fund.LIMIT_FIELDS}}


@coordinator_required
def fund_settings(request):
    row = fund.current()
    settings_form = SettingsForm(initial=_initial(row), prefix="settings")
    bank_form = BankForm(prefix="bank")
    status = 200
    if request.method == "POST":
        status = 400  # unless saved (a redirect)
        if "bank-iban" in request.POST:
            bank_form = BankForm(request.POST, prefix="bank")
            if bank_form.is_valid():
                data = bank_form.cleaned_data
                try:
                    fund.request_bank_change(iban=data["iban"], bic=data["bic"], creditor_id=data["creditor_id"],
                                             by=request.user, reason=data["reason"])
                except (DomainError, ValidationError, PermissionDenied) as error:
                    messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
                else:
                    messages.success(request, _("Asked: a second coordinator must now approve the new bank details."))
                    return redirect("coordination:fund_settings")
        else:
            settings_form = SettingsForm(request.POST, prefix="settings")
            if settings_form.is_valid():
                data = settings_form.cleaned_data
                try:
                    fund.update_settings(by=request.user, **{name: data[name] for name in fund.PLAIN_FIELDS})
                except ValidationError as error:
                    settings_form.add_error(None, error)
                except DomainError as error:
                    messages.error(request, str(error))
                else:
                    messages.success(request, _("The fund's settings are saved."))
                    return redirect("coordination:fund_settings")
    return render(request, "coordination/fund_settings.html", {
        "row": row, "settings_form": settings_form, "bank_form": bank_form,
        "pending": fund.pending_bank_change(), "bank_configured": fund.bank_configured(),
    }, status=status)
