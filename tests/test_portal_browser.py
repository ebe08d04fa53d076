"""The member portal in Debian's Chromium, on a 360 px wide phone, in French."""

import pytest

from members.models import ShopReport
from vendors.models import Vendor
from vendors.services import register_vendor

from .member_fixtures import PASSWORD, make_member

pytestmark = pytest.mark.browser


def test_a_member_logs_in_sees_the_balance_the_card_and_reports_a_problem(page, transactional_db):
    register_vendor(slug="marche-arceaux", display_name="Marché des Arceaux", kind=Vendor.Kind.MARKET,
                    status=Vendor.Status.APPROVED, district="Centre")
    member = make_member("F-0360", email="nadia@example.org", balance=8_750)
    base = page.live_server_url

    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail, téléphone ou numéro de carte").fill(member.card.display_number)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    page.wait_for_url(base + "/portal/")
    assert page.get_by_test_id("balance").inner_text().replace("\u202f", " ").replace("\u00a0", " ") == "87,50 MonA"
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_role("link", name="Ma cotisation").click()
    page.get_by_label("Ma cotisation mensuelle à partir du mois prochain").fill("0,50")
    page.get_by_role("button", name="Changer ma cotisation").click()
    error = page.locator(".errorlist").first
    assert "La cotisation mensuelle doit être d'au moins 1,00" in error.inner_text()

    page.goto(base + "/portal/cards/")
    page.get_by_role("link", name=f"Carte •••• {member.card.last4}").click()
    qr = page.get_by_test_id("qr").locator("svg")
    box = qr.bounding_box()
    assert box["width"] > 150 and box["x"] >= 0 and box["x"] + box["width"] <= 360

    page.goto(base + "/portal/reports/")
    page.get_by_label("Quel commerce ?").select_option(label="Marché des Arceaux")
    page.get_by_label("Un paiement que je n'ai pas fait").check()
    page.get_by_label("Racontez-nous").fill("Un paiement de 12 € que je n'ai pas fait samedi.")
    page.get_by_label("Envoyer sans mon nom").check()
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_text("Merci. L'équipe de coordination a reçu votre message").wait_for()
    report = ShopReport.objects.get()
    assert report.anonymous and report.household is None and report.vendor.slug == "marche-arceaux"
