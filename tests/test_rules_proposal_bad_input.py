"""Issue 19 point 5: a rules-change proposal typed badly is refused in French, next to the
field at fault and in the summary, with no English key or cents — and nothing is saved."""

import re

import pytest

from governance.models import Proposal

from . import test_rules_proposal_form as form_tests
from .governance_fixtures import make_committee
from .test_rules_proposal_form import IN_EUROS, client_for

in_force = form_tests.in_force  # the fixture: the rules in force allocate 120 €
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_force")]

# What a person must never read: a model's field name, the grid's JSON keys, cents.
RAW = re.compile(r"allocation_per_household|supplement_per|minimum_contribution|contribution_grid|rollover_|"
                 r"arrears_|prorate_|income_per_person_up_to|\bsuggested\b|centimes|cents")


def summary(body: str) -> str:
    match = re.search(r'data-testid="error-summary".*?</div>', body, re.S)
    assert match, "no error summary"
    return match.group(0)


def field_errors(body: str, name: str) -> str:
    """The error printed under one field of the form."""
    match = re.search(rf'name="{name}".*?(<ul class="errorlist".*?</ul>)', body, re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize("changes, field, words", [
    ({"rules_allocation_per_household": ""}, "rules_allocation_per_household", "Indiquez"),
    ({"rules_allocation_per_household": "0"}, "rules_allocation_per_household", "supérieure à zéro"),
    ({"rules_supplement_per_child": "-5"}, "rules_supplement_per_child", "n&#x27;est pas un montant en euros"),
    ({"rules_minimum_contribution": "12,345"}, "rules_minimum_contribution", "n&#x27;est pas un montant en euros"),
    ({"rules_rollover_policy": "cap", "rules_rollover_cap": "0"}, "rules_rollover_cap", "plafond"),
    ({"rules_contribution_grid": "800 ; 5\n ; 50"}, "rules_contribution_grid", "minimum"),
    ({"rules_contribution_grid": "800 ; 10\n1200 ; 50"}, "rules_contribution_grid", "dernière tranche"),
    ({"rules_contribution_grid": "800 ; 10\n500 ; 20\n ; 50"}, "rules_contribution_grid", "croissant"),
    ({"rules_contribution_grid": "800 10"}, "rules_contribution_grid", "point-virgule"),
    ({"rules_arrears_grace_months": "-1"}, "rules_arrears_grace_months", "supérieure ou égale à 0"),
])
def test_bad_rules_are_refused_in_french_beside_the_field_and_nothing_is_saved(changes, field, words):
    [author] = make_committee(1)
    response = client_for(author).post("/committee/new/", {**IN_EUROS, **changes})
    body = response.content.decode()
    assert response.status_code == 200
    assert not Proposal.objects.exists()
    at_field = field_errors(body, field)
    assert words in at_field, at_field
    assert f'href="#id_{field}"' in summary(body)
    assert not RAW.search(re.sub(r'(name|id|for|href|data-testid)="[^"]*"', "", summary(body) + at_field))


def test_a_bad_edit_of_a_draft_changes_nothing():
    [author] = make_committee(1)
    client = client_for(author)
    client.post("/committee/new/", IN_EUROS)
    proposal = Proposal.objects.get()
    before = dict(proposal.proposed_rules)
    response = client.post(f"/committee/p/{proposal.pk}/edit/", {**IN_EUROS, "rules_contribution_grid": "800 ; 5\n ; 50"})
    assert response.status_code == 200 and "minimum" in field_errors(response.content.decode(), "rules_contribution_grid")
    proposal.refresh_from_db()
    assert proposal.proposed_rules == before


def test_the_draft_shows_the_proposed_rules_beside_the_rules_in_force_with_the_form_s_labels():
    [author] = make_committee(1)
    client = client_for(author)
    client.post("/committee/new/", IN_EUROS)
    body = client.get(f"/committee/p/{Proposal.objects.get().pk}/").content.decode()
    table = re.search(r'data-testid="rules-compared".*?</table>', body, re.S).group(0)
    row = re.search(r"Allocation par foyer \(€ par mois\)</th><td>(.*?)</td><td>(.*?)</td>", table).groups()
    assert "120,00" in row[0] and "150,00" in row[1] and "nouvelle valeur" in row[1]
    assert "centimes" not in table and not RAW.search(table)
