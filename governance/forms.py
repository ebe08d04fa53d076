import json

from django import forms
from django.utils.translation import gettext_lazy as _

from allocations import rules as fund_rules
from vendors.models import Vendor

from . import charter
from .models import Choice, Kind, MeetingTally
from .proposals import RULES_FIELDS


def current_rules_json() -> str:
    try:
        from allocations import periods

        current = fund_rules.rules_for(periods.current())
    except fund_rules.NoRulesInForce:
        return "{}"
    return json.dumps({name: getattr(current, name) for name in RULES_FIELDS}, indent=2, ensure_ascii=False)


class ProposalForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it about?"), choices=Kind.choices)
    title = forms.CharField(label=_("The question, in plain words"), max_length=200)
    text = forms.CharField(label=_("Explanation"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    vendor = forms.ModelChoiceField(label=_("Vendor"), queryset=Vendor.objects.order_by("display_name"),
                                    required=False)
    visit_report = forms.CharField(label=_("Visit report (approval)"), widget=forms.Textarea(attrs={"rows": 4}),
                                   required=False)
    proposed_rules = forms.CharField(label=_("Proposed rules (every value, amounts in cents)"),
                                     widget=forms.Textarea(attrs={"rows": 12}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in charter.CRITERIA.items():
            self.fields[f"charter_{key}"] = forms.BooleanField(label=label, required=False)
        if not self.is_bound:
            self.initial["proposed_rules"] = current_rules_json()

    def charter_fields(self):
        return [self[f"charter_{key}"] for key in charter.CRITERIA]

    def clean_proposed_rules(self):
        raw = self.cleaned_data["proposed_rules"]
        if self.data.get("kind") != Kind.CHANGE_RULES:
            return {}
        try:
            return json.loads(raw or "{}")
        except ValueError:
            raise forms.ValidationError(_("The proposed rules are not valid JSON."))

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {"kind": data["kind"], "title": data["title"], "text": data["text"], "vendor": data["vendor"]}
        if data["kind"] == Kind.APPROVE_VENDOR:
            kwargs["visit_report"] = data["visit_report"]
            kwargs["charter_checks"] = {key: data[f"charter_{key}"] for key in charter.CRITERIA}
        if data["kind"] == Kind.CHANGE_RULES:
            kwargs["proposed_rules"] = data["proposed_rules"]
        return kwargs


class ProxyForm(forms.Form):
    member = forms.ModelChoiceField(label=_("Member"), queryset=None)
    choice = forms.ChoiceField(label=_("Their vote"), choices=Choice.choices)
    reason = forms.CharField(label=_("Reason (objection)"), required=False)

    def __init__(self, *args, electors=None, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        self.fields["member"].queryset = get_user_model().objects.filter(pk__in=electors or [])


class TallyForm(forms.Form):
    proposal = forms.IntegerField(widget=forms.HiddenInput)
    how = forms.ChoiceField(label=_("How"), choices=MeetingTally.How.choices)
    votes_for = forms.IntegerField(label=_("For"), min_value=0, initial=0)
    votes_against = forms.IntegerField(label=_("Against"), min_value=0, initial=0)
    abstentions = forms.IntegerField(label=_("Abstentions"), min_value=0, initial=0)
    consents = forms.IntegerField(label=_("Consents"), min_value=0, initial=0)
    objections = forms.IntegerField(label=_("Objections"), min_value=0, initial=0)
    objection_reasons = forms.CharField(label=_("Objections' reasons"), required=False,
                                        widget=forms.Textarea(attrs={"rows": 2}))


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = forms.DateTimeField(label=_("Date and time"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
