"""Households: enrolment, the lottery draw, contributions, the desk's cash, data protection."""

import hashlib
import itertools
import json
import threading
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from allocations import ledger, periods
from allocations.models import AccountKind, FundRules, Transfer, TransferKind
from members import contributions, desk, enrolment, lottery, privacy
from members.brackets import AgeBracket, IncomeBracket
from members.models import (
    ContributionPayment,
    Desk,
    DeskAction,
    Draw,
    DrawEntry,
    ErasureRequest,
    Household,
    Notice,
    Person,
)
from users import roles
from users.models import User

pytestmark = pytest.mark.django_db


_phones = itertools.count(1)


def applicant(first_name="Ana", income=IncomeBracket.LOW, age=AgeBracket.FROM_30, **fields):
    # A phone of its own: the same phone twice is a possible duplicate, kept out of draws.
    fields.setdefault("phone", f"06{next(_phones):08d}")
    return enrolment.apply(
        persons=[{"first_name": first_name, "last_name": "Test", "birth_year": 1985}],
        income_bracket=income,
        age_bracket=age,
        **fields,
    )


def active_household(**fields):
    household = applicant(**fields)
    enrolment.set_status(household, Household.Status.DRAWN)
    enrolment.set_status(household, Household.Status.ACTIVE)
    household.refresh_from_db()
    return household


def user_with(role, name=None):
    user = User.objects.create_user(username=name or f"{role}-{uuid.uuid4().hex[:6]}", password="x")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    # Staff roles must have a second factor set up (users.middleware); past it here.
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "unused-in-these-tests"})
    return user


# --- Enrolment ------------------------------------------------------------------------


def test_an_application_is_an_applicant_household_with_its_persons_and_a_reference():
    household = enrolment.apply(
        persons=[
            {"first_name": "Ana", "birth_year": 1980},
            {"first_name": "Léo", "birth_year": 2015, "is_adult": False},
        ],
        income_bracket=IncomeBracket.LOW,
        age_bracket=AgeBracket.FROM_45,
    )
    assert household.status == Household.Status.APPLICANT
    assert household.reference == f"F{household.pk:06d}"
    assert (household.adults, household.children) == (1, 1)
    assert household.persons.count() == 2
    assert household.status_changes.get().status_to == Household.Status.APPLICANT


def test_a_status_cannot_jump_from_applicant_to_active():
    household = applicant()
    with pytest.raises(ValidationError):
        enrolment.set_status(household, Household.Status.ACTIVE)


def test_on_exit_the_wallet_returns_to_the_fund_recorded(ledger_is_clean):
    household = active_household()
    ledger.transfer(
        debit=ledger.system_account(AccountKind.ISSUANCE), credit=household.wallet, amount=4200, kind=TransferKind.ALLOCATION
    )
    enrolment.exit_household(household)
    household.wallet.refresh_from_db()
    assert household.wallet.balance == 0
    returned = Transfer.objects.get(kind=TransferKind.EXIT)
    assert (returned.amount, returned.debit_id) == (4200, household.wallet_id)
    assert household.status_changes.last().status_to == Household.Status.EXITED
    ledger_is_clean()


# --- Lottery --------------------------------------------------------------------------


def make_draw(places=10, strata=None, low=30, others=30):
    draw = Draw.objects.create(
        cohort=f"2026-{uuid.uuid4().hex[:4]}",
        places=places,
        strata=strata if strata is not None else [{"key": "low", "income_brackets": ["low"], "share": 50}],
    )
    for n in range(low):
        applicant(f"L{n}", income=IncomeBracket.LOW)
    for n in range(others):
        applicant(f"O{n}", income=IncomeBracket.HIGH if n % 2 else IncomeBracket.MIDDLE)
    return draw


