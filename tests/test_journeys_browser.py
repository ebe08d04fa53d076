"""Issue 19: every person's journey in Chromium, through the real sign-in (the second
factor for staff), axe-core on every page opened (any violation fails), a screenshot of
each page kept under test-output/journeys for people to look at.

360 px for the public, member, terminal and committee pages; 1280 px for coordination."""

import pytest
from django.core.management import call_command

from .browser_checks import transferred_bytes, visit

pytestmark = pytest.mark.browser


def test_the_applicant_from_the_home_page_to_the_confirmation(page, transactional_db):
    base = page.live_server_url
    page.goto(base + "/")
    visit(page, "applicant-1-home-360")
    page.get_by_role("link", name="Demander l’aide pour mon foyer").click()
    page.wait_for_url(base + "/apply/")
    visit(page, "applicant-2-form-360")

    page.get_by_role("button", name="Envoyer ma demande").click()  # nothing filled in: the summary first
    summary = page.get_by_test_id("error-summary")
    summary.wait_for()
    visit(page, "applicant-3-errors-360")
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_first_name"

    page.get_by_label("Prénom").fill("Awa")
    page.get_by_label("Téléphone").fill("06 12 34 56 78")
    page.get_by_label("Adresse postale").fill("3 rue des Lilas")
    page.get_by_label("Code postal").fill("34000")
    page.locator("[name=income_bracket]").first.check()
    page.locator("[name=age_bracket]").first.check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.locator("#application-number").wait_for()
    visit(page, "applicant-4-confirmation-360")


def test_the_public_pages_a_shop_and_a_developer_open(page, transactional_db):
    base = page.live_server_url
    page.goto(base + "/")
    page.get_by_role("link", name="Un commerce qui veut rejoindre la caisse").click()
    page.wait_for_url(base + "/vendor/apply/")
    visit(page, "shop-apply-360")
    page.goto(base + "/api/v1/docs/")
    visit(page, "api-reference-360")
    page.goto(base + "/nulle-part/")
    visit(page, "not-found-360")


def _sign_in(page, identifier, password):
    page.goto(page.live_server_url + "/accounts/login/")
    page.get_by_label("E-mail, téléphone ou numéro de carte").fill(identifier)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def test_the_shop_terminal_then_the_member_s_space(page, transactional_db, capsys):
    from members.models import ShopReport
    from vendors.models import Purchase

    from .member_fixtures import PASSWORD, make_member
    from .settlement_fixtures import BIC, IBAN, coordinators, fund_treasury, run_and_pay
    from .vendor_fixtures import PASSWORD as STAFF_PASSWORD
    from .vendor_fixtures import make_staff, make_vendor

    shop = make_vendor("epicerie-du-coin", name="Épicerie du Coin", iban=IBAN, bic=BIC)
    make_staff(shop, "vendeuse")
    member = make_member("F-1960", balance=3_200, pin="2468")
    base = page.live_server_url
    neutral = ("Le paiement n’est pas passé.", "Vous pouvez vérifier votre code ou votre solde sur votre espace.")

    # The shop: a payment, a wrong PIN and a short balance (the same neutral words), the partial, a refund.
    _sign_in(page, "vendeuse", STAFF_PASSWORD)
    page.wait_for_url(base + "/vendor/terminal/")
    visit(page, "shop-1-terminal-360")
    headline, reason = page.get_by_test_id("result-headline"), page.get_by_test_id("result-reason")
    partial = page.get_by_role("button", name="Payer avec le solde, le reste autrement")
    next_sale = page.get_by_role("button", name="Paiement suivant")

    def sale(amount, pin):
        page.get_by_label("Numéro de carte ou QR code").fill(member.card.number)
        page.get_by_label("Montant (€)").fill(amount)
        page.get_by_label("Code (tapé par le membre)").fill(pin)
        page.get_by_role("button", name="Payer", exact=True).click()
        next_sale.wait_for()

    sale("2", member.pin)
    assert headline.inner_text() == "Paiement accepté" and not partial.is_visible()
    visit(page, "shop-2-accepted-360")
    next_sale.click()
    page.wait_for_load_state()
    sale("5", "1111")
    assert (headline.inner_text(), reason.inner_text()) == neutral and not partial.is_visible()
    visit(page, "shop-3-wrong-pin-360")
    next_sale.click()
    page.wait_for_load_state()
    sale("40", member.pin)
    assert (headline.inner_text(), reason.inner_text()) == neutral and partial.is_visible()
    visit(page, "shop-4-short-balance-360")
    partial.click()
    page.get_by_text("Paiement accepté").wait_for()
    next_sale.click()
    page.wait_for_load_state()
    page.locator("summary", has_text="Rembourser").first.click()
    page.get_by_label("Montant à rembourser (€)").first.fill("1,00")
    page.get_by_role("button", name="Rembourser", exact=True).first.click()
    page.locator(".messages").wait_for()
    visit(page, "shop-5-refund-360")
    assert sorted(Purchase.objects.values_list("amount", flat=True)) == [200, 3_000]
    fund_treasury()
    run_and_pay(*coordinators())  # the week's settlement, paid with four eyes
    page.get_by_role("link", name="Tableau de bord").first.click()
    page.wait_for_url(base + "/vendor/")
    visit(page, "shop-6-dashboard-360")
    page.get_by_test_id("settlement").first.get_by_role("link").first.click()
    page.wait_for_url("**/vendor/statements/**")
    visit(page, "shop-7-statement-360")
    page.context.clear_cookies()

    # The member: the card number to sign in, then balance, history, shops, lock the card, report.
    sizes = {}
    _sign_in(page, member.card.display_number, PASSWORD)
    page.wait_for_url(base + "/portal/")
    visit(page, "member-1-balance-360")
    sizes["balance"] = transferred_bytes(page)
    tabs = page.get_by_role("navigation", name="Mon espace").get_by_role("link")
    assert tabs.count() == 7
    for i in range(tabs.count()):  # every tab on the phone's screen: none hidden off to the side
        box = tabs.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["height"] >= 24
    assert "code tapé était faux" in page.content() or "solde était trop bas" in page.content()  # the reason, here
    for tab, name in (("Historique", "history"), ("Où dépenser", "shops"), ("Mes cartes", "cards")):
        page.get_by_role("navigation", name="Mon espace").get_by_role("link", name=tab).click()
        page.wait_for_load_state()
        visit(page, f"member-2-{name}-360")
        sizes[name] = transferred_bytes(page)
    page.get_by_role("link", name=f"Carte •••• {member.card.last4}").click()
    page.get_by_role("button", name="Verrouiller ma carte pour l'instant").click()
    page.locator(".messages").wait_for()
    visit(page, "member-3-card-locked-360")
    sizes["card"] = transferred_bytes(page)
    page.get_by_role("link", name="Signaler un problème").click()
    page.wait_for_load_state()
    visit(page, "member-4-report-360")
    page.get_by_label("Quel commerce ?").select_option(label="Épicerie du Coin")
    page.get_by_label("Un paiement que je n'ai pas fait").check()
    page.get_by_label("Racontez-nous").fill("Un paiement que je n'ai pas fait.")
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_text("Merci.").first.wait_for()
    visit(page, "member-5-report-sent-360")
    sizes["report"] = transferred_bytes(page)
    assert ShopReport.objects.count() == 1
    with capsys.disabled():
        print("\nMember pages, bytes transferred (first visit, cache cold for the first page):", sizes)


