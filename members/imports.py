"""Importing households from a spreadsheet (CSV), for a fund moving in from spreadsheets.

Every row is checked on its own; a dry run reports each row it would reject and why, and
writes nothing. A real run imports the rows that pass, in one transaction, and reports
the others. Columns (first line; `;` or `,` separated, UTF-8, the order does not matter):

reference, status, first_name, last_name, birth_year, adults, children, phone, email,
address, postal_code, district, income_bracket, age_bracket, monthly_contribution (euros),
joined_on (YYYY-MM-DD)

Only first_name and adults are required. An empty reference gets a new one.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from allocations import periods
from kernel.money import format_cents, parse_euros

from . import contributions, enrolment
from .brackets import AgeBracket, IncomeBracket
from .models import ContributionChoice, Household, HouseholdStatusChange, Person
from .services import create_household

COLUMNS = (
    "reference",
    "status",
    "first_name",
    "last_name",
    "birth_year",
    "adults",
    "children",
    "phone",
    "email",
    "address",
    "postal_code",
    "district",
    "income_bracket",
    "age_bracket",
    "monthly_contribution",
    "joined_on",
)
IMPORTABLE_STATUSES = [Household.Status.ACTIVE, Household.Status.PAUSED, Household.Status.WAITLISTED, Household.Status.APPLICANT]


class RowForm(forms.Form):
    reference = forms.CharField(max_length=32, required=False)
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in IMPORTABLE_STATUSES], required=False)
    first_name = forms.CharField(max_length=80)
    last_name = forms.CharField(max_length=80, required=False)
    birth_year = forms.IntegerField(min_value=1900, max_value=2100, required=False)
    adults = forms.IntegerField(min_value=1, max_value=20)
    children = forms.IntegerField(min_value=0, max_value=20, required=False)
    phone = forms.CharField(max_length=32, required=False)
    email = forms.EmailField(required=False)
    address = forms.CharField(max_length=200, required=False)
    postal_code = forms.CharField(max_length=10, required=False)
    district = forms.CharField(max_length=64, required=False)
    income_bracket = forms.ChoiceField(choices=IncomeBracket.choices, required=False)
    age_bracket = forms.ChoiceField(choices=AgeBracket.choices, required=False)
    monthly_contribution = forms.CharField(required=False, label=gettext_lazy("monthly contribution"))
    joined_on = forms.DateField(input_formats=["%Y-%m-%d", "%d/%m/%Y"], required=False)

    def clean_monthly_contribution(self):
        value = self.cleaned_data["monthly_contribution"]
        return parse_euros(value) if value else None

    def clean(self):
        data = super().clean()
        if data.get("adults") and data.get("monthly_contribution") is not None:
            size = data["adults"] + (data.get("children") or 0)
            minimum = contributions.minimum_for(contributions.rules_or_default(periods.current()), size)
            if data["monthly_contribution"] < minimum:
                self.add_error(
                    "monthly_contribution",
                    _("At least %(minimum)s for a household of %(size)s.")
                    % {"minimum": format_cents(minimum), "size": size},
                )
        return data


@dataclass
class Rejected:
    line: int
    reference: str
    errors: list[str]


@dataclass
class ImportReport:
    dry_run: bool
    imported: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    error: str = ""  # the whole file could not be read


def _read(content: bytes | str) -> tuple[list[str], list[dict]]:
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("The file is not UTF-8 text: save it as “CSV UTF-8” and try again."))
    try:
        dialect = csv.Sniffer().sniff(content.split("\n", 1)[0], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(content), dialect=dialect)
    headers = [name.strip().lower() for name in (reader.fieldnames or [])]
    if not headers:
        raise ValidationError(_("The file is empty."))
    unknown = [name for name in headers if name not in COLUMNS]
    if unknown:
        raise ValidationError(
            _("Unknown columns: %(unknown)s. Expected columns: %(expected)s.")
            % {"unknown": ", ".join(unknown), "expected": ", ".join(COLUMNS)}
        )
    if "first_name" not in headers or "adults" not in headers:
        raise ValidationError(_("The columns first_name and adults are required."))
    reader.fieldnames = headers
    return headers, [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


def import_households(content: bytes | str, *, dry_run: bool = True, by=None) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    try:
        _headers, rows = _read(content)
    except ValidationError as error:
        report.error = " ".join(error.messages)
        return report
    valid, seen = [], {}
    existing = set(
        Household.objects.filter(reference__in=[row.get("reference") for row in rows if row.get("reference")]).values_list(
            "reference", flat=True
        )
    )
    for line, row in enumerate(rows, start=2):
        form = RowForm(row)
        errors = []
        if not form.is_valid():
            for name, messages in form.errors.items():
                label = name if name != "__all__" else _("row")
                errors.extend(f"{label}: {message}" for message in messages)
        reference = row.get("reference", "")
        if reference:
            if reference in existing:
                errors.append(_("reference: %(reference)s already exists in the fund.") % {"reference": reference})
            elif reference in seen:
                errors.append(
                    _("reference: %(reference)s is already on line %(line)s.") % {"reference": reference, "line": seen[reference]}
                )
            else:
                seen[reference] = line
        if errors:
            report.rejected.append(Rejected(line, reference, errors))
        else:
            valid.append(form.cleaned_data)
    if dry_run:
        report.imported = [data["reference"] or _("(new)") for data in valid]
        return report
    with transaction.atomic():
        for data in valid:
            report.imported.append(_create(data, by=by).reference)
    return report


def _create(data: dict, *, by=None) -> Household:
    status = data["status"] or Household.Status.ACTIVE
    fields = {
        name: data[name] or ""
        for name in ("phone", "email", "address", "postal_code", "district", "income_bracket", "age_bracket")
    }
    if data["joined_on"]:
        fields["joined_on"] = data["joined_on"]
    if data["monthly_contribution"] is not None:
        fields["monthly_contribution"] = data["monthly_contribution"]
    household = create_household(
        reference=data["reference"] or f"tmp-{uuid.uuid4().hex[:24]}",
        adults=data["adults"],
        children=data["children"] or 0,
        status=status,
        **fields,
    )
    if not data["reference"]:
        household.reference = enrolment.reference_for(household.pk)
        household.save(update_fields=["reference"])
    Person.objects.create(
        household=household, first_name=data["first_name"], last_name=data["last_name"], birth_year=data["birth_year"]
    )
    HouseholdStatusChange.objects.create(household=household, status_to=status, by=by, note="import")
    if data["monthly_contribution"] is not None:
        ContributionChoice.objects.create(
            household=household,
            effective_from=periods.of(household.joined_on),
            amount=data["monthly_contribution"],
            chosen_by=by,
        )
    return household
