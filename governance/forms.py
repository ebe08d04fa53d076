from django import forms
from django.utils.translation import gettext_lazy as _

from allocations import rules as fund_rules
from allocations.models import ArrearsPolicy, RolloverPolicy
from kernel.money import EurosField, format_cents, parse_euros
from vendors.models import Vendor

from . import charter
from .models import Choice, Kind, MeetingTally
from .proposals import RULES_FIELDS

# The rules' amounts, typed in euros (kernel.money), stored in cents.
RULES_EUROS = ("allocation_per_household", "supplement_per_extra_adult", "supplement_per_child",
               "minimum_contribution", "minimum_contribution_per_extra_person", "rollover_cap")


def rules_in_force():
    from allocations import periods

    try:
        return fund_rules.rules_for(periods.current())
    except fund_rules.NoRulesInForce:
        return None


def grid_text(grid: list) -> str:
    """The contribution grid as people type it: one band a line, "up to ; suggested" in euros."""
    lines = []
    for band in grid or ():
        limit = band.get("income_per_person_up_to")
        lines.append(f"{format_cents(limit, '').strip() if limit is not None else ''} ; "
                     f"{format_cents(band.get('suggested', 0), '').strip()}")
    return "\n".join(lines)


def parse_grid(text: str) -> list:
    grid = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        limit, separator, suggested = line.partition(";")
        if not separator:
            raise forms.ValidationError(
                _("Line %(n)s of the grid: write the income limit, a semicolon, then the suggested contribution.")
                % {"n": number})
        grid.append({"income_per_person_up_to": parse_euros(limit) if limit.strip() else None,
                     "suggested": parse_euros(suggested)})
    return grid


# Values a version may leave empty: no grid at all (no suggestion), no prorating.
RULES_MAY_BE_EMPTY = ("contribution_grid", "prorate_first_month")
# What a PositiveIntegerField of cents holds.
LARGEST_CENTS = 2_147_483_647


def grid_faults(grid: list, *, minimum: int) -> list[str]:
    """What is wrong with a grid, line by line, in euros: the words of
    `allocations.rules.validate_contribution_grid` without its keys and cents."""
    faults, previous = [], -1
    for number, band in enumerate(grid, start=1):
        ceiling, last = band["income_per_person_up_to"], number == len(grid)
        if band["suggested"] < minimum:
            faults.append(_("Line %(n)s of the grid suggests less than the minimum contribution (%(minimum)s).")
                          % {"n": number, "minimum": format_cents(minimum)})
        if ceiling is None and not last:
            faults.append(_("Only the last line of the grid may leave the income limit empty."))
        elif ceiling is not None and ceiling <= previous:
            faults.append(_("The income limits of the grid must go up from one line to the next (line %(n)s).")
                          % {"n": number})
        elif ceiling is not None and last:
            faults.append(_("Leave the income limit of the last line empty: the last band has no ceiling."))
        previous = ceiling if ceiling is not None else previous
    return faults


class ProposalForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it about?"), choices=Kind.choices)
    title = forms.CharField(label=_("The question, in plain words"), max_length=200)
    text = forms.CharField(label=_("Explanation"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    vendor = forms.ModelChoiceField(label=_("Vendor"), queryset=Vendor.objects.order_by("display_name"),
                                    required=False)
    visit_report = forms.CharField(label=_("Visit report (approval)"), widget=forms.Textarea(attrs={"rows": 4}),
                                   required=False)
    # A rules change: every value of the next version, amounts in euros.
    rules_allocation_per_household = EurosField(label=_("Allocation per household (€ a month)"), required=False)
    rules_supplement_per_extra_adult = EurosField(label=_("Supplement per extra adult (€)"), required=False)
    rules_supplement_per_child = EurosField(label=_("Supplement per child (€)"), required=False)
    rules_minimum_contribution = EurosField(label=_("Minimum contribution (€ a month)"), required=False)
    rules_minimum_contribution_per_extra_person = EurosField(
        label=_("Minimum contribution per extra person (€)"), required=False)
    rules_contribution_grid = forms.CharField(
        label=_("Suggested contribution grid"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One band a line: income per person up to (€) ; suggested contribution (€). "
                    "Leave the limit empty on the last line, e.g. “ ; 20”."))
    rules_rollover_policy = forms.ChoiceField(label=_("Rollover of unspent balance"), choices=RolloverPolicy.choices,
                                              required=False)
    rules_rollover_cap = EurosField(label=_("Rollover cap (€)"), required=False)
    rules_prorate_first_month = forms.BooleanField(
        label=_("Prorate the first month of a household joining mid-month"), required=False)
    rules_arrears_policy = forms.ChoiceField(label=_("Arrears policy"), choices=ArrearsPolicy.choices, required=False)
    rules_arrears_grace_months = forms.IntegerField(label=_("Grace period for arrears (months)"), min_value=0,
                                                    required=False)

    def __init__(self, *args, proposal=None, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in charter.CRITERIA.items():
            self.fields[f"charter_{key}"] = forms.BooleanField(label=label, required=False)
        self.in_force = rules_in_force()
        if self.is_bound:
            return
        if proposal is not None:  # a draft, edited
            self.initial.update(kind=proposal.kind, title=proposal.title, text=proposal.text, vendor=proposal.vendor,
                                visit_report=proposal.visit_report)
            self.initial.update({f"charter_{key}": value for key, value in (proposal.charter_checks or {}).items()})
        values = (proposal.proposed_rules if proposal is not None and proposal.proposed_rules else
                  {name: getattr(self.in_force, name) for name in RULES_FIELDS} if self.in_force else {})
        for name, value in values.items():
            if name in RULES_EUROS:
                value = format_cents(value, "").strip()
            elif name == "contribution_grid":
                value = grid_text(value)
            self.initial[f"rules_{name}"] = value

    def charter_fields(self):
        return [self[f"charter_{key}"] for key in charter.CRITERIA]

    def rules_fields(self):
        """Each rule's field, with the value in force beside it."""
        rows = []
        for name in RULES_FIELDS:
            field = self[f"rules_{name}"]
            current = getattr(self.in_force, name) if self.in_force else None
            if current is None:
                shown = "—"
            elif name in RULES_EUROS:
                shown = format_cents(current)
            elif name == "contribution_grid":
                shown = grid_text(current).replace("\n", " · ") or "—"
            elif name in ("rollover_policy", "arrears_policy"):
                shown = getattr(self.in_force, f"get_{name}_display")()
            elif name == "prorate_first_month":
                shown = _("yes") if current else _("no")
            else:
                shown = current
            rows.append((field, shown))
        return rows

    def other_fields(self):
        return [field for field in self if not field.name.startswith(("charter_", "rules_"))]

    def clean_rules_contribution_grid(self):
        return parse_grid(self.cleaned_data["rules_contribution_grid"])

    def clean(self):
        """A rules change: each fault named at its own field, in euros and plain words,
        before the service checks the whole version again (`proposals.validate_rules`)."""
        data = super().clean()
        if data.get("kind") != Kind.CHANGE_RULES:
            return data
        if data.get("rules_rollover_cap") is None and "rules_rollover_cap" not in self.errors:
            data["rules_rollover_cap"] = 0  # only a capped rollover needs one
        for name in RULES_FIELDS:
            key = f"rules_{name}"
            if key in self.errors:
                continue
            value = data.get(key)
            if value in (None, "") and name not in RULES_MAY_BE_EMPTY:
                self.add_error(key, _("Give this value: the next version of the rules states every one."))
            elif name in RULES_EUROS and value is not None and value > LARGEST_CENTS:
                self.add_error(key, _("This amount is too large for the fund."))
        if data.get("rules_allocation_per_household") == 0 and "rules_allocation_per_household" not in self.errors:
            self.add_error("rules_allocation_per_household", _("The allocation per household must be above zero."))
        if (data.get("rules_rollover_policy") == RolloverPolicy.CAP and not data.get("rules_rollover_cap")
                and "rules_rollover_cap" not in self.errors):
            self.add_error("rules_rollover_cap", _("A capped rollover needs a cap above zero."))
        if "rules_contribution_grid" not in self.errors and data.get("rules_minimum_contribution") is not None:
            for message in grid_faults(data.get("rules_contribution_grid") or [],
                                       minimum=data["rules_minimum_contribution"]):
                self.add_error("rules_contribution_grid", message)
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {"kind": data["kind"], "title": data["title"], "text": data["text"], "vendor": data["vendor"]}
        if data["kind"] == Kind.APPROVE_VENDOR:
            kwargs["visit_report"] = data["visit_report"]
            kwargs["charter_checks"] = {key: data[f"charter_{key}"] for key in charter.CRITERIA}
        if data["kind"] == Kind.CHANGE_RULES:
            # Every value; one left empty is named by governance.proposals.validate_rules.
            kwargs["proposed_rules"] = {name: data[f"rules_{name}"] for name in RULES_FIELDS
                                        if data.get(f"rules_{name}") not in (None, "")}
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
