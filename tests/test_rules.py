"""Fund rules: versions by period, adopted only for the future."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from allocations import rules
from allocations.models import FundRules, RolloverPolicy

pytestmark = pytest.mark.django_db

NOV_2026 = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.UTC)


def test_the_initial_version_is_montpellier_s():
    initial = rules.rules_for("2026-11")
    assert initial.effective_from == datetime.date(2020, 1, 1)
    assert (initial.allocation_per_household, initial.supplement_per_extra_adult, initial.supplement_per_child) == (10_000, 0, 0)
    assert initial.minimum_contribution == 100
    assert initial.rollover_policy == RolloverPolicy.FULL
    assert initial.decision_reference == ""


def test_the_version_in_force_is_picked_per_period():
    FundRules.objects.create(effective_from=datetime.date(2026, 3, 1), allocation_per_household=12_000)
    FundRules.objects.create(effective_from=datetime.date(2026, 7, 1), allocation_per_household=15_000)
    assert rules.rules_for("2026-02").allocation_per_household == 10_000
    assert rules.rules_for("2026-03").allocation_per_household == 12_000
    assert rules.rules_for("2026-06").allocation_per_household == 12_000
    assert rules.rules_for("2026-07").allocation_per_household == 15_000
    assert rules.rules_for("2030-01").allocation_per_household == 15_000


def test_no_rules_before_the_first_version():
    with pytest.raises(rules.NoRulesInForce):
        rules.rules_for("2019-12")


@time_machine.travel(NOV_2026)
def test_a_new_version_starts_at_a_future_period_only(django_user_model):
    coordinator = django_user_model.objects.create(username="coord")
    for start in (datetime.date(2026, 11, 1), datetime.date(2026, 1, 1)):
        with translation.override("fr"), pytest.raises(ValidationError) as refused:
            rules.create_version(effective_from=start, allocation_per_household=15_000, created_by=coordinator)
        assert "période future" in refused.value.messages[0]
    from governance.models import Kind, Proposal

    with pytest.raises(ValidationError) as refused:  # no committee decision: no new version
        rules.create_version(effective_from=datetime.date(2026, 12, 1), allocation_per_household=15_000,
                             decision_reference="D-2026-14", created_by=coordinator)
    assert refused.value.code == "decision"
    decision = Proposal.objects.create(kind=Kind.CHANGE_RULES, title="150 €", author=coordinator,
                                       state=Proposal.State.ADOPTED).reference
    adopted = rules.create_version(
        effective_from=datetime.date(2026, 12, 1),
        allocation_per_household=15_000,
        supplement_per_extra_adult=7_500,
        decision_reference=decision,
        created_by=coordinator,
    )
    assert rules.rules_for("2026-11").allocation_per_household == 10_000  # history unchanged
    assert rules.rules_for("2026-12") == adopted
    assert adopted.created_by == coordinator


@time_machine.travel(NOV_2026)
@pytest.mark.parametrize(
    "values",
    [
        {"effective_from": datetime.date(2027, 1, 15)},  # not the first of a month
        {"rollover_policy": RolloverPolicy.CAP, "rollover_cap": 0},
        {"contribution_grid": [{"income_per_person_up_to": 50_000, "suggested": 50}]},  # under the minimum
        {"contribution_grid": [{"income_per_person_up_to": 90_000, "suggested": 500}, {"income_per_person_up_to": 50_000, "suggested": 900}, {"income_per_person_up_to": None, "suggested": 900}]},
        {"contribution_grid": [{"income_per_person_up_to": 90_000, "suggested": 500}]},  # last band closed
        {"contribution_grid": {"not": "a list"}},
    ],
)
def test_invalid_versions_are_refused(values):
    fields = {"effective_from": datetime.date(2027, 1, 1), "allocation_per_household": 10_000, **values}
    with pytest.raises(ValidationError):
        rules.create_version(**fields)
    assert not FundRules.objects.filter(effective_from__year=2027).exists()


def test_allocation_with_supplements():
    gironde = FundRules(allocation_per_household=15_000, supplement_per_extra_adult=7_500, supplement_per_child=7_500)
    assert rules.allocation_for(gironde, adults=1, children=0) == 15_000
    assert rules.allocation_for(gironde, adults=2, children=2) == 37_500