def test_the_draw_fills_each_stratum_by_its_share_and_waitlists_the_rest():
    draw = make_draw(places=10)
    assert Household.objects.filter(cohort=draw).count() == 60
    lottery.close_applications(draw)
    draw.refresh_from_db()
    assert draw.status == Draw.Status.CLOSED and len(draw.seed) == 64 and draw.seed_published_at
    lottery.run_draw(draw)
    drawn = DrawEntry.objects.filter(draw=draw, initial_outcome=DrawEntry.Outcome.DRAWN)
    assert drawn.count() == 10
    assert drawn.filter(household__income_bracket=IncomeBracket.LOW).count() >= 5
    assert drawn.filter(stratum="low").count() == 5
    assert drawn.filter(stratum="").count() == 5
    waitlist = DrawEntry.objects.filter(draw=draw, initial_outcome=DrawEntry.Outcome.WAITLISTED)
    assert sorted(waitlist.values_list("waitlist_position", flat=True)) == list(range(1, 51))
    assert Household.objects.filter(cohort=draw, status=Household.Status.DRAWN).count() == 10
    assert Household.objects.filter(cohort=draw, status=Household.Status.WAITLISTED).count() == 50


def test_places_a_stratum_cannot_fill_go_to_the_best_ranks_left():
    draw = make_draw(places=10, low=2, others=20)
    lottery.close_applications(draw)
    lottery.run_draw(draw)
    drawn = DrawEntry.objects.filter(draw=draw, initial_outcome=DrawEntry.Outcome.DRAWN)
    assert drawn.count() == 10
    assert drawn.filter(stratum="low").count() == 2


def test_the_draw_is_a_function_of_the_seed_and_the_list_only():
    entries = [(f"F{n:06d}", "low" if n % 3 == 0 else "", f"code{n}") for n in range(1, 200)]
    strata = [{"key": "low", "income_brackets": ["low"], "share": 50}]
    first = lottery.compute("abc", entries, 20, strata)
    assert lottery.compute("abc", list(reversed(entries)), 20, strata) == first
    assert lottery.compute("abd", entries, 20, strata) != first


def test_verify_draw_confirms_the_draw_and_catches_a_tampered_one(capsys):
    draw = make_draw(places=6, low=8, others=8)
    lottery.close_applications(draw)
    lottery.run_draw(draw)
    call_command("verify_draw", draw.cohort)
    assert "OK" in capsys.readouterr().out
    # Someone moves a waitlisted application into the drawn list.
    entry = DrawEntry.objects.filter(draw=draw, initial_outcome=DrawEntry.Outcome.WAITLISTED).first()
    DrawEntry.objects.filter(pk=entry.pk).update(initial_outcome=DrawEntry.Outcome.DRAWN, waitlist_position=None)
    with pytest.raises(SystemExit):
        call_command("verify_draw", str(draw.pk))
    assert entry.application_number in capsys.readouterr().err


def test_the_published_result_lists_application_numbers_only():
    draw = make_draw(places=6, low=8, others=8)
    before = lottery.published_result(draw)
    assert before["seed"] is None
    lottery.close_applications(draw)
    published_seed = lottery.published_result(draw)["seed"]
    assert published_seed  # published before the draw
    lottery.run_draw(draw)
    result = lottery.published_result(draw)
    assert result["seed"] == published_seed
    assert len(result["drawn"]) == 6 and len(result["waitlist"]) == 10
    text = json.dumps(result)
    for word in ["income", "low", "high", "middle", "modest", "age", "stratum", "18_29", "30_44", "Test", "0600000000"]:
        assert word not in text
    numbers = set(Household.objects.filter(cohort=draw).values_list("reference", flat=True))
    assert set(result["drawn"]) | set(result["waitlist"]) == numbers


