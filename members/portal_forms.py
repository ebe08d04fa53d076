from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ShopReport


class ChangePinForm(forms.Form):
    new_pin = forms.CharField(
        label=_("New PIN (4 digits)"),
        min_length=4,
        max_length=4,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{4}"}),
    )
    confirm_pin = forms.CharField(
        label=_("The same PIN again"),
        max_length=4,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{4}"}),
    )

    def clean_new_pin(self):
        pin = self.cleaned_data["new_pin"]
        if not pin.isdigit():
            raise forms.ValidationError(_("A PIN is exactly 4 digits."))
        return pin

    def clean(self):
        data = super().clean()
        if data.get("new_pin") and data.get("new_pin") != data.get("confirm_pin"):
            self.add_error("confirm_pin", _("The two PINs are not the same."))
        return data


# The shop model through the report's relation: members does not import the vendors app.
Vendor = ShopReport._meta.get_field("vendor").related_model


class ShopReportForm(forms.Form):
    vendor = forms.ModelChoiceField(
        label=_("Which shop?"),
        queryset=Vendor.objects.filter(
            status__in=[Vendor.Status.APPROVED, Vendor.Status.PAUSED, Vendor.Status.SUSPENDED]
        ).order_by("display_name"),
        required=False,
        empty_label=_("— choose a shop —"),
    )
    category = forms.ChoiceField(label=_("What happened?"), choices=ShopReport.Category.choices, widget=forms.RadioSelect)
    description = forms.CharField(label=_("Tell us more"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    anonymous = forms.BooleanField(
        label=_("Send it without my name: the coordinators will not know it is from me"), required=False
    )
