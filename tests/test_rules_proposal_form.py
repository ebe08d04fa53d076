"""Issue 19 point 5: a rules-change proposal typed in euros, the rules in force beside,
a draft editable by its author until the vote opens."""

import pytest
from django.test import Client

from allocations.models import FundRules
from governance.models import Kind, Proposal

from .governance_fixtures import make_committee

pytestmark = pytest.mark.django_db

IN_EUROS = {
    "kind": Kind.CHANGE_RULES, "title": "Plus pour les enfants", "text": "",
    "rules_allocation_per_household": "150", "rules_supplement_per_extra_adult": "75,00",
    "rules_supplement_per_child": "50,5", "rules_minimum_contribution": "10",
    "rules_minimum_contribution_per_extra_person": "5", "rules_contribution_grid": "800 ; 10\n ; 50",
    "rules_rollover_policy": "cap", "rules_rollover_cap": "50", "rules_prorate_first_month": "on",
    "rules_arrears_policy": "keep", "rules_arrears_grace_months": "3",
}


@pytest.fixture
def in_force():
    from datetime import date

    # The initial version the migrations write, unless a transactional test flushed it.
    current = FundRules.objects.order_by("effective_from").first() or FundRules.objects.create(
        effective_from=date(2020, 1, 1), allocation_per_household=12_000)
    FundRules.objects.filter(pk=current.pk).update(allocation_per_household=12_000)
    return current


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_rules_change_is_typed_in_euros_beside_the_rules_in_force(in_force):
    [author] = make_committee(1)
    client = client_for(author)
    page = client.get("/committee/new/").content.decode()
    assert "Allocation par foyer" in page and "120,00" in page  # in force, in euros, not 12000 cents
    assert 'name="proposed_rules"' not in page  # no JSON box

    response = client.post("/committee/new/", IN_EUROS)
    proposal = Proposal.objects.get()
    assert response.status_code == 302
    assert proposal.proposed_rules["allocation_per_household"] == 15_000
    assert proposal.proposed_rules["supplement_per_child"] == 5_050
    assert proposal.proposed_rules["contribution_grid"] == [
        {"income_per_person_up_to": 80_000, "suggested": 1_000}, {"income_per_person_up_to": None, "suggested": 5_000}]
    assert proposal.proposed_rules["prorate_first_month"] is True
    detail = client.get(f"/committee/p/{proposal.pk}/").content.decode()
    assert "150,00" in detail and "15000" not in detail


def test_a_bad_amount_is_named_at_the_top_and_changes_nothing(in_force):
    [author] = make_committee(1)
    page = client_for(author).post("/committee/new/", {**IN_EUROS, "rules_allocation_per_household": "1e2"})
    body = page.content.decode()
    assert page.status_code == 200 and 'data-testid="error-summary"' in body and "1e2" in body
    assert not Proposal.objects.exists()


def test_the_author_edits_the_draft_until_the_vote_opens(in_force):
    author, other = make_committee(2)
    client = client_for(author)
    client.post("/committee/new/", IN_EUROS)
    proposal = Proposal.objects.get()
    assert "150,00" in client.get(f"/committee/p/{proposal.pk}/edit/").content.decode()
    assert client_for(other).get(f"/committee/p/{proposal.pk}/edit/").status_code == 404  # the author's only

    client.post(f"/committee/p/{proposal.pk}/edit/", {**IN_EUROS, "rules_allocation_per_household": "160"})
    proposal.refresh_from_db()
    assert proposal.proposed_rules["allocation_per_household"] == 16_000

    client.post(f"/committee/p/{proposal.pk}/open/")
    proposal.refresh_from_db()
    assert proposal.state == "open"
    assert client.get(f"/committee/p/{proposal.pk}/edit/").status_code == 404
    client.post(f"/committee/p/{proposal.pk}/edit/", {**IN_EUROS, "rules_allocation_per_household": "999"})
    proposal.refresh_from_db()
    assert proposal.proposed_rules["allocation_per_household"] == 16_000