def test_a_declined_place_goes_to_the_next_of_the_same_stratum():
    draw = make_draw(places=4, low=10, others=10)
    lottery.close_applications(draw)
    lottery.run_draw(draw)
    declined = DrawEntry.objects.filter(draw=draw, stratum="low", outcome=DrawEntry.Outcome.DRAWN).first()
    expected = (
        DrawEntry.objects.filter(draw=draw, stratum="low", outcome=DrawEntry.Outcome.WAITLISTED)
        .order_by("waitlist_position")
        .first()
    )
    better_other = DrawEntry.objects.filter(draw=draw, outcome=DrawEntry.Outcome.WAITLISTED).order_by("waitlist_position").first()
    successor = lottery.decline(declined)
    assert successor.pk == expected.pk
    successor.household.refresh_from_db()
    assert successor.household.status == Household.Status.DRAWN
    declined.household.refresh_from_db()
    assert declined.household.status == Household.Status.EXITED
    if better_other.stratum != "low":
        better_other.refresh_from_db()
        assert better_other.outcome == DrawEntry.Outcome.WAITLISTED
    lottery.accept(successor)
    successor.household.refresh_from_db()
    assert successor.household.status == Household.Status.ACTIVE
    # The verification still holds: it checks the draw, not later declines.
    assert lottery.verify(draw).ok


def test_strata_are_validated_with_a_clear_message():
    with pytest.raises(ValidationError, match="100"):
        lottery.validate_strata([{"key": "a", "share": 60}, {"key": "b", "share": 60}], 10)
    with pytest.raises(ValidationError, match="income_brackets"):
        lottery.validate_strata([{"key": "a", "income_brackets": ["rich"], "share": 10}], 10)


# --- Contributions --------------------------------------------------------------------


def rules(**values):
    FundRules.objects.filter(effective_from__gte=periods.parse(periods.current())).delete()
    defaults = {"effective_from": periods.parse(periods.current()), "allocation_per_household": 10000}
    return FundRules.objects.create(**{**defaults, **values})


def test_the_contribution_minimum_is_the_funds_and_grows_with_household_size():
    rules(minimum_contribution=1000, minimum_contribution_per_extra_person=500)
    household = active_household()
    Household.objects.filter(pk=household.pk).update(adults=2, children=1)
    household.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        contributions.choose(household, 1999)
    assert "20,00" in str(error.value)
    choice = contributions.choose(household, 2000)
    assert choice.effective_from == periods.shift(periods.current(), 1)
    # This month keeps what was chosen before; the next one gets the new amount.
    assert contributions.contribution_for(household, periods.current()) == household.monthly_contribution
    assert contributions.contribution_for(household, choice.effective_from) == 2000


def test_the_default_minimum_is_one_euro():
    household = active_household()
    with pytest.raises(ValidationError):
        contributions.choose(household, 99)
    assert contributions.choose(household, 100).amount == 100


def test_the_grid_suggests_by_income_bracket_never_below_the_minimum():
    r = rules(
        minimum_contribution=100,
        minimum_contribution_per_extra_person=100,
        contribution_grid=[
            {"income_per_person_up_to": 100_000, "suggested": 100},
            {"income_per_person_up_to": 200_000, "suggested": 2000},
            {"income_per_person_up_to": None, "suggested": 6000},
        ],
    )
    assert contributions.suggested_for(r, IncomeBracket.LOW, 1) == 100
    assert contributions.suggested_for(r, IncomeBracket.LOW, 4) == 400
    assert contributions.suggested_for(r, IncomeBracket.MODEST, 1) == 2000
    assert contributions.suggested_for(r, IncomeBracket.HIGH, 1) == 6000


def test_payments_are_ledger_transfers_and_a_repeated_bank_reference_moves_nothing(ledger_is_clean):
    household = active_household()
    first = contributions.record_payment(household, amount=1500, method="transfer", reference="VIR-123")
    again = contributions.record_payment(household, amount=1500, method="transfer", reference="VIR-123")
    assert first.pk == again.pk
    assert ContributionPayment.objects.count() == 1
    transfer = first.transfer
    assert (transfer.kind, transfer.amount, transfer.idempotency_key) == ("contribution", 1500, "contribution:transfer:VIR-123")
    assert transfer.debit.code == "contributions" and transfer.credit.code == "treasury"
    with pytest.raises(ValidationError, match="mandat"):
        contributions.record_payment(household, amount=1500, method="sepa")
    with pytest.raises(ValidationError):
        contributions.record_payment(household, amount=0, method="transfer", reference="VIR-124")
    ledger_is_clean()


