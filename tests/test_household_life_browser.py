"""Issue 20's journey in Chromium: a household's whole life, through the real sign-in of
a desk volunteer (password, then the second factor typed as a code).

Apply with no draw open → told of the next draw → the draw → rank checked anonymously →
the place taken at the desk → a portal login and a first card → the member chooses the
contribution on the desk's screen (the volunteer's next page shows no amount) → cash →
pause → resume → leave (the balance back to the fund, `check_ledger` clean, the portal
says what happened). axe-core on each page of the journey: no violation.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group

from allocations import ledger
from allocations.integrity import check_ledger
from allocations.models import AccountKind, Transfer, TransferKind
from members import contributions, lottery
from members.models import Card, Draw, DrawEntry, Household
from users import roles, second_factor
from users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Accueil-du-mardi-2026"
AXE = Axe()


def no_axe_violations(page):
    results = AXE.run(page)
    assert results.violations_count == 0, results.generate_report()


def submit(page, selector):
    page.locator(selector).click()
    page.wait_for_load_state()


@pytest.fixture
def clock():
    start = datetime.now(UTC).replace(second=10, microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def test_browser_a_households_whole_life_at_the_desk(page, browser, clock):
    base = page.live_server_url
    # 1. Apply with no draw open: told it joins the next draw; number and code on screen.
    assert not Draw.objects.exists()
    page.goto(base + "/apply/")
    page.fill("#id_first_name", "Inès")
    page.fill("#id_last_name", "Morel")
    page.fill("#id_phone", "06 10 20 30 40")
    page.fill("#id_address", "3 rue du Pila-Saint-Gély")
    page.fill("#id_postal_code", "34000")
    page.check("input[name=income_bracket][value=low]")
    page.check("input[name=age_bracket][value='30_44']")
    submit(page, "form.stack button[type=submit]")
    number = page.locator("#application-number").inner_text()
    code = page.locator("#draw-code").inner_text()
    assert "prochain tirage" in page.locator("#next-draw").inner_text()
    no_axe_violations(page)
    household = Household.objects.get(reference=number)
    assert household.cohort is None

    # 2. The coordinators open a draw, then close it and draw (their pages are not the subject).
    draw = Draw.objects.create(cohort="2026-printemps", places=1, planned_on=datetime(2026, 12, 15).date())
    page.goto(base + "/apply/check/")
    page.fill("#id_number", number)
    page.fill("#id_code", code.lower())
    submit(page, "form.stack button[type=submit]")
    assert "15 décembre 2026" in page.locator("#outcome").inner_text()
    lottery.run_draw(lottery.close_applications(draw))

    # 3. The rank, checked anonymously.
    page.goto(base + "/apply/check/")
    page.fill("#id_number", number)
    page.fill("#id_code", code)
    submit(page, "form.stack button[type=submit]")
    outcome = page.locator("#outcome").inner_text()
    assert "1 sur 1" in outcome and "tiré" in outcome.lower()
    no_axe_violations(page)

    # 4. The volunteer signs in: password, then the code of their authenticator app.
    volunteer = User.objects.create_user(username="benevole-mardi", password=PASSWORD)
    volunteer.groups.add(Group.objects.get(name=roles.VOLUNTEER))
    secret = generate_totp_secret()
    TOTP.activate(volunteer, secret)
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", "benevole-mardi")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button").first.click()
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.fill("input[name=code]", second_factor.current_code(secret))
    page.locator("main form button").first.click()
    page.wait_for_url(re.compile(r"/desk/$"))
    submit(page, "#cash-book button[type=submit]")  # open the desk
    page.fill("input[name=q]", number)
    submit(page, "form[role=search] button")
    submit(page, f"text={number}")

    # 5. The place taken: active, with its history.
    submit(page, "#place form:first-of-type button")
    assert "Actif" in page.locator("#household-status").inner_text()
    assert "benevole-mardi" in page.locator("#history").inner_text()
    no_axe_violations(page)
    household.refresh_from_db()
    assert household.status == Household.Status.ACTIVE
    assert DrawEntry.objects.get(household=household).outcome == DrawEntry.Outcome.ACCEPTED

    # 6. A portal login: the activation letter, printed.
    submit(page, "#membership form[action$='/login/'] button")
    username = page.locator("dd.secret").nth(0).inner_text()
    activation = page.locator("dd.secret").nth(1).inner_text()
    page.go_back()

    # 7. The member chooses the contribution on the desk's screen; the volunteer's next page shows no amount.
    page.goto(base + f"/desk/households/{number}/")
    submit(page, "#membership a.button")
    assert page.locator("#grid").count() == 1
    no_axe_violations(page)
    page.fill("#id_amount", "12,34")
    submit(page, "form.stack button[type=submit]")
    assert page.url.endswith(f"/desk/households/{number}/")
    assert "12,34" not in page.content() and "1234" not in page.content()
    assert contributions.contribution_for(household, contributions.periods.shift(contributions.periods.current(), 1)) == 1234

    # 8. The first card, its PIN on paper.
    submit(page, "#cards form[action$='/card/'] button")
    assert len(page.locator("#pin").inner_text().strip()) >= 4
    card = Card.objects.get(household=household)

    # 9. Cash at the desk.
    page.goto(base + f"/desk/households/{number}/")
    page.fill("#id_amount", "5")
    submit(page, "#cash button[type=submit]")
    assert "5,00\u00a0€" in page.locator("#receipt").inner_text()

    # 10. Pause (a reason from the list), then resume.
    page.goto(base + f"/desk/households/{number}/")
    page.select_option("#pause-form select[name=reason]", "health")
    submit(page, "#pause-form button")
    assert "pause" in page.locator("#household-status").inner_text().lower()
    submit(page, "form[action$='/resume/'] button")
    assert "Actif" in page.locator("#household-status").inner_text()

    # 11. Leave: the wallet's balance goes back to the fund in the same transaction.
    ledger.transfer(debit=ledger.system_account(AccountKind.ISSUANCE), credit=household.wallet, amount=20696,
                    kind=TransferKind.ALLOCATION, idempotency_key="journey-allocation")
    page.click("#leave summary")
    page.select_option("#leave select[name=reason]", "moved")
    page.check("#leave input[name=confirm]")
    submit(page, "#leave button[type=submit]")
    assert "quitté" in page.locator("#household-status").inner_text().lower() or \
        "sorti" in page.locator("#household-status").inner_text().lower()
    household.refresh_from_db()
    household.wallet.refresh_from_db()
    assert household.status == Household.Status.EXITED and household.wallet.balance == 0
    assert Transfer.objects.get(kind=TransferKind.EXIT).amount == 20696
    card.refresh_from_db()
    assert card.status == Card.Status.BLOCKED
    assert check_ledger().ok

    # 12. The member opens their space with the letter: the portal says what happened.
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    member = context.new_page()
    member.goto(base + "/accounts/activate/")
    member.fill("input[name=username]", username)
    member.fill("input[name=code]", activation)
    member.fill("input[name=password1]", "Ma-caisse-a-moi-2026")
    member.fill("input[name=password2]", "Ma-caisse-a-moi-2026")
    member.locator("main form button").first.click()
    member.goto(base + "/portal/")
    ended = member.locator("#membership-ended").inner_text()
    assert "206,96" in ended and "revenus à la caisse" in ended
    assert "Prochaine allocation" not in member.content()
    no_axe_violations(member)
    context.close()
