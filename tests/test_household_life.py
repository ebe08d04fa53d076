"""Issue 20 (a household's whole life at the desk) and #17 point 4 (duplicate
applications): services and pages, without a browser (see test_household_life_browser)."""

import itertools
import uuid
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection

from allocations import keys, ledger, periods
from allocations.integrity import check_ledger
from allocations.models import AccountKind, Transfer, TransferKind
from members import cards, contributions, enrolment, lottery
from members.brackets import AgeBracket, IncomeBracket
from members.models import Card, DeskAction, Draw, DrawEntry, Household, HouseholdStatusChange
from members.selectors import issuable_households_sql
from users import roles

from .test_households_pages import assert_private, user_with

pytestmark = pytest.mark.django_db

_phones = itertools.count(1)


def apply(first_name="Ana", income=IncomeBracket.LOW, age=AgeBracket.FROM_30, by=None, **fields):
    fields.setdefault("phone", f"07{next(_phones):08d}")
    return enrolment.apply(persons=[{"first_name": first_name, "last_name": "Lenoir", "birth_year": 1985}],
                           income_bracket=income, age_bracket=age, by=by, **fields)


def new_draw(places=2, **fields):
    return Draw.objects.create(cohort=f"2026-{uuid.uuid4().hex[:4]}", places=places,
                               strata=[{"key": "low", "income_brackets": ["low"], "share": 50}], **fields)


def member(**fields):
    household = apply(**fields)
    enrolment.set_status(household, Household.Status.DRAWN)
    enrolment.set_status(household, Household.Status.ACTIVE)
    household.refresh_from_db()
    return household


def issuable_ids(day):
    sql, params = issuable_households_sql(day)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


# --- Applying with no draw open, the draw code ------------------------------------------


def test_an_application_with_no_draw_open_joins_the_next_draw_and_is_told(client):
    assert not Draw.objects.exists()
    response = client.post("/apply/", {
        "first_name": "Inès", "last_name": "Morel", "phone": "06 10 20 30 40", "address": "3 rue du Pila",
        "postal_code": "34000", "other_adults": 0, "children": 1, "income_bracket": "low", "age_bracket": "30_44"})
    body = response.content.decode()
    household = Household.objects.get(persons__first_name="Inès")
    assert response.status_code == 200 and household.cohort is None
    assert household.reference in body and "prochain tirage" in body
    assert enrolment.display_draw_code(household.draw_code) in body  # the draw code, on screen and paper
    draw = new_draw(places=5)
    lottery.close_applications(draw)
    household.refresh_from_db()
    assert household.cohort == draw and draw.entries.get().household == household
    # The code given when applying is the one the draw ranks with.
    assert draw.entries.get().secret == household.draw_code


def test_an_application_while_a_draw_is_open_is_told_its_date(client):
    new_draw(planned_on=date(2026, 12, 15))
    body = client.post("/apply/", {
        "first_name": "Inès", "last_name": "Morel", "phone": "06 10 20 30 41", "address": "3 rue du Pila",
        "postal_code": "34000", "other_adults": 0, "children": 0, "income_bracket": "low",
        "age_bracket": "30_44"}).content.decode()
    assert "15 décembre 2026" in body


# --- The public rank check -----------------------------------------------------------


def test_anyone_checks_their_rank_and_outcome_with_number_and_code_no_login(client):
    draw = new_draw(places=1)
    households = [apply(f"P{n}") for n in range(4)]
    lottery.run_draw(lottery.close_applications(draw))
    for household in households:
        entry = DrawEntry.objects.get(household=household)
        typed = enrolment.display_draw_code(household.draw_code).lower()  # as typed from paper
        response = client.post("/apply/check/", {"number": household.reference.lower(), "code": typed})
        body = response.content.decode()
        assert response.status_code == 200
        assert f"{entry.rank} sur 4" in body
        if entry.outcome == DrawEntry.Outcome.WAITLISTED:
            assert f"position {entry.waitlist_position}" in body
    wrong = client.post("/apply/check/", {"number": households[0].reference, "code": "AAAAA-AAAAA"})
    unknown = client.post("/apply/check/", {"number": "F999999", "code": "AAAAA-AAAAA"})
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.content.decode().count("ne correspondent pas") == unknown.content.decode().count("ne correspondent pas") == 1


