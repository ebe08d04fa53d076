"""Paying from one's own phone, in Debian's Chromium with two browser contexts: the
shop's terminal and the member's phone at 360 px, each signed in through the real form.
The shop's screen turns to "Payé" without a reload."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

from allocations.models import Account
from vendors.models import PaymentRequest, Purchase

from .member_fixtures import PASSWORD, make_member
from .vendor_fixtures import make_staff, make_vendor

pytestmark = pytest.mark.browser


def text(locator):
    return locator.inner_text().replace("\u202f", " ").replace("\u00a0", " ")


def no_accessibility_violations(page):
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def sign_in(page, base, identifier, then):
    page.goto(base + "/accounts/login/?next=" + then)
    page.get_by_label("E-mail, téléphone ou numéro de carte").fill(identifier)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(base + then)


def test_the_shop_asks_the_member_confirms_on_their_phone_and_the_shop_sees_paid(browser, live_server,
                                                                                 transactional_db):
    shop = make_vendor("epicerie-du-coin", name="Épicerie du Coin")
    make_staff(shop, "vendeuse")
    member = make_member("F-2220", balance=3_000, pin="2468")
    base = live_server.url

    till_context = browser.new_context(viewport={"width": 800, "height": 900}, locale="fr-FR")
    phone_context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    try:
        till = till_context.new_page()
        phone = phone_context.new_page()
        for page in (till, phone):
            page.set_default_timeout(15_000)

        # The shop: from the terminal, a request for 12,50 €.
        sign_in(till, base, "vendeuse", "/vendor/terminal/")
        till.get_by_test_id("phone-request-link").click()
        till.get_by_label("Montant (€)").fill("12,50")
        till.get_by_role("button", name="Afficher le code").click()
        till.get_by_test_id("request-code").wait_for()
        code = text(till.get_by_test_id("request-code"))
        assert text(till.get_by_test_id("request-status")) == "En attente du téléphone du membre"
        assert till.get_by_test_id("request-qr").locator("svg").count() == 1
        no_accessibility_violations(till)
        till.evaluate("window.notReloaded = true")

        # The member, on their own phone, signed in with their card number: types the code.
        sign_in(phone, base, member.card.display_number, "/portal/")
        phone.get_by_role("link", name="Payer un commerce avec mon téléphone").click()
        phone.get_by_label("Le code du commerce").fill(code.lower())
        phone.get_by_role("button", name="Continuer").click()
        assert text(phone.get_by_test_id("pay-shop")) == "Épicerie du Coin"
        assert text(phone.get_by_test_id("pay-amount")).startswith("12,50")
        assert phone.get_by_label("Code de ma carte", exact=False).count() == 0  # below the fund's amount
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        no_accessibility_violations(phone)
        phone.get_by_test_id("pay-confirm").click()
        phone.get_by_test_id("pay-done").wait_for()
        no_accessibility_violations(phone)
        assert text(phone.get_by_test_id("done-amount")).startswith("12,50")

        # The shop's screen turns to "Payé" by itself, on the same page.
        till.get_by_test_id("request-status").filter(has_text="Payé").wait_for()
        assert till.evaluate("window.notReloaded") is True
        assert text(till.get_by_test_id("request-detail")) == "12,50 € payés par la caisse"
        assert till.get_by_test_id("request-qr").is_hidden()
        no_accessibility_violations(till)
        content = till.content()
        assert member.card.number[-4:] not in content and member.person.last_name not in content

        purchase = Purchase.objects.get()
        assert PaymentRequest.objects.get().purchase_id == purchase.pk and purchase.card_last4 == ""
        assert Account.objects.get(pk=member.household.wallet_id).balance == 1_750

        # The same code again, from the phone: a clear refusal, no money moved.
        phone.goto(f"{base}/portal/pay/{code}/")
        assert "déjà payée" in text(phone.get_by_test_id("pay-closed"))

        # A second request, cancelled by the shop: the phone is told so.
        till.goto(base + "/vendor/terminal/requests/")
        till.get_by_label("Montant (€)").fill("4")
        till.get_by_role("button", name="Afficher le code").click()
        second = text(till.get_by_test_id("request-code"))
        phone.goto(f"{base}/portal/pay/{second}/")
        till.get_by_test_id("request-cancel").click()
        till.get_by_test_id("request-status").filter(has_text="Annulée").wait_for()
        phone.get_by_test_id("pay-confirm").click()
        assert "annulé" in text(phone.get_by_test_id("pay-error"))
        assert Purchase.objects.count() == 1
    finally:
        till_context.close()
        phone_context.close()
    call_command("check_ledger")


def test_a_stall_without_device_is_paid_from_its_printed_code_the_pin_on_the_phone(page, browser, transactional_db):
    from vendors import payment_requests

    stall = make_vendor("marche-arceaux", name="Marché des Arceaux")
    make_staff(stall, "maraicher")
    member = make_member("F-2221", balance=3_000, pin="2468")
    base = page.live_server_url
    today = payment_requests.stall_code(stall)

    # The stall holder's printed page: the QR code and today's code on the list.
    holder_context = browser.new_context(viewport={"width": 800, "height": 900}, locale="fr-FR")
    try:
        holder = holder_context.new_page()
        sign_in(holder, base, "maraicher", "/vendor/stall/")
        assert text(holder.get_by_test_id("stall-today-code")) == today
        no_accessibility_violations(holder)

        # The member scans it (its address), types 25 € (above the fund's amount: the PIN).
        sign_in(page, base, member.card.display_number, "/portal/")
        page.goto(f"{base}/portal/pay/stall/{stall.slug}/{payment_requests.stall_token(stall)}/")
        page.get_by_label("Montant (€)").fill("25")
        page.get_by_role("button", name="Continuer").click()
        assert text(page.get_by_test_id("stall-shop")) == "Marché des Arceaux"
        assert text(page.get_by_test_id("stall-code")) == today
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        no_accessibility_violations(page)
        page.get_by_label(f"Code de ma carte •••• {member.card.last4}").fill("2468")
        page.get_by_test_id("pay-confirm").click()
        page.get_by_test_id("pay-done").wait_for()
        assert text(page.get_by_test_id("done-stall-code")) == today

        holder.reload()
        assert "25,00" in text(holder.get_by_test_id("stall-payments"))
        assert Purchase.objects.get().card_last4 == ""  # nothing of the card for the stall
    finally:
        holder_context.close()
    call_command("check_ledger")
