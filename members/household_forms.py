"""Forms of the application, the desk and the household's contribution page."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.money import EurosField

from .brackets import AgeBracket, IncomeBracket
from .models import ContributionPayment, ExitReason, PauseReason


class ApplicationForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=80)
    last_name = forms.CharField(label=_("Last name"), max_length=80, required=False)
    birth_year = forms.IntegerField(label=_("Year of birth"), min_value=1900, required=False)
    phone = forms.CharField(
        label=_("Phone"), max_length=32, help_text=_("To reach you about your application and your membership.")
    )
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    address = forms.CharField(label=_("Postal address"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=10)
    district = forms.CharField(label=_("District"), max_length=64, required=False)
    other_adults = forms.IntegerField(label=_("Other adults in the household"), min_value=0, max_value=10, initial=0)
    children = forms.IntegerField(label=_("Children in the household"), min_value=0, max_value=15, initial=0)
    income_bracket = forms.ChoiceField(
        label=_("Income of the household per person and per month"),
        choices=IncomeBracket.choices,
        widget=forms.RadioSelect,
        help_text=_("Declared by you, no proof asked. Used only for the draw's shares and to suggest a contribution."),
    )
    age_bracket = forms.ChoiceField(label=_("Your age"), choices=AgeBracket.choices, widget=forms.RadioSelect)
    research_consent = forms.BooleanField(
        label=_("I agree that my answers, without my name, may be used for research on the fund (optional)."),
        required=False,
    )

    def clean_birth_year(self):
        year = self.cleaned_data.get("birth_year")
        if year and year > timezone.localdate().year:
            raise ValidationError(_("The year of birth cannot be in the future."))
        return year

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if sum(c.isdigit() for c in phone) < 8:
            raise ValidationError(_("Enter a phone number (at least 8 digits)."))
        return phone

    def persons(self) -> list[dict]:
        data = self.cleaned_data
        persons = [
            {"first_name": data["first_name"], "last_name": data["last_name"], "birth_year": data["birth_year"], "is_adult": True}
        ]
        persons += [{"first_name": str(_("Adult %(n)s")) % {"n": n + 2}, "is_adult": True} for n in range(data["other_adults"])]
        persons += [{"first_name": str(_("Child %(n)s")) % {"n": n + 1}, "is_adult": False} for n in range(data["children"])]
        return persons

    def household_fields(self) -> dict:
        names = ("phone", "email", "address", "postal_code", "district", "income_bracket", "age_bracket", "research_consent")
        return {name: self.cleaned_data[name] for name in names}


class ContactForm(forms.Form):
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    address = forms.CharField(label=_("Postal address"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=10, required=False)
    district = forms.CharField(label=_("District"), max_length=64, required=False)


class CashForm(forms.Form):
    amount = EurosField(label=_("Cash received (€)"), widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    token = forms.CharField(widget=forms.HiddenInput)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if not amount or amount <= 0:
            raise ValidationError(_("Enter the cash received, above zero."))
        return amount


class CloseDeskForm(forms.Form):
    counted_cash = EurosField(label=_("Cash counted in the box (€)"), widget=forms.TextInput(attrs={"inputmode": "decimal"}))


class PaymentForm(forms.Form):
    """A coordinator records a contribution received by other means than cash."""

    method = forms.ChoiceField(
        label=_("Method"), choices=[c for c in ContributionPayment.Method.choices if c[0] != ContributionPayment.Method.CASH]
    )
    amount = EurosField(label=_("Amount (€)"))
    period = forms.RegexField(label=_("For the month (YYYY-MM)"), regex=r"^\d{4}-(0[1-9]|1[0-2])$")
    paid_on = forms.DateField(label=_("Paid on"), initial=timezone.localdate)
    reference = forms.CharField(label=_("Bank reference"), max_length=64, required=False)
    mandate_reference = forms.CharField(label=_("SEPA mandate reference"), max_length=35, required=False)
    mandate_signed_on = forms.DateField(label=_("SEPA mandate signed on"), required=False)
    token = forms.CharField(widget=forms.HiddenInput)


class ContributionChoiceForm(forms.Form):
    amount = EurosField(label=_("My monthly contribution from next month (€)"), widget=forms.TextInput(attrs={"inputmode": "decimal"}))


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
    commit = forms.BooleanField(label=_("Import the valid rows (leave unticked for a dry run)"), required=False)


class RankCheckForm(forms.Form):
    number = forms.CharField(label=_("Application number"), max_length=32,
                             widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}))
    code = forms.CharField(label=_("Draw code"), max_length=40,
                           widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}))


class PauseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=PauseReason.choices)


class ExitForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=ExitReason.choices)
    confirm = forms.BooleanField(
        label=_("The member knows that what is left in the wallet goes back to the fund and that the cards stop working."))


class DeskContributionForm(forms.Form):
    """Filled in by the member on the desk's screen: the volunteer does not see the amount."""

    amount = EurosField(label=_("My monthly contribution (€)"), widget=forms.TextInput(
        attrs={"inputmode": "decimal", "autocomplete": "off"}))


class CoordinatorContributionForm(forms.Form):
    """A coordinator sets the amount directly (the member said it on the phone, say)."""

    amount = EurosField(label=_("Monthly contribution (€)"), widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    from_this_month = forms.BooleanField(label=_("From this month (otherwise from next month)"), required=False)