def test_before_the_draw_the_check_says_it_waits_for_the_next_draw():
    household = apply()
    outcome = lottery.public_outcome(household.reference, household.draw_code)
    assert outcome.waiting and outcome.draw is None
    draw = new_draw(planned_on=date(2027, 1, 20))
    assert lottery.public_outcome(household.reference, household.draw_code).draw == draw


def test_the_rank_check_is_rate_limited(client, settings):
    settings.CAISSE_RANK_CHECKS_PER_HOUR = 3
    for _ in range(3):
        assert client.post("/apply/check/", {"number": "F000001", "code": "X"}).status_code == 400
    assert client.post("/apply/check/", {"number": "F000001", "code": "X"}).status_code == 429


def test_the_public_application_form_is_rate_limited(client, settings):
    settings.CAISSE_APPLICATIONS_PER_HOUR = 2
    for n in range(3):
        response = client.post("/apply/", {
            "first_name": f"A{n}", "phone": f"06 55 00 00 0{n}", "address": f"{n} rue B", "postal_code": "34000",
            "other_adults": 0, "children": 0, "income_bracket": "low", "age_bracket": "30_44"})
    assert response.status_code == 429
    assert Household.objects.count() == 2


# --- Taking or declining a place ------------------------------------------------------


def drawn_entries(places=2, low=4, others=4):
    draw = new_draw(places=places)
    for n in range(low):
        apply(f"L{n}", income=IncomeBracket.LOW)
    for n in range(others):
        apply(f"O{n}", income=IncomeBracket.HIGH)
    lottery.run_draw(lottery.close_applications(draw))
    return draw


def test_a_place_declined_at_the_desk_passes_to_the_next_of_the_same_stratum(client, mail_after_commit):
    from django.core import mail

    from .staff import log_in_staff

    volunteer = user_with(roles.VOLUNTEER)
    log_in_staff(client, volunteer)
    draw = drawn_entries()
    declined = draw.entries.get(stratum="low", outcome=DrawEntry.Outcome.DRAWN)
    expected = draw.entries.filter(stratum="low", outcome=DrawEntry.Outcome.WAITLISTED).order_by("waitlist_position")[0]
    Household.objects.filter(pk=expected.household_id).update(email="next@example.org")
    with mail_after_commit():
        response = client.post(f"/desk/households/{declined.household.reference}/place/decline/")
    assert response.status_code == 302
    # The next of the stratum is told by e-mail that a place waits for them.
    assert [message.to for message in mail.outbox] == [["next@example.org"]]
    assert expected.household.reference in mail.outbox[0].body
    declined.refresh_from_db()
    expected.refresh_from_db()
    assert declined.outcome == DrawEntry.Outcome.DECLINED and expected.outcome == DrawEntry.Outcome.DRAWN
    assert expected.household.status_changes.last().by == volunteer
    assert declined.household.status_changes.last().by == volunteer
    # The place passed on is offered at the desk: the next one takes it.
    client.post(f"/desk/households/{expected.household.reference}/place/take/")
    expected.household.refresh_from_db()
    assert expected.household.status == Household.Status.ACTIVE and expected.household.joined_on == date.today()
    assert DeskAction.objects.filter(kind="place_taken", household=expected.household, actor=volunteer).exists()


def test_a_place_not_taken_in_time_expires_and_passes_on_in_its_stratum(settings):
    settings.CAISSE_DAYS_TO_TAKE_A_PLACE = 10
    with time_machine.travel(datetime(2026, 11, 2, 10, tzinfo=UTC), tick=False):
        draw = drawn_entries()
    late = draw.entries.get(stratum="low", outcome=DrawEntry.Outcome.DRAWN)
    taken = draw.entries.get(stratum="", outcome=DrawEntry.Outcome.DRAWN)
    lottery.accept(taken)
    expected = draw.entries.filter(stratum="low", outcome=DrawEntry.Outcome.WAITLISTED).order_by("waitlist_position")[0]
    with time_machine.travel(datetime(2026, 11, 11, 10, tzinfo=UTC), tick=False):
        assert lottery.expire_places() == 0
    with time_machine.travel(datetime(2026, 11, 13, 10, tzinfo=UTC), tick=False):
        assert lottery.expire_places() == 1
    late.refresh_from_db()
    expected.refresh_from_db()
    assert late.outcome == DrawEntry.Outcome.EXPIRED and expected.outcome == DrawEntry.Outcome.DRAWN