def test_arrears_count_the_months_that_are_over_oldest_first():
    household = active_household()
    three_months_ago = periods.parse(periods.shift(periods.current(), -3))
    Household.objects.filter(pk=household.pk).update(joined_on=three_months_ago, monthly_contribution=1000)
    household.refresh_from_db()
    owed = contributions.arrears(household)
    assert (owed.amount, owed.months) == (3000, 3)
    contributions.record_payment(household, amount=1500, method="transfer", reference="A1")
    owed = contributions.arrears(household)
    assert (owed.amount, owed.months) == (1500, 2)
    assert owed.unpaid_periods == [periods.shift(periods.current(), -2), periods.shift(periods.current(), -1)]


def test_the_gentle_reminder_after_two_months_once_a_period():
    late, on_time = active_household(first_name="Late"), active_household(first_name="OnTime")
    two_months_ago = periods.parse(periods.shift(periods.current(), -2))
    Household.objects.filter(pk__in=[late.pk, on_time.pk]).update(joined_on=two_months_ago, monthly_contribution=500)
    contributions.record_payment(on_time, amount=1000, method="transfer", reference="OK1")
    assert contributions.remind_arrears() == 1
    assert contributions.remind_arrears() == 0
    notice = Notice.objects.get(kind=Notice.Kind.ARREARS_REMINDER)
    assert notice.household_id == late.pk
    late.refresh_from_db()
    assert late.status == Household.Status.ACTIVE  # default rule: a reminder, nothing more


def test_under_the_pause_rule_households_beyond_the_grace_are_paused_and_get_no_allocation():
    from allocations.models import ArrearsPolicy

    rules(arrears_policy=ArrearsPolicy.PAUSE_AFTER_GRACE, arrears_grace_months=1)
    late, on_time = active_household(first_name="Late"), active_household(first_name="OnTime")
    two_months_ago = periods.parse(periods.shift(periods.current(), -2))
    Household.objects.filter(pk__in=[late.pk, on_time.pk]).update(joined_on=two_months_ago, monthly_contribution=500)
    contributions.record_payment(on_time, amount=1000, method="transfer", reference="OK2")

    assert contributions.apply_arrears_policy() == 1
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert (late.status, on_time.status) == (Household.Status.PAUSED, Household.Status.ACTIVE)
    assert "arrears" in late.status_changes.order_by("-pk").first().note
    # Paused households are not among those the monthly issuance credits.
    from django.db import connection

    from members.selectors import issuable_households_sql

    sql, params = issuable_households_sql(periods.parse(periods.current()))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        assert late.pk not in {row[0] for row in cursor.fetchall()}


def test_under_the_default_rule_arrears_pause_nobody():
    rules()
    late = active_household(first_name="Late")
    Household.objects.filter(pk=late.pk).update(joined_on=periods.parse(periods.shift(periods.current(), -6)))
    assert contributions.apply_arrears_policy() == 0


def test_the_monthly_statement():
    household = active_household()
    contributions.record_payment(household, amount=700, method="transfer", reference="S1", period=periods.current())
    statement = contributions.monthly_statement(household, periods.current())
    assert statement["paid"] == 700 and statement["chosen"] == household.monthly_contribution


# --- The desk's cash ------------------------------------------------------------------


