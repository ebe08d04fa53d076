"""Issue 19 point 5 in Chromium at 360 px (a committee page): a rules change typed in
euros through the real sign-in, a bad amount and a grid under the minimum refused in
French at the top of the form and beside each field, then the draft saved, edited and
frozen once the vote opens; axe-core on every state of the page (any violation fails)."""

import pytest

from .browser_checks import visit

pytestmark = pytest.mark.browser


def _rules_in_force():
    from datetime import date

    from allocations import periods, rules
    from allocations.models import FundRules

    try:
        current = rules.rules_for(periods.current())
    except rules.NoRulesInForce:  # a transactional test flushes what the migrations wrote
        current = FundRules.objects.create(effective_from=date(2020, 1, 1), allocation_per_household=12_000,
                                           minimum_contribution=100)
    FundRules.objects.filter(pk=current.pk).update(allocation_per_household=12_000, minimum_contribution=100,
                                                   contribution_grid=[])
    return current


def test_a_rules_change_in_euros_refused_in_french_then_saved_edited_and_frozen(page, transactional_db):
    from governance.models import Proposal

    from .governance_fixtures import PASSWORD, make_committee
    from .test_journeys_browser import _sign_in

    _rules_in_force()
    [author] = make_committee(1, prefix="autrice")
    base = page.live_server_url
    _sign_in(page, author.username, PASSWORD)
    page.wait_for_url(base + "/committee/")
    page.goto(base + "/committee/new/")
    assert page.get_by_test_id("in-force-rules_allocation_per_household").inner_text() == "120,00\u00a0€"
    visit(page, "rules-change-1-form-360")

    page.get_by_label("De quoi s'agit-il ?").select_option("change_rules")
    page.get_by_label("La question, en mots simples").fill("Plus pour les familles")
    page.get_by_label("Allocation par foyer (€ par mois)").fill("1e2")
    page.get_by_label("Grille des cotisations suggérées").fill("800 ; 0,50\n ; 20")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    summary = page.get_by_test_id("error-summary")
    summary.wait_for()
    assert "« 1e2 » n'est pas un montant en euros" in summary.inner_text()
    assert "moins que la cotisation minimum (1,00\u00a0€)" in summary.inner_text()
    assert "cents" not in summary.inner_text() and "allocation_per_household" not in summary.inner_text()
    visit(page, "rules-change-2-refused-360")
    assert not Proposal.objects.exists()

    page.get_by_label("Allocation par foyer (€ par mois)").fill("150,50")
    page.get_by_label("Grille des cotisations suggérées").fill("800 ; 5\n ; 20")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.get_by_role("link", name="Modifier mon brouillon").wait_for()
    visit(page, "rules-change-3-draft-360")
    proposal = Proposal.objects.get()
    assert proposal.proposed_rules["allocation_per_household"] == 15_050
    assert proposal.proposed_rules["contribution_grid"] == [
        {"income_per_person_up_to": 80_000, "suggested": 500}, {"income_per_person_up_to": None, "suggested": 2_000}]
    page.get_by_text("Les règles proposées (à partir du mois suivant)").click()
    compared = page.get_by_test_id("rules-compared").inner_text()
    assert "120,00\u00a0€" in compared and "150,50\u00a0€" in compared  # in force, beside the proposed
    visit(page, "rules-change-3b-compared-360")

    page.get_by_role("link", name="Modifier mon brouillon").click()
    page.wait_for_url(base + f"/committee/p/{proposal.pk}/edit/")
    assert page.get_by_label("Allocation par foyer (€ par mois)").input_value() == "150,50"
    visit(page, "rules-change-4-edit-360")
    page.get_by_label("Allocation par foyer (€ par mois)").fill("155")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.get_by_role("link", name="Modifier mon brouillon").wait_for()
    proposal.refresh_from_db()
    assert proposal.proposed_rules["allocation_per_household"] == 15_500

    page.locator("form[action$='/open/'] button").click()
    page.wait_for_url(base + f"/committee/p/{proposal.pk}/")
    page.locator("main").wait_for()
    assert page.get_by_role("link", name="Modifier mon brouillon").count() == 0
    visit(page, "rules-change-5-open-360")
    assert page.goto(base + f"/committee/p/{proposal.pk}/edit/").status == 404