# --- The contribution, chosen by the member on the desk's screen ----------------------


def test_the_member_chooses_on_the_desks_screen_and_the_volunteer_never_sees_the_amount(client):
    from .staff import log_in_staff

    log_in_staff(client, user_with(roles.VOLUNTEER))
    household = member()
    page = client.get(f"/desk/households/{household.reference}/contribution/")
    assert page.status_code == 200 and 'id="grid"' in page.content.decode()
    response = client.post(f"/desk/households/{household.reference}/contribution/", {"amount": "943,21"}, follow=True)
    assert response.status_code == 200
    assert_private(response.content.decode())
    assert contributions.contribution_for(household, periods.shift(periods.current(), 1)) == 94321
    assert contributions.contribution_for(household, periods.current()) != 94321  # from next month, as online
    assert DeskAction.objects.filter(kind="contribution", household=household, detail={}).exists()


# --- Arrears: one count ---------------------------------------------------------------


def test_nothing_is_owed_on_joining_day_and_portal_desk_and_reminders_count_the_same(client):
    from .member_fixtures import make_member  # noqa: F401 (the portal's login of a household)
    from .staff import log_in_staff

    with time_machine.travel(datetime(2026, 9, 14, 9, tzinfo=UTC), tick=False):
        household = member()
        assert contributions.arrears(household).months == 0
        statement = contributions.monthly_statement(household, periods.current())
        assert statement["arrears"].months == 0  # no "Pas encore reçu" on joining day
    with time_machine.travel(datetime(2026, 12, 3, 9, tzinfo=UTC), tick=False):
        owed = contributions.arrears(household)
        assert owed.months == 3  # September, October, November; December is in progress
        assert contributions.monthly_statement(household, "2026-12")["arrears"] == owed
        log_in_staff(client, user_with(roles.VOLUNTEER))
        body = client.get(f"/desk/households/{household.reference}/").content.decode()
        assert "non reçue depuis 3 mois" in body
        assert contributions.remind_arrears(after_months=3) == 1


def test_no_contribution_is_owed_for_a_month_that_begins_paused():
    with time_machine.travel(datetime(2026, 9, 14, 9, tzinfo=UTC), tick=False):
        household = member()
    with time_machine.travel(datetime(2026, 10, 20, 9, tzinfo=UTC), tick=False):
        enrolment.pause(household, reason="health")
    with time_machine.travel(datetime(2026, 12, 10, 9, tzinfo=UTC), tick=False):
        enrolment.resume(household)
    with time_machine.travel(datetime(2027, 2, 3, 9, tzinfo=UTC), tick=False):
        household.refresh_from_db()
        # September and October were begun active; November and December began paused.
        assert contributions.arrears(household).unpaid_periods == ["2026-09", "2026-10", "2027-01"]


# --- Pause, resume, leave -------------------------------------------------------------


def test_pause_and_resume_at_the_desk_are_in_the_history_with_who_and_why(client):
    from .staff import log_in_staff

    volunteer = user_with(roles.VOLUNTEER)
    log_in_staff(client, volunteer)
    household = member()
    assert client.post(f"/desk/households/{household.reference}/pause/", {"reason": "made-up"}).status_code == 302
    household.refresh_from_db()
    assert household.status == Household.Status.ACTIVE  # a reason from the list, or nothing
    client.post(f"/desk/households/{household.reference}/pause/", {"reason": "health"})
    household.refresh_from_db()
    assert household.status == Household.Status.PAUSED
    assert household.pk not in issuable_ids(date.today())
    body = client.get(f"/desk/households/{household.reference}/").content.decode()
    assert "santé" in body and volunteer.username in body
    client.post(f"/desk/households/{household.reference}/resume/")
    household.refresh_from_db()
    assert household.status == Household.Status.ACTIVE and household.pk in issuable_ids(date.today())
    changes = list(HouseholdStatusChange.objects.filter(household=household).values_list("status_to", "by", "reason"))
    assert changes[-2:] == [("paused", volunteer.pk, "health"), ("active", volunteer.pk, "")]