def test_cash_receipts_are_numbered_per_desk_and_a_retry_takes_no_number(ledger_is_clean):
    volunteer = user_with(roles.VOLUNTEER)
    household = active_household()
    counter = Desk.objects.create(code="d1", name="Desk 1")
    session = desk.open_session(counter, by=volunteer)
    token = uuid.uuid4().hex
    first = desk.take_cash(session, household, amount=500, by=volunteer, token=token)
    again = desk.take_cash(session, household, amount=500, by=volunteer, token=token)
    assert first.pk == again.pk and first.receipt_number == 1
    # A failed payment (its form expired: no token) takes no number either.
    with pytest.raises(ValidationError):
        desk.take_cash(session, household, amount=500, by=volunteer, token="")
    second = desk.take_cash(session, household, amount=300, by=volunteer, token=uuid.uuid4().hex)
    assert second.receipt_number == 2 and second.receipt_label == "D1-000002"
    assert DeskAction.objects.filter(kind=DeskAction.Kind.CASH, actor=volunteer).count() == 2
    with pytest.raises(ValidationError):
        desk.open_session(counter, by=volunteer)
    desk.close_session(session, by=volunteer, counted_cash=800)
    with pytest.raises(ValidationError, match="ferm|clos"):
        desk.take_cash(session, household, amount=300, by=volunteer, token=uuid.uuid4().hex)
    ledger_is_clean()


