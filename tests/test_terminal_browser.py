"""The web terminal in Debian's Chromium on a 360 px phone, in French: a payment, a
refusal (neutral), a partial payment offered at once, a refund."""

import pytest

from allocations.models import Account
from vendors.models import Purchase

from .member_fixtures import make_member
from .vendor_fixtures import PASSWORD, make_staff, make_vendor

pytestmark = pytest.mark.browser


def text(locator):
    return locator.inner_text().replace("\u202f", " ").replace("\u00a0", " ")


def test_the_terminal_at_360_px(page, transactional_db):
    shop = make_vendor("epicerie-du-coin", name="Épicerie du Coin")
    make_staff(shop, "vendeuse")
    member = make_member("F-0500", balance=3_200, pin="2468")
    base = page.live_server_url

    page.goto(base + "/accounts/login/?next=/vendor/terminal/")
    page.get_by_label("E-mail, téléphone ou numéro de carte").fill("vendeuse")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(base + "/vendor/terminal/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # A wrong PIN: neutral words, the reason small, no colour of its own.
    page.get_by_label("Numéro de carte ou QR code").fill(member.card.display_number)
    page.get_by_label("Montant (€)").fill("5")
    page.get_by_label("Code (tapé par le membre)").fill("1111")
    page.get_by_role("button", name="Payer", exact=True).click()
    headline = page.get_by_test_id("result-headline")
    headline.wait_for()
    assert text(headline) == "Le paiement n’est pas passé."
    assert text(page.get_by_test_id("result-reason")) == "Vous pouvez vérifier votre code ou votre solde sur votre espace."
    partial = page.get_by_role("button", name="Payer avec le solde, le reste autrement")
    assert not partial.is_visible()  # offered only when the balance is short
    refused_colour = headline.evaluate("e => getComputedStyle(e).color")
    page.get_by_role("button", name="Paiement suivant").click()
    page.wait_for_load_state()

    # More than the balance: refused, the partial payment offered at once.
    page.get_by_label("Numéro de carte ou QR code").fill(member.card.number)
    page.get_by_label("Montant (€)").fill("36,30")
    page.get_by_label("Code (tapé par le membre)").fill(member.pin)
    page.get_by_role("button", name="Payer", exact=True).click()
    partial.wait_for()
    assert text(headline) == "Le paiement n’est pas passé."
    assert text(page.get_by_test_id("result-reason")) == "Vous pouvez vérifier votre code ou votre solde sur votre espace."
    partial.click()
    page.get_by_text("Paiement accepté").wait_for()
    assert not partial.is_visible()
    assert text(page.get_by_test_id("result-detail")) == "32,00 € payés par la caisse, reste 4,30 € à payer"
    assert headline.evaluate("e => getComputedStyle(e).color") == refused_colour  # same look either way
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    purchase = Purchase.objects.get()
    assert (purchase.amount, purchase.requested) == (3_200, 3_630)

    # Refund part of today's payment.
    page.get_by_role("button", name="Paiement suivant").click()
    page.wait_for_load_state()
    page.locator("summary", has_text="Rembourser").first.click()
    page.get_by_label("Montant à rembourser (€)").fill("2,00")
    page.get_by_label("Motif").fill("article abîmé")
    page.get_by_role("button", name="Rembourser", exact=True).click()
    page.locator(".messages").get_by_text("Remboursé : 2,00").wait_for()
    assert Account.objects.get(pk=member.household.wallet_id).balance == 200
    assert member.household.reference not in page.content() and member.person.last_name not in page.content()