def test_a_committee_member_without_a_household_proposes_votes_and_checks_the_receipt(page, transactional_db):
    from governance import decisions, votes
    from governance.models import Kind, Proposal
    from vendors.models import Vendor

    from .governance_fixtures import PASSWORD as COMMITTEE_PASSWORD
    from .governance_fixtures import make_committee, open_proposal
    from .vendor_fixtures import make_vendor

    facilitator, seat = make_committee(2, prefix="comite")
    vendor = make_vendor("ferme-des-cigales", status=Vendor.Status.APPLIED, name="Ferme des Cigales")
    secret = open_proposal(Kind.APPROVE_VENDOR, facilitator, vendor=vendor, title="Conventionner la Ferme des Cigales ?")
    base = page.live_server_url

    _sign_in(page, seat.username, COMMITTEE_PASSWORD)
    page.wait_for_url(base + "/committee/")
    visit(page, "committee-1-home-360")
    assert page.get_by_role("link", name="Mes cartes").count() == 0  # no household: no dead-end tabs

    page.get_by_role("navigation", name="Comité").get_by_role("link", name="Proposer").click()
    page.wait_for_url(base + "/committee/new/")
    visit(page, "committee-2-new-proposal-360")
    page.get_by_label("De quoi s'agit-il ?").select_option("motion")
    page.get_by_label("La question, en mots simples").fill("Un marché le dimanche ?")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.get_by_role("link", name="Modifier mon brouillon").wait_for()
    visit(page, "committee-3-draft-360")
    assert Proposal.objects.get(title="Un marché le dimanche ?").state == "draft"

    page.goto(base + f"/committee/p/{secret.pk}/")
    visit(page, "committee-4-vote-360")
    page.get_by_role("button", name="Pour").click()
    page.get_by_text("Votre vote est compté.", exact=False).first.wait_for()
    code = page.get_by_test_id("receipt").inner_text().strip()
    visit(page, "committee-5-voted-360")

    votes.cast(secret, facilitator, "for")
    decisions.close(secret, by=facilitator, early=True)
    page.goto(base + f"/committee/p/{secret.pk}/results/")
    visit(page, "committee-6-results-360")
    page.get_by_role("link", name="Vérifier mon vote secret avec mon code de reçu").click()
    page.get_by_label("Votre code de reçu").fill(code)
    page.get_by_role("button", name="Vérifier").click()
    page.get_by_test_id("receipt-result").wait_for()
    visit(page, "committee-7-receipt-360")