def test_an_exited_household_gets_its_balance_back_to_the_fund_is_neither_issued_nor_able_to_pay(
        client, mail_after_commit):
    from django.core import mail

    from .staff import log_in_staff

    volunteer = user_with(roles.VOLUNTEER)
    log_in_staff(client, volunteer)
    household = member(email="ines@example.org")
    card, pin = cards.issue_card(household=household, holder=household.persons.first())
    ledger.transfer(debit=ledger.system_account(AccountKind.ISSUANCE), credit=household.wallet, amount=20696,
                    kind=TransferKind.ALLOCATION)
    assert cards.authorize(card.number, pin)
    refused = client.post(f"/desk/households/{household.reference}/exit/", {"reason": "moved"})
    household.refresh_from_db()
    assert refused.status_code == 302 and household.status == Household.Status.ACTIVE  # not confirmed: nothing
    with mail_after_commit():
        client.post(f"/desk/households/{household.reference}/exit/", {"reason": "moved", "confirm": "on"})
    household.refresh_from_db()
    household.wallet.refresh_from_db()
    change = household.status_changes.last()
    assert (household.status, change.by, change.reason) == (Household.Status.EXITED, volunteer, "moved")
    assert household.wallet.balance == 0
    returned = Transfer.objects.get(kind=TransferKind.EXIT)
    assert returned.amount == 20696 and returned.idempotency_key == keys.household_exit(household.pk, change.pk)
    assert returned.credit_id == ledger.system_account(AccountKind.EXPIRY).pk
    card.refresh_from_db()
    assert card.status == Card.Status.BLOCKED
    with pytest.raises(cards.CardBlocked):
        cards.authorize(card.number, pin)
    assert household.pk not in issuable_ids(date(2030, 1, 31))
    # Nor does the desk take cash from it: it owes nothing more.
    from members import desk
    from members.models import Desk

    desk.open_session(Desk.objects.create(code="d1", name="Accueil"), by=volunteer)
    cash = client.post(f"/desk/households/{household.reference}/cash/", {"amount": "5", "token": "t-exit"})
    assert cash.status_code == 400 and "ne doit plus rien" in cash.content.decode()
    assert not household.payments.exists()
    assert household.erased_at is None  # kept for the retention period
    # Told plainly, in the portal and by e-mail, what happened to the balance.
    notice = household.notices.get(kind="exit")
    assert "206,96" in notice.text and "revenus à la caisse" in notice.text
    assert [message.to for message in mail.outbox] == [["ines@example.org"]]
    assert check_ledger().ok


# --- Words, not codes -----------------------------------------------------------------


def test_desk_pages_show_words_not_codes(client):
    from .staff import log_in_staff

    log_in_staff(client, user_with(roles.COORDINATOR))
    household = member(age=AgeBracket.FROM_30)
    body = client.get(f"/desk/households/{household.reference}/").content.decode()
    assert "30 à 44 ans" in body and "30_44" not in body
    assert "Actif" in body or "actif" in body


# --- Possible duplicates (#17 point 4) -------------------------------------------------


def test_duplicates_by_phone_email_or_name_and_address_are_flagged_never_merged():
    first = apply("Karim", phone="06 12 34 56 78", email="k@example.org", address="1 rue Haute")
    by_phone = apply("Léa", phone="+33 6 12 34 56 78")
    by_email = apply("Marc", email="K@Example.org")
    by_address = apply("karim", address="1 rue  haute ")  # same applicant's name and address
    spaced = apply("Nina", address="5  rue   Basse")
    by_spaced_address = apply("nina", address="5 rue basse")
    other = apply("Zoé", address="2 rue Basse")
    for household in (by_phone, by_email, by_address):
        household.refresh_from_db()
        assert household.duplicate_flagged_at and first.reference in household.duplicate_of
    by_spaced_address.refresh_from_db()
    assert by_spaced_address.duplicate_of == spaced.reference
    other.refresh_from_db()
    assert other.duplicate_flagged_at is None and Household.objects.count() == 7


