"""The initial rules version, set up by coordinators (no committee decision behind it).

Montpellier's figures: 100 € per household, no supplements, a minimum contribution of
1 €. Rollover `full`: in Montpellier unspent MonA carry over from month to month, and
a policy that expires balances is a committee decision to take later, as a new version.
It starts in 2020-01 so that any past period the fund may hold (imported or demo
history) has rules in force; later versions start at future periods only.
"""

import datetime

from django.db import migrations

INITIAL = {
    "effective_from": datetime.date(2020, 1, 1),
    "allocation_per_household": 10_000,
    "supplement_per_extra_adult": 0,
    "supplement_per_child": 0,
    "minimum_contribution": 100,
    "minimum_contribution_per_extra_person": 0,
    # Suggested contribution by monthly income per person (cents), as in Montpellier's
    # self-determination grid: each household still chooses, from the minimum up.
    "contribution_grid": [
        {"income_per_person_up_to": 60_000, "suggested": 1_000},
        {"income_per_person_up_to": 100_000, "suggested": 4_000},
        {"income_per_person_up_to": 150_000, "suggested": 7_000},
        {"income_per_person_up_to": None, "suggested": 12_000},
    ],
    "rollover_policy": "full",
    "rollover_cap": 0,
    "prorate_first_month": False,
    "arrears_policy": "keep",
    "arrears_grace_months": 3,
}


def forward(apps, schema_editor):
    FundRules = apps.get_model("allocations", "FundRules")
    if not FundRules.objects.exists():
        FundRules.objects.create(**INITIAL)


def backward(apps, schema_editor):
    apps.get_model("allocations", "FundRules").objects.filter(effective_from=INITIAL["effective_from"]).delete()


class Migration(migrations.Migration):
    dependencies = [("allocations", "0004_fund_rules_and_issuance")]
    operations = [migrations.RunPython(forward, backward)]