def test_a_coordinator_signs_in_with_the_second_factor_proposes_a_rules_change_in_euros_and_reads_the_audit(
        browser, live_server, transactional_db):
    from datetime import UTC, date, datetime, timedelta

    import time_machine
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from allocations.models import FundRules
    from governance.models import Proposal
    from users import second_factor

    from .vendor_fixtures import PASSWORD as STAFF_PASSWORD
    from .vendor_fixtures import make_coordinator

    if not FundRules.objects.exists():  # an earlier transactional test flushed the migrations' version
        FundRules.objects.create(effective_from=date(2020, 1, 1), allocation_per_household=10_000)
    coordinator = make_coordinator("coordinatrice")
    secret = generate_totp_secret()
    TOTP.activate(coordinator, secret)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = live_server.url
    # Mid-period, so that typing the code never crosses into the next one.
    start = datetime.now(UTC).replace(second=10, microsecond=0) + timedelta(minutes=1)
    try:
        with time_machine.travel(start, tick=False):
            page.live_server_url = base
            _sign_in(page, "coordinatrice", STAFF_PASSWORD)
            page.wait_for_url("**/accounts/2fa/authenticate/**")
            visit(page, "coordinator-1-second-factor-1280")
            page.fill("input[name=code]", second_factor.current_code(secret))
            page.locator("main form button").first.click()
            page.wait_for_url(base + "/coordination/")
        visit(page, "coordinator-2-dashboard-1280")
        main = page.locator("main").bounding_box()
        assert main["width"] > 1100  # the desk screen's whole width, not 40 %
        chart = page.locator("svg.chart").first.bounding_box()
        assert chart["width"] > 500  # a chart, not a thumbnail

        page.get_by_role("link", name="Proposer un changement de règles").click()
        page.wait_for_url(base + "/committee/new/")
        visit(page, "coordinator-3-rules-change-1280")
        page.get_by_label("De quoi s'agit-il ?").select_option("change_rules")
        page.get_by_label("La question, en mots simples").fill("Une allocation de 160 €")
        page.get_by_label("Allocation par foyer (€ par mois)").fill("160")
        page.get_by_role("button", name="Enregistrer le brouillon").click()
        page.get_by_role("link", name="Modifier mon brouillon").wait_for()
        visit(page, "coordinator-4-draft-1280")
        assert Proposal.objects.get().proposed_rules["allocation_per_household"] == 16_000

        page.goto(base + "/coordination/audit/")
        visit(page, "coordinator-5-audit-1280")

        # Every other page of the coordination menu, on the same screen.
        links = page.get_by_role("navigation", name="Coordination").get_by_role("link")
        for href in [links.nth(i).get_attribute("href") for i in range(links.count())]:
            page.goto(base + href)
            visit(page, "coordinator-7-" + href.strip("/").replace("/", "-") + "-1280")

        # A statement line no rule matched: the coordinator picks what it is (a bank fee).
        line = _unmatched_bank_fee_line()
        page.goto(base + "/coordination/bank/")
        page.get_by_role("link", name="Choisir une correspondance").first.click()
        page.wait_for_url(f"{base}/coordination/bank/lines/{line.pk}/match/")
        visit(page, "coordinator-8-bank-line-match-1280")
        page.get_by_label("Frais bancaires", exact=False).first.check()
        page.get_by_role("button", name="Enregistrer ce rapprochement").click()
        page.wait_for_url(base + "/coordination/bank/")
        visit(page, "coordinator-9-bank-line-matched-1280")
        line.refresh_from_db()
        assert line.match == line.Match.BANK_FEE
        call_command("check_ledger")

        # 200 % zoom on the same screen: 640 CSS pixels wide, still nothing to scroll sideways.
        page.set_viewport_size({"width": 640, "height": 450})
        for path, name in (("/coordination/", "dashboard"), ("/coordination/audit/", "audit")):
            page.goto(base + path)
            visit(page, f"coordinator-6-{name}-zoom-200")
    finally:
        context.close()


def _unmatched_bank_fee_line():
    """A treasury with money in it and a statement whose one debit line carries no code a
    rule knows: left for a person."""
    from datetime import date

    from coordination.models import BankStatement, BankStatementLine

    from .settlement_fixtures import fund_treasury

    fund_treasury()
    statement = BankStatement.objects.create(
        statement_id="STMT-JOURNEY", account_iban="FR7630006000011234567890189", version="camt.053.001.02",
        closing_balance=0, closing_date=date(2026, 1, 31))
    return BankStatementLine.objects.create(
        statement=statement, index=1, reference="BQ-JOURNEY", amount=1_200, credit=False, value_date=date(2026, 1, 30),
        bank_code="PMNT/ICDT/ESCT", remittance="VIREMENT")