def test_a_flagged_duplicate_enters_no_draw_until_a_person_clears_it(client):
    from .staff import log_in_staff

    volunteer = user_with(roles.VOLUNTEER)
    log_in_staff(client, volunteer)
    apply("Karim", phone="0612345678")
    applied = client.post("/desk/apply/", {
        "first_name": "Léa", "phone": "06.12.34.56.78", "address": "9 rue C", "postal_code": "34000",
        "other_adults": 0, "children": 0, "income_bracket": "low", "age_bracket": "30_44"}).content.decode()
    assert "ressemble à" in applied  # the volunteer is told at once
    flagged = Household.objects.get(persons__first_name="Léa")
    assert flagged.reference in client.get("/desk/").content.decode()
    first = new_draw()
    lottery.close_applications(first)
    assert not first.entries.filter(household=flagged).exists()
    flagged.refresh_from_db()
    assert flagged.cohort is None and flagged.status == Household.Status.APPLICANT
    assert lottery.public_outcome(flagged.reference, flagged.draw_code).being_checked
    client.post(f"/desk/households/{flagged.reference}/not-a-duplicate/")
    flagged.refresh_from_db()
    assert flagged.duplicate_cleared_by == volunteer
    second = new_draw()
    lottery.close_applications(second)
    assert second.entries.filter(household=flagged).exists()


def test_places_not_taken_in_time_are_passed_on_daily():
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.filter(task="members.tasks.expire_places_task").exists()


def test_a_payment_corrected_under_four_eyes_pays_nothing_in_the_one_count():
    with time_machine.travel(datetime(2026, 9, 14, 9, tzinfo=UTC), tick=False):
        household = member()
    with time_machine.travel(datetime(2026, 10, 3, 9, tzinfo=UTC), tick=False):
        payment = contributions.record_payment(household, amount=100, method="transfer", reference="VIR-9")
        assert contributions.arrears(household).months == 0
        posted = ledger.reverse(payment.transfer_id, memo="typo")
        type(payment).objects.filter(pk=payment.pk).update(reversal_id=posted.transfer.pk, corrected_at=datetime.now(UTC))
        assert contributions.arrears(household).unpaid_periods == ["2026-09"]
        assert contributions.monthly_statement(household, "2026-10")["paid"] == 0


def test_guessing_one_applications_code_from_many_addresses_is_rate_limited(client, settings):
    settings.CAISSE_RANK_CHECKS_PER_HOUR = 2
    household = apply()
    for n in range(2):
        response = client.post("/apply/check/", {"number": household.reference, "code": "X"}, REMOTE_ADDR=f"10.0.0.{n}")
        assert response.status_code == 400
    response = client.post("/apply/check/", {"number": household.reference, "code": household.draw_code},
                           REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429


def test_the_rank_check_page_reads_what_it_shows_in_few_queries(client, django_assert_num_queries):
    draw = new_draw(places=1)
    household = apply()
    lottery.run_draw(lottery.close_applications(draw))
    # The household, its latest entry with its draw, and the count of the draw's entries.
    with django_assert_num_queries(3):
        response = client.post("/apply/check/", {"number": household.reference, "code": household.draw_code})
    assert response.status_code == 200


def test_the_draws_public_page_limits_rank_checks_as_well(client, settings):
    settings.CAISSE_RANK_CHECKS_PER_HOUR = 2
    draw = new_draw(places=1)
    household = apply()
    lottery.run_draw(lottery.close_applications(draw))
    for _ in range(2):
        assert client.post(f"/draws/{draw.cohort}/", {"number": household.reference, "code": "X"}).status_code == 200
    assert client.post(f"/draws/{draw.cohort}/", {"number": household.reference, "code": "X"}).status_code == 429


def test_the_households_data_export_holds_its_draw_code_and_status_history():
    from members import privacy

    household = member()
    enrolment.pause(household, reason="away")
    data = privacy.export_data(household)["household"]
    assert data["draw_code"] == household.draw_code
    assert [change["to"] for change in data["status_history"]] == ["applicant", "drawn", "active", "paused"]
    assert data["status_history"][-1]["reason"] == "away"


def test_a_coordinator_sets_the_contribution_directly_a_volunteer_cannot(client):
    from .staff import log_in_staff

    household = member()
    log_in_staff(client, user_with(roles.VOLUNTEER))
    assert client.post(f"/desk/households/{household.reference}/contribution/set/",
                       {"amount": "7", "from_this_month": "on"}).status_code == 403
    client.logout()
    log_in_staff(client, user_with(roles.COORDINATOR))
    client.post(f"/desk/households/{household.reference}/contribution/set/", {"amount": "7", "from_this_month": "on"})
    assert contributions.contribution_for(household, periods.current()) == 700
    refused = client.post(f"/desk/households/{household.reference}/contribution/set/", {"amount": "0,10"}, follow=True)
    assert "au moins" in refused.content.decode()
    assert contributions.contribution_for(household, periods.shift(periods.current(), 1)) == 700
