"""The fund's settings page: name, unit, collection day (changed at once,
audited), the bank account (changed under four eyes). Thin: allocations.fund does it."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from allocations import fund
from kernel.errors import DomainError

from .decorators import coordinator_required


class SettingsForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Fund's name"), max_length=140)
    unit_label = forms.CharField(label=gettext_lazy("Unit's name"), max_length=20)
    collection_day = forms.IntegerField(label=gettext_lazy("Direct debit collection day (1 to 28)"),
                                        validators=[MinValueValidator(1), MaxValueValidator(28)])


class BankForm(forms.Form):
    iban = forms.CharField(label=gettext_lazy("IBAN"), max_length=42)
    bic = forms.CharField(label=gettext_lazy("BIC"), max_length=14)
    creditor_id = forms.CharField(label=gettext_lazy("SEPA creditor identifier"), max_length=40, required=False)
    reason = forms.CharField(label=gettext_lazy("Why (read by the second coordinator)"), max_length=500)


def _initial(row) -> dict:
    return {"name": row.name, "unit_label": row.unit_label, "collection_day": row.collection_day}


@coordinator_required
def fund_settings(request):
    row = fund.current()
    settings_form = SettingsForm(initial=_initial(row), prefix="settings")
    bank_form = BankForm(prefix="bank")
    if request.method == "POST":
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
                    fund.update_settings(
                        by=request.user, name=data["name"], unit_label=data["unit_label"],
                        collection_day=data["collection_day"])
                except (DomainError, ValidationError) as error:
                    messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
                else:
                    messages.success(request, _("The fund's settings are saved."))
                    return redirect("coordination:fund_settings")
    return render(request, "coordination/fund_settings.html", {
        "row": row, "settings_form": settings_form, "bank_form": bank_form,
        "pending": fund.pending_bank_change(), "bank_configured": fund.bank_configured(),
    })