@pytest.mark.django_db(transaction=True)
def test_concurrent_cash_entries_at_one_desk_leave_no_gap_in_receipt_numbers(ledger_is_clean):
    volunteer = user_with(roles.VOLUNTEER)
    households = [active_household(first_name=f"H{n}") for n in range(4)]
    counter = Desk.objects.create(code="d2", name="Desk 2")
    session = desk.open_session(counter, by=volunteer)
    barrier = threading.Barrier(8)
    errors = []

    def work(n):
        try:
            barrier.wait()
            household = households[n % 4]
            # Every other thread retries the same form: one payment, one number.
            token = f"t{n // 2}"
            desk.take_cash(session, household, amount=100 + n // 2, by=volunteer, token=token)
            if n == 7:
                desk.take_cash(session, household, amount=0, by=volunteer, token="bad")
        except ValidationError:
            pass
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(ContributionPayment.objects.filter(desk=counter).values_list("receipt_number", flat=True))
    assert numbers == [1, 2, 3, 4]
    counter.refresh_from_db()
    assert counter.next_receipt == 5
    ledger_is_clean()


def test_contact_update_is_recorded_with_who_and_which_fields_not_values():
    volunteer = user_with(roles.VOLUNTEER)
    household = active_household()
    desk.update_contact(household, by=volunteer, phone="0711111111", district="Mosson")
    action = DeskAction.objects.get(kind=DeskAction.Kind.CONTACT)
    assert action.actor == volunteer and sorted(action.detail["fields"]) == ["district", "phone"]
    assert "0711111111" not in json.dumps(action.detail)
    with pytest.raises(ValidationError):
        desk.update_contact(household, by=volunteer, income_bracket="high")
    with pytest.raises(ValidationError):
        desk.update_contact(household, by=volunteer, email="not an address")


def test_find_by_name_reference_or_phone():
    household = active_household(first_name="Zoé")
    Person.objects.filter(household=household).update(last_name="Martinez")
    assert desk.find("martinez") == [household]
    assert desk.find(household.reference) == [household]
    spaced = " ".join(household.phone[i : i + 2] for i in range(0, 10, 2))
    assert desk.find(spaced)[0] == household


# --- Data protection ------------------------------------------------------------------


def test_export_holds_everything_about_the_household(ledger_is_clean):
    household = active_household(first_name="Inès")
    contributions.record_payment(household, amount=800, method="transfer", reference="EXP1")
    data = privacy.export_data(household)
    assert data["household"]["reference"] == household.reference
    assert data["persons"][0]["first_name"] == "Inès"
    assert data["contributions_paid"][0]["amount_cents"] == 800
    assert "pauvreté" in data["household"]["income_bracket"]
    text = privacy.export_csv(household)
    assert text.splitlines()[0] == "\ufeffsection;item;field;value"
    assert "Inès" in text and "EXP1" in text


def test_erasure_confirmed_by_a_coordinator_erases_personal_data_and_keeps_money(ledger_is_clean):
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    coordinator = user_with(roles.COORDINATOR)
    volunteer = user_with(roles.VOLUNTEER)
    member = User.objects.create_user(username="ines", email="ines@example.org", password="x", first_name="Inès")
    household = active_household(first_name="Inès", email="ines@example.org")
    Household.objects.filter(pk=household.pk).update(address="3 rue des Lilas")
    person = household.persons.get()
    person.user = member
    person.save()
    LogEntry.objects.create(
        user=coordinator,
        content_type=ContentType.objects.get_for_model(Person),
        object_id=str(person.pk),
        object_repr="Inès Test",
        action_flag=CHANGE,
        change_message="changed last name",
    )
    payment = contributions.record_payment(household, amount=800, method="transfer", reference="ER1")
    desk.update_contact(household, by=volunteer, phone="0799999999")
    Notice.objects.create(household=household, kind="expiry", period="2026-01", text="Bonjour Inès")

    request = privacy.request_erasure(household)
    with pytest.raises(ValidationError):
        privacy.request_erasure(household)
    privacy.confirm_erasure(request, by=coordinator)

    household.refresh_from_db()
    member.refresh_from_db()
    assert household.erased_at and household.status == Household.Status.EXITED
    assert (household.phone, household.email, household.address, household.income_bracket, household.age_bracket) == ("",) * 5
    assert not household.persons.exists()
    assert not member.is_active and member.email == "" and member.first_name == "" and "ines" not in member.username
    assert not Notice.objects.filter(household=household).exists()
    assert "Inès" not in json.dumps(list(LogEntry.objects.values("object_repr", "change_message")))
    # Money records stay, without personal data.
    payment.refresh_from_db()
    assert payment.amount == 800 and payment.household_id == household.pk
    assert ErasureRequest.objects.get().status == ErasureRequest.Status.DONE
    assert "Inès" not in json.dumps(privacy.export_data(household))
    ledger_is_clean()


def test_retention_erases_old_applications_and_keeps_members(settings):
    settings.CAISSE_RETENTION_DAYS = {"applications": 30}
    old_waitlisted = applicant(first_name="Old")
    enrolment.set_status(old_waitlisted, Household.Status.WAITLISTED)
    Household.objects.filter(pk=old_waitlisted.pk).update(status_changed_at=timezone.now() - timedelta(days=31))
    recent = applicant(first_name="Recent")
    enrolment.set_status(recent, Household.Status.WAITLISTED)
    member = active_household(first_name="Member")
    done = privacy.apply_retention()
    assert done["households_erased"] == 1
    assert Household.objects.get(pk=old_waitlisted.pk).erased_at is not None
    assert Household.objects.get(pk=recent.pk).erased_at is None
    assert Household.objects.get(pk=member.pk).erased_at is None


def test_the_retention_task_is_scheduled_by_beat():
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.filter(task="members.tasks.apply_retention_task").exists()
    assert PeriodicTask.objects.filter(task="members.tasks.remind_arrears_task").exists()


def test_ranks_need_each_applicants_draw_code_so_the_public_cannot_infer_strata():
    draw = make_draw(places=6, low=8, others=8)
    lottery.close_applications(draw)
    lottery.run_draw(draw)
    result = lottery.published_result(draw)
    text = json.dumps(result)
    entries = list(DrawEntry.objects.filter(draw=draw))
    assert all(entry.secret and entry.secret not in text for entry in entries)
    # The public seed alone (the old, computable ranking) does not give the recorded ranks.
    public_order = sorted(e.application_number for e in entries)
    public_order.sort(key=lambda n: hashlib.sha256(f"{result['seed']}:{n}".encode()).hexdigest())
    recorded_order = [e.application_number for e in sorted(entries, key=lambda e: e.rank)]
    assert public_order != recorded_order
    # Each applicant checks their own rank with their code; a wrong code learns nothing.
    mine = entries[0]
    assert lottery.check_rank(draw, mine.application_number, mine.secret) == mine.rank
    assert lottery.check_rank(draw, mine.application_number, "0" * 32) is None
    # The codes were committed to with the seed: changing one afterwards is caught.
    DrawEntry.objects.filter(pk=mine.pk).update(secret="f" * 32)
    assert not lottery.verify(draw).ok
