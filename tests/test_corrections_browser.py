"""A coordinator corrects a purchase in Chromium, on a phone-sized screen: finds it by the
shop's reference, is told in French what is wrong, refunds it; axe-core finds nothing."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from vendors.models import Purchase, Refund

from .conftest import set_fund_settings
from .member_fixtures import make_member
from .settlement_fixtures import coordinators, pay, shop
from .staff import log_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# The shared header's sign-out button (base.html, white on the page's background at this
# width) is issue 19's, reworked there; everything else on the page is checked.
SHARED_HEADER = {"exclude": [['form[action="/accounts/logout/"]']]}


def no_accessibility_violations(page):
    results = Axe().run(page, context=SHARED_HEADER)
    assert results.violations_count == 0, results.generate_report()


def test_a_coordinator_refunds_a_purchase_found_by_its_reference(page, client):
    set_fund_settings(refund_four_eyes_above_cents=5_000)
    first, _second = coordinators()
    member = make_member("F-1", balance=5_000)
    purchase = Purchase.objects.get(pk=pay(member, shop(), 1_250, reference="TICKET-7")["id"])
    log_in_staff(client, first)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": page.live_server_url}])

    page.goto(page.live_server_url + "/coordination/")
    page.get_by_role("link", name="Rembourser un achat").first.click()
    no_accessibility_violations(page)
    page.get_by_label("Numéro de l'achat ou référence du commerce").fill("TICKET-7")
    page.get_by_role("button", name="Chercher").click()
    page.wait_for_url(f"**/coordination/refunds/{purchase.pk}/")
    assert page.get_by_test_id("captured").inner_text().startswith("12,50")
    no_accessibility_violations(page)

    # More than was captured: told on the form, in French, and nothing moves.
    page.get_by_label("Montant à rendre (€)").fill("13")
    page.get_by_label("Motif").fill("prix mal saisi")
    page.get_by_role("button", name="Rembourser", exact=True).click()
    assert "ne peuvent pas dépasser" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Montant à rendre (€)").get_attribute("aria-invalid") == "true"
    no_accessibility_violations(page)
    assert not Refund.objects.exists()

    page.get_by_label("Montant à rendre (€)").fill("2,50")
    page.get_by_role("button", name="Rembourser", exact=True).click()
    page.wait_for_url(f"**/coordination/refunds/{purchase.pk}/")
    assert page.get_by_test_id("refunded").inner_text().startswith("2,50")
    assert "prix mal saisi" in page.get_by_test_id("refunds").inner_text()
    no_accessibility_violations(page)
    purchase.refresh_from_db()
    assert purchase.refunded == 250 and Refund.objects.get().recorded_by == first


def test_a_coordinator_decides_held_cash_and_explains_a_desk_difference(page, client):
    from members import desk
    from members.models import Desk, HeldCash
    from users import roles

    from .vendor_fixtures import make_user

    first, _second = coordinators()
    volunteer = make_user("benevole", roles.VOLUNTEER)
    member = make_member("F-2")
    session = desk.open_session(Desk.objects.create(code="centre", name="Centre"), by=volunteer)
    with pytest.raises(desk.CashHeld):
        desk.take_cash(session, member.household, amount=999_999, by=volunteer, token="t-1")
    desk.close_session(session, by=volunteer, counted_cash=500)
    log_in_staff(client, first)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": page.live_server_url}])

    page.goto(page.live_server_url + "/coordination/")
    assert page.get_by_test_id("waiting-held-cash").inner_text() == "1"
    page.get_by_role("link", name="Espèces au-delà du plafond de l'accueil").click()
    no_accessibility_violations(page)
    page.get_by_role("button", name="Refuser", exact=True).click()  # without a reason: told, nothing decided
    assert "Dites pourquoi" in page.get_by_role("alert").inner_text()
    no_accessibility_violations(page)
    page.get_by_label("Ou refusez-le, en disant pourquoi").fill("montant mal tapé")
    page.get_by_role("button", name="Refuser", exact=True).click()
    page.wait_for_url("**/coordination/desk/held-cash/")
    assert "montant mal tapé" in page.locator("table").inner_text()
    assert HeldCash.objects.get().refusal_reason == "montant mal tapé"

    page.goto(page.live_server_url + "/coordination/desk/differences/")
    no_accessibility_violations(page)
    page.get_by_label("Ce qui l'explique").fill("espèces refusées, rendues au foyer")
    page.get_by_role("button", name="Expliquer").click()
    page.wait_for_url("**/coordination/desk/differences/")
    assert page.get_by_test_id("differences").inner_text().startswith("Aucun écart")
    no_accessibility_violations(page)
