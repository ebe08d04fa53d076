"""The fund's rules: versions in force by period, and how a new version is adopted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kernel.errors import DomainError

from . import periods
from .models import FundRules, RolloverPolicy


class NoRulesInForce(DomainError):
    code = "no_rules_in_force"


def rules_for(period: str) -> FundRules:
    """The version in force for `period`: the latest that started at or before it."""
    start = periods.parse(period)
    rules = FundRules.objects.filter(effective_from__lte=start).order_by("-effective_from").first()
    if rules is None:
        raise NoRulesInForce(_("No fund rules are in force for %(period)s.") % {"period": period})
    return rules


def allocation_for(rules: FundRules, *, adults: int, children: int) -> int:
    """A household's monthly allocation in cents (the SQL of `issuance` computes the same)."""
    return (
        rules.allocation_per_household
        + rules.supplement_per_extra_adult * max(adults - 1, 0)
        + rules.supplement_per_child * children
    )


def validate_contribution_grid(grid, *, minimum: int) -> None:
    """Bands of income per person, ascending, the last one open; amounts in whole cents."""
    if not isinstance(grid, list):
        raise ValidationError(_("The contribution grid must be a list of bands."))
    previous = -1
    for position, band in enumerate(grid, start=1):
        if not isinstance(band, dict) or set(band) != {"income_per_person_up_to", "suggested"}:
            raise ValidationError(
                _("Band %(n)s of the contribution grid must have exactly “income_per_person_up_to” and “suggested”.")
                % {"n": position}
            )
        ceiling, suggested = band["income_per_person_up_to"], band["suggested"]
        if not isinstance(suggested, int) or isinstance(suggested, bool) or suggested < minimum:
            raise ValidationError(
                _("Band %(n)s suggests less than the minimum contribution, or not a whole number of cents.")
                % {"n": position}
            )
        last = position == len(grid)
        if ceiling is None and not last:
            raise ValidationError(_("Only the last band of the contribution grid may be open-ended."))
        if ceiling is not None:
            if not isinstance(ceiling, int) or isinstance(ceiling, bool) or ceiling <= previous:
                raise ValidationError(_("The bands of the contribution grid must go up in income."))
            previous = ceiling
    if grid and grid[-1]["income_per_person_up_to"] is not None:
        raise ValidationError(_("The last band of the contribution grid must be open-ended (no ceiling)."))


def validate_version(rules: FundRules) -> None:
    """What the database cannot say, checked before a version is saved."""
    if rules.effective_from is None or rules.effective_from.day != 1:
        raise ValidationError(_("A rules version starts on the first day of a month."))
    if rules.rollover_policy == RolloverPolicy.CAP and not rules.rollover_cap:
        raise ValidationError(_("A capped rollover needs a cap above zero."))
    if rules.allocation_per_household <= 0:
        raise ValidationError(_("The allocation per household must be above zero."))
    validate_contribution_grid(rules.contribution_grid, minimum=rules.minimum_contribution)


def validate_starts_in_future(effective_from: date) -> None:
    first_future = periods.parse(periods.shift(periods.current(), 1))
    if effective_from < first_future:
        raise ValidationError(
            _("A new rules version can only start at a future period (from %(first)s at the earliest).")
            % {"first": periods.of(first_future)}
        )
    if FundRules.objects.filter(effective_from=effective_from).exists():
        raise ValidationError(_("A rules version already starts in %(period)s.") % {"period": periods.of(effective_from)})


# (decision reference) -> whether it is an adopted rules-change decision; governance
# registers it at startup (the ledger's app does not import governance).
_decision_check: Callable[[str], bool] | None = None


def register_decision_check(check: Callable[[str], bool]) -> None:
    global _decision_check
    _decision_check = check


@transaction.atomic
def create_version(*, effective_from: date, created_by=None, decision_reference: str = "", **values) -> FundRules:
    """Adopt a new version. It can only start at a future period: the rules of a period
    that has begun (and may have been issued) are history, and history is not rewritten.

    Only an adopted rules-change decision (`decision_reference`, confirmed by governance)
    makes a new version; the fund's very first version, at set-up, aside."""
    rules = FundRules(effective_from=effective_from, created_by=created_by, decision_reference=decision_reference, **values)
    validate_version(rules)
    validate_starts_in_future(effective_from)
    if FundRules.objects.exists() and not (
        decision_reference and _decision_check is not None and _decision_check(decision_reference)
    ):
        raise ValidationError(_("Only a rules change adopted by the committee makes a new version of the fund rules."),
                              code="decision")
    rules.save()
    return rules
