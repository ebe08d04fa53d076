"""The monthly issuance: exactly once, set-based, in order, within the reserve."""

import datetime
import threading
import zoneinfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.db import connections

from allocations import issuance, ledger, periods
from allocations.models import (
    Account,
    AccountKind,
    FundRules,
    IssuanceChunk,
    IssuanceRun,
    RolloverPolicy,
    Transfer,
    TransferKind,
)
from allocations.rules import rules_for
from allocations.selectors import fund_position
from members.models import Household, Notice
from members.services import create_household

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOV_2026 = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=PARIS)


def fund(cents):
    """Euros in the treasury, from a grant, so the reserve can back the units issued."""
    ledger.transfer(
        debit=ledger.system_account(AccountKind.GRANTS),
        credit=ledger.system_account(AccountKind.TREASURY),
        amount=cents,
        kind=TransferKind.GRANT,
    )


def households(n, *, status=Household.Status.ACTIVE, joined_on=datetime.date(2025, 1, 1), prefix="H", **fields):
    return [
        create_household(reference=f"{prefix}{i}", status=status, joined_on=joined_on, **fields) for i in range(n)
    ]


def balance(household):
    return Account.objects.get(pk=household.wallet_id).balance


def rules_from(period, **values):
    """A version starting at `period`, written directly: tests may set up the past."""
    return FundRules.objects.create(effective_from=periods.parse(period), **{"allocation_per_household": 10_000, **values})


def ensure_initial_rules():
    # Transactional tests flush the database, taking the migration's rows with it.
    if not FundRules.objects.exists():
        rules_from("2020-01")


def allocations_of(period):
    return Transfer.objects.filter(kind=TransferKind.ALLOCATION, idempotency_key__endswith=f":{period}")


@pytest.fixture
def no_notices(monkeypatch):
    """Most tests look at money only."""
    source = issuance.HouseholdSource(eligible=issuance.default_source().eligible)
    monkeypatch.setattr(issuance, "default_source", lambda: source)


# --- What is issued -------------------------------------------------------------------


@pytest.mark.django_db
def test_every_active_household_is_credited_once_with_the_allocation_key(no_notices, ledger_is_clean):
    fund(10_000_00)
    active = households(5)
    paused = households(1, status=Household.Status.PAUSED, prefix="P")[0]
    applicant = households(1, status=Household.Status.APPLICANT, prefix="A")[0]
    not_yet = households(1, joined_on=datetime.date(2026, 12, 3), prefix="F")[0]  # joins next month

    result = issuance.issue_period("2026-11", chunk_size=2)

    assert (result.households_credited, result.total_issued) == (5, 50_000)
    for household in active:
        assert balance(household) == 10_000
        transfer = Transfer.objects.get(credit_id=household.wallet_id)
        assert transfer.idempotency_key == f"allocation:{household.wallet_id}:2026-11"
        assert transfer.kind == TransferKind.ALLOCATION
    assert [balance(h) for h in (paused, applicant, not_yet)] == [0, 0, 0]
    run = IssuanceRun.objects.get(period="2026-11")
    assert (run.status, run.households_credited, run.total_issued) == ("done", 5, 50_000)
    assert (run.chunks_total, run.chunks_done) == (run.chunks.count(), run.chunks.count())
    assert run.reserve_before - run.reserve_after == 50_000
    assert ledger.system_account(AccountKind.ISSUANCE).balance == -50_000
    ledger_is_clean()


@pytest.mark.django_db
def test_a_second_run_credits_nobody(no_notices, ledger_is_clean):
    fund(10_000_00)
    households(3)
    issuance.issue_period("2026-11")
    again = issuance.issue_period("2026-11")
    assert again.households_credited == 0 and again.total_issued == 0
    assert allocations_of("2026-11").count() == 3
    assert IssuanceRun.objects.get(period="2026-11").households_credited == 3
    ledger_is_clean()


@pytest.mark.django_db
def test_supplements_per_extra_adult_and_child(no_notices, ledger_is_clean):
    fund(10_000_00)
    rules_from("2026-11", allocation_per_household=15_000, supplement_per_extra_adult=7_500, supplement_per_child=5_000)
    single = create_household(reference="S", status="active", joined_on=datetime.date(2025, 1, 1))
    couple = create_household(reference="C", status="active", joined_on=datetime.date(2025, 1, 1), adults=2)
    family = create_household(reference="F", status="active", joined_on=datetime.date(2025, 1, 1), adults=2, children=3)
    issuance.issue_period("2026-11")
    assert [balance(h) for h in (single, couple, family)] == [15_000, 22_500, 37_500]
    # The version in force for a period is the one applied: October keeps the old amounts.
    issuance.issue_period("2026-10")
    assert balance(single) == 15_000 + 10_000
    ledger_is_clean()


@pytest.mark.django_db
def test_proration_of_a_household_joining_mid_month(no_notices, ledger_is_clean):
    fund(10_000_00)
    rules_from("2026-04", prorate_first_month=True)
    old = households(1, prefix="O")[0]
    first_day = households(1, joined_on=datetime.date(2026, 4, 1), prefix="D")[0]
    mid = households(1, joined_on=datetime.date(2026, 4, 16), prefix="M")[0]
    last_day = households(1, joined_on=datetime.date(2026, 4, 30), prefix="L")[0]
    issuance.issue_period("2026-04")
    # April has 30 days: joining on the 16th leaves 15 of them, the 30th one.
    assert [balance(h) for h in (old, first_day, mid, last_day)] == [10_000, 10_000, 5_000, 333]
    issuance.issue_period("2026-05")  # the month after: the full amount
    assert balance(mid) == 15_000
    ledger_is_clean()


@pytest.mark.django_db
def test_without_proration_a_mid_month_joiner_gets_the_full_amount(no_notices):
    fund(10_000_00)
    mid = households(1, joined_on=datetime.date(2026, 4, 16))[0]
    issuance.issue_period("2026-04")
    assert balance(mid) == 10_000


@pytest.mark.django_db
@pytest.mark.parametrize(
    "policy, cap, left, expired, after",
    [
        (RolloverPolicy.FULL, 0, 8_000, 0, 18_000),
        (RolloverPolicy.CAP, 5_000, 8_000, 3_000, 15_000),
        (RolloverPolicy.CAP, 5_000, 4_000, 0, 14_000),  # under the cap: nothing expires
        (RolloverPolicy.NONE, 0, 8_000, 8_000, 10_000),
    ],
)
def test_rollover_policies(no_notices, ledger_is_clean, policy, cap, left, expired, after):
    fund(10_000_00)
    vendor = ledger.open_account(AccountKind.VENDOR)
    household = households(1)[0]
    issuance.issue_period("2026-10")
    ledger.transfer(debit=household.wallet_id, credit=vendor, amount=10_000 - left, kind=TransferKind.PURCHASE)
    rules_from("2026-11", rollover_policy=policy, rollover_cap=cap)

    result = issuance.issue_period("2026-11")

    assert balance(household) == after
    assert result.total_expired == expired
    expiry = Transfer.objects.filter(kind=TransferKind.EXPIRY)
    if expired:
        row = expiry.get()
        assert (row.debit_id, row.amount, row.idempotency_key) == (household.wallet_id, expired, f"expiry:{household.wallet_id}:2026-11")
        # expired before the new allocation was credited
        assert row.pk < allocations_of("2026-11").get().pk
    else:
        assert not expiry.exists()
    assert ledger.system_account(AccountKind.EXPIRY).balance == expired
    run = IssuanceRun.objects.get(period="2026-11")
    assert (run.households_expired, run.total_expired) == (1 if expired else 0, expired)
    # A rerun expires nothing more (it would otherwise eat the fresh allocation).
    issuance.issue_period("2026-11")
    assert balance(household) == after
    ledger_is_clean()


@pytest.mark.django_db
def test_a_chunk_delivered_twice_writes_nothing_the_second_time(no_notices, ledger_is_clean):
    fund(10_000_00)
    rules_from("2026-11", rollover_policy=RolloverPolicy.NONE)
    households(4)
    run, _ = issuance.start_run("2026-11", chunk_size=2)
    first = issuance.issue_chunk(run.pk, 0)
    assert first.credited == 2
    assert issuance.issue_chunk(run.pk, 0).already_done
    # Even if the chunk's record were lost, the transfers' keys refuse a second movement.
    IssuanceChunk.objects.filter(run=run, index=0).update(done=False)
    replay = issuance.issue_chunk(run.pk, 0)
    assert (replay.credited, replay.issued, replay.expired_total) == (0, 0, 0)
    issuance.issue_chunk(run.pk, 1)
    assert allocations_of("2026-11").count() == 4
    assert IssuanceRun.objects.get(pk=run.pk).households_credited == 4
    ledger_is_clean()


# --- Exactly once under concurrency and crashes ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_issue_each_household_exactly_once(no_notices, ledger_is_clean):
    ensure_initial_rules()
    fund(100_000_00)
    members = households(40)
    barrier = threading.Barrier(2)
    errors, results = [], []

    def run():
        try:
            barrier.wait()
            results.append(issuance.issue_period("2026-11", chunk_size=3))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(r.households_credited for r in results) == 40
    assert allocations_of("2026-11").count() == 40
    assert all(balance(h) == 10_000 for h in members)
    run = IssuanceRun.objects.get(period="2026-11")
    assert (run.status, run.households_credited, run.total_issued, run.chunks_done) == ("done", 40, 400_000, run.chunks_total)
    ledger_is_clean()


@pytest.mark.django_db(transaction=True)
def test_a_crash_halfway_then_a_rerun_issues_each_household_exactly_once(no_notices, monkeypatch, ledger_is_clean):
    ensure_initial_rules()
    rules_from("2026-11", rollover_policy=RolloverPolicy.CAP, rollover_cap=5_000)
    fund(100_000_00)
    members = households(10)
    for household in members:  # 80 € left from October
        ledger.transfer(debit=ledger.system_account(AccountKind.ISSUANCE), credit=household.wallet_id, amount=8_000, kind=TransferKind.ALLOCATION, idempotency_key=f"allocation:{household.wallet_id}:2026-10")

    def crash(index):
        if index == 2:
            raise RuntimeError("worker killed")

    monkeypatch.setattr(issuance, "after_chunk_hook", crash)
    with pytest.raises(RuntimeError):
        issuance.issue_period("2026-11", chunk_size=2)
    run = IssuanceRun.objects.get(period="2026-11")
    assert (run.status, run.chunks_done, run.last_chunk_done, run.households_credited) == ("failed", 3, 2, 6)
    assert allocations_of("2026-11").count() == 6
    ledger_is_clean()  # what was committed is consistent

    monkeypatch.setattr(issuance, "after_chunk_hook", None)
    rerun = issuance.issue_period("2026-11")
    assert rerun.households_credited == 4
    run.refresh_from_db()
    assert (run.status, run.chunks_done, run.households_credited, run.total_issued) == ("done", 5, 10, 100_000)
    assert (run.households_expired, run.total_expired) == (10, 30_000)
    assert Transfer.objects.filter(kind=TransferKind.EXPIRY).count() == 10
    assert all(balance(h) == 15_000 for h in members)
    ledger_is_clean()


# --- Schedule, catch-up, time zone ----------------------------------------------------


@pytest.mark.django_db
def test_the_beat_schedule_is_registered():
    from django_celery_beat.models import PeriodicTask

    monthly = PeriodicTask.objects.get(name="Issue the monthly allocations")
    assert monthly.task == "allocations.tasks.issue_due_task" and monthly.enabled
    crontab = monthly.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year) == ("5", "0", "1", "*")
    assert str(crontab.timezone) == "Europe/Paris"
    daily = PeriodicTask.objects.get(name="Issue what is due (catch-up)")
    assert daily.task == "allocations.tasks.issue_due_task"
    assert (daily.crontab.hour, daily.crontab.day_of_month) == ("6", "*")
    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"allocations.tasks.check_runway_task", "allocations.tasks.remind_expiring_balances_task"} <= tasks
    from caisse.celery import app

    app.loader.import_default_modules()
    assert {"allocations.tasks.issue_due_task", "allocations.tasks.issue_chunk_task"} <= set(app.tasks)


def test_the_period_follows_paris_time_across_summer_time():
    # 1 April 2026, 00:30 in Paris (summer time, UTC+2) is still 31 March in UTC.
    with time_machine.travel(datetime.datetime(2026, 3, 31, 22, 30, tzinfo=datetime.UTC)):
        assert periods.current() == "2026-04"
    with time_machine.travel(datetime.datetime(2026, 3, 31, 21, 30, tzinfo=datetime.UTC)):
        assert periods.current() == "2026-03"
    # 1 January, 00:05 in Paris (winter time, UTC+1).
    with time_machine.travel(datetime.datetime(2026, 12, 31, 23, 5, tzinfo=datetime.UTC)):
        assert periods.current() == "2027-01"


@pytest.mark.django_db
def test_missed_periods_are_caught_up_in_order(no_notices, ledger_is_clean):
    fund(10_000_00)
    rules_from("2026-01", rollover_policy=RolloverPolicy.CAP, rollover_cap=15_000)
    household = households(1)[0]
    with time_machine.travel(datetime.datetime(2026, 1, 1, 0, 5, tzinfo=PARIS)):
        issuance.issue_due()
    # The workers were down from February to April: at 00:05 on 1 April (summer time)…
    with time_machine.travel(datetime.datetime(2026, 4, 1, 0, 5, tzinfo=PARIS)):
        assert issuance.due_periods() == ["2026-02", "2026-03", "2026-04"]
        results = issuance.issue_due()
        assert issuance.due_periods() == []
    assert [r.period for r in results] == ["2026-02", "2026-03", "2026-04"]
    runs = list(IssuanceRun.objects.order_by("started_at").values_list("period", flat=True))
    assert runs == ["2026-01", "2026-02", "2026-03", "2026-04"]
    # In order, the cap applied each month: 100, 150 (200 capped), 150+100=… capped again.
    assert [t.amount for t in Transfer.objects.filter(kind=TransferKind.EXPIRY).order_by("id")] == [5_000, 10_000]
    assert balance(household) == 25_000
    ledger_is_clean()


@pytest.mark.django_db
def test_a_fund_that_never_issued_issues_the_current_period_only(no_notices):
    fund(10_000_00)
    households(2)
    with time_machine.travel(NOV_2026):
        assert issuance.due_periods() == ["2026-11"]


@pytest.mark.django_db
def test_the_daily_run_credits_a_household_that_joined_after_the_first(no_notices, ledger_is_clean):
    fund(10_000_00)
    rules_from("2026-11", prorate_first_month=True)
    households(2)
    with time_machine.travel(datetime.datetime(2026, 11, 1, 0, 5, tzinfo=PARIS)):
        issuance.issue_due()
    late = households(1, joined_on=datetime.date(2026, 11, 21), prefix="L")[0]  # 10 days of 30 left
    with time_machine.travel(datetime.datetime(2026, 11, 21, 6, 0, tzinfo=PARIS)):
        issuance.issue_due()
        issuance.issue_due()
    assert balance(late) == 3_333
    run = IssuanceRun.objects.get(period="2026-11")
    assert (run.households_credited, run.total_issued) == (3, 23_333)
    ledger_is_clean()


@pytest.mark.django_db
def test_the_celery_tasks_issue_the_due_periods_through_chunk_tasks(no_notices, ledger_is_clean):
    from allocations import tasks
    from caisse.celery import app

    fund(10_000_00)
    members = households(7)
    IssuanceRun.objects.create(period="2026-09", rules=rules_for("2026-09"), status="done")
    app.conf.task_always_eager = True
    try:
        with time_machine.travel(NOV_2026):
            tasks.issue_due_task.apply()
    finally:
        app.conf.task_always_eager = False
    assert list(IssuanceRun.objects.order_by("period").values_list("period", "status")) == [
        ("2026-09", "done"), ("2026-10", "done"), ("2026-11", "done")
    ]
    assert all(balance(h) == 20_000 for h in members)
    ledger_is_clean()


# --- Solvency -------------------------------------------------------------------------


@pytest.mark.django_db
def test_issuance_is_refused_when_the_reserve_cannot_cover_it(no_notices, ledger_is_clean):
    fund(250_00)
    members = households(3)  # needs 300 €
    with pytest.raises(issuance.IssuanceRefused) as refused:
        issuance.issue_period("2026-11")
    assert "réserve disponible est de 250,00" in str(refused.value)
    run = IssuanceRun.objects.get(period="2026-11")
    assert run.status == "refused" and run.message
    assert not Transfer.objects.filter(kind=TransferKind.ALLOCATION).exists()
    assert all(balance(h) == 0 for h in members)
    # the daily run does not skip it to issue a later period either
    with time_machine.travel(datetime.datetime(2026, 12, 2, tzinfo=PARIS)):
        with pytest.raises(issuance.IssuanceRefused):
            issuance.issue_due()
    assert not IssuanceRun.objects.filter(period="2026-12").exists()
    ledger_is_clean()


@pytest.mark.django_db
def test_a_coordinator_may_force_it_with_a_reason(no_notices, django_user_model, ledger_is_clean):
    fund(250_00)
    households(3)
    from allocations import approvals
    from tests.vendor_fixtures import make_coordinator

    coordinator, second = make_coordinator("coord"), make_coordinator("coord-2")
    with pytest.raises(issuance.IssuanceError):
        issuance.issue_period("2026-11", force=True, forced_by=coordinator, reason=" ")
    # Four eyes: one coordinator alone cannot force it.
    with pytest.raises(approvals.ApprovalRequired):
        issuance.issue_period("2026-11", force=True, forced_by=coordinator, reason="grant of the Métropole arrives on the 5th")
    approval = approvals.request_forced_issuance("2026-11", by=coordinator, reason="grant of the Métropole arrives on the 5th")
    with pytest.raises(approvals.ApprovalRequired):
        approvals.approve(approval, by=coordinator)
    assert not IssuanceRun.objects.filter(period="2026-11").exclude(status="refused").exists()
    approvals.approve(approval, by=second)
    result = issuance.issue_period("2026-11")  # the chunks, here rather than in the workers
    assert result.households_credited == 3
    run = IssuanceRun.objects.get(period="2026-11")
    assert (run.status, run.forced_by, run.force_reason) == ("done", coordinator, "grant of the Métropole arrives on the 5th")
    assert fund_position().available_reserve == -50_00
    ledger_is_clean()


@pytest.mark.django_db
def test_expired_units_count_towards_what_the_period_needs(no_notices):
    """Under `none`, last month's unspent units return: only the difference is needed."""
    fund(200_00)
    household = households(1)[0]
    issuance.issue_period("2026-10")  # the reserve is now 100 €, all of it in the wallet
    rules_from("2026-11", rollover_policy=RolloverPolicy.NONE)
    fund(1)
    forecast = issuance.forecast("2026-11")
    assert (forecast.total, forecast.total_expiring, forecast.need) == (10_000, 10_000, 0)
    issuance.issue_period("2026-11")
    assert balance(household) == 10_000


@pytest.mark.django_db
def test_coordinators_are_warned_when_the_runway_is_short(no_notices, django_user_model, caplog, mail_after_commit):
    coordinator = django_user_model.objects.create(username="coord", email="coord@example.org")
    coordinator.groups.add(Group.objects.get_or_create(name="coordinator")[0])
    households(4)  # 400 € a month
    fund(1_000_00)  # 2.5 months
    with time_machine.travel(NOV_2026), mail_after_commit():
        report = issuance.warn_if_runway_short()
    assert report.short and report.months == pytest.approx(2.5)
    assert "couvre 2,5 mois" in caplog.text
    assert [m.to for m in mail.outbox] == [["coord@example.org"]]
    fund(1_000_00)  # 5 months: no warning
    mail.outbox.clear()
    with time_machine.travel(NOV_2026), mail_after_commit():
        assert not issuance.warn_if_runway_short().short
    assert mail.outbox == []


# --- Members told ---------------------------------------------------------------------


@pytest.mark.django_db
def test_members_are_told_after_the_commit_once(django_user_model, django_capture_on_commit_callbacks, mail_after_commit):
    fund(10_000_00)
    with_email = households(1, prefix="E")[0]
    with_email.email = "m@example.org"  # the household's contact address
    with_email.save()
    without = households(2, prefix="N")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        issuance.issue_period("2026-11")
    assert not Notice.objects.exists()  # nothing before the commit
    with mail_after_commit():  # the notices' own commit hook: the e-mail's task
        for callback in callbacks:
            callback()
    assert Notice.objects.filter(kind="allocation", period="2026-11").count() == 3
    assert [m.to for m in mail.outbox] == [["m@example.org"]]
    with mail_after_commit():
        issuance.issue_period("2026-11")
    assert Notice.objects.count() == 3 and len(mail.outbox) == 1
    assert Notice.objects.filter(household=without[0]).exists()


@pytest.mark.django_db
def test_members_are_reminded_before_their_balance_expires(django_capture_on_commit_callbacks):
    fund(10_000_00)
    spender, saver = households(2)
    with django_capture_on_commit_callbacks(execute=True):
        issuance.issue_period("2026-11")
    ledger.transfer(debit=spender.wallet_id, credit=ledger.open_account(AccountKind.VENDOR), amount=10_000, kind=TransferKind.PURCHASE)
    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, tzinfo=PARIS)):
        assert issuance.remind_expiring_balances() == 0  # full rollover: nothing expires
    rules_from("2026-12", rollover_policy=RolloverPolicy.NONE)
    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, tzinfo=PARIS)):
        assert issuance.remind_expiring_balances() == 0  # too early
    with time_machine.travel(datetime.datetime(2026, 11, 27, 10, tzinfo=PARIS)):
        assert issuance.remind_expiring_balances() == 1
        assert issuance.remind_expiring_balances() == 0  # once
    reminder = Notice.objects.get(kind="expiry")
    assert reminder.household == saver and reminder.period == "2026-11"


# --- The command ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_issues_prints_and_credits_nobody_twice(no_notices, capsys, ledger_is_clean):
    fund(10_000_00)
    households(3)
    call_command("issue_allocations", "--period", "2026-12", "--dry-run")
    out = capsys.readouterr().out
    assert "DRY RUN" in out and "households credited: 3" in out
    assert not IssuanceRun.objects.exists() and not Transfer.objects.filter(kind="allocation").exists()

    call_command("issue_allocations", "--period", "2026-12")
    out = capsys.readouterr().out
    assert "households credited: 3" in out
    assert "total issued: 300,00" in out
    assert "reserve before: 10\u00a0000,00" in out and "reserve after: 9\u00a0700,00" in out
    call_command("issue_allocations", "--period", "2026-12")
    assert "households credited: 0" in capsys.readouterr().out
    call_command("issue_allocations", "--period", "2026-12", "--dry-run")
    assert "households credited: 0" in capsys.readouterr().out
    ledger_is_clean()


@pytest.mark.django_db
def test_the_command_refuses_then_forces_with_a_reason(no_notices, capsys):
    from django.core.management import CommandError

    households(2)
    with pytest.raises(CommandError, match="réserve"):
        call_command("issue_allocations", "--period", "2026-12")
    from allocations.models import Approval
    from tests.vendor_fixtures import make_coordinator

    make_coordinator("coord"), make_coordinator("coord-2")
    with pytest.raises(CommandError):
        call_command("issue_allocations", "--period", "2026-12", "--force", "--by", "coord")
    call_command("issue_allocations", "--period", "2026-12", "--force", "--reason", "emergency", "--by", "coord")
    approval = Approval.objects.get(action="forced_issuance", target="2026-12")
    # No command approves: a shell could name any coordinator as the second pair of eyes.
    with pytest.raises(CommandError, match="Unknown command"):
        call_command("approve", approval.pk, "--by", "coord-2")
    from django.contrib.auth import get_user_model

    from allocations import approvals

    approvals.approve(approval, by=get_user_model().objects.get(username="coord-2"))  # the approvals page's service
    issuance.issue_period("2026-12")
    assert "emergency" in IssuanceRun.objects.get(period="2026-12").force_reason


@pytest.mark.django_db(transaction=True)
def test_chunks_worked_in_parallel_and_delivered_twice_close_the_run_once(no_notices, ledger_is_clean):
    """As Celery workers would: every chunk task delivered to two workers, in any order."""
    import random

    ensure_initial_rules()
    rules_from("2026-11", rollover_policy=RolloverPolicy.NONE)
    fund(100_000_00)
    members = households(30)
    for household in members:
        ledger.transfer(debit=ledger.system_account(AccountKind.ISSUANCE), credit=household.wallet_id, amount=2_500, kind=TransferKind.ALLOCATION, idempotency_key=f"allocation:{household.wallet_id}:2026-10")
    run, _ = issuance.start_run("2026-11", chunk_size=4)
    indexes = issuance.pending_chunks(run)
    barrier = threading.Barrier(4)
    errors, finished = [], []

    def worker(seed):
        try:
            order = indexes[:]
            random.Random(seed).shuffle(order)
            barrier.wait()
            for index in order:
                if issuance.issue_chunk(run.pk, index).run_finished:
                    finished.append(index)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(finished) == 1  # closed by exactly one chunk
    run.refresh_from_db()
    assert (run.status, run.chunks_done, run.households_credited, run.total_issued) == ("done", len(indexes), 30, 300_000)
    assert (run.households_expired, run.total_expired) == (30, 75_000)
    assert all(balance(h) == 10_000 for h in members)
    assert run.reserve_after == fund_position().available_reserve
    ledger_is_clean()


# --- Admin ----------------------------------------------------------------------------


@pytest.fixture
def coordinator_client(admin_client):
    """The admin, past the staff second-factor requirement (conftest's admin_user has a TOTP)."""
    return admin_client


@pytest.mark.django_db
def test_coordinators_can_neither_add_nor_rewrite_a_version_in_the_admin(coordinator_client):
    """A new version comes only from a rules change the committee adopted (governance applies
    it); the admin shows the versions and changes none."""
    admin_client = coordinator_client
    form = {
        "allocation_per_household": "15000",
        "supplement_per_extra_adult": "7500",
        "supplement_per_child": "0",
        "minimum_contribution": "1000",
        "minimum_contribution_per_extra_person": "500",
        "contribution_grid": "[]",
        "rollover_policy": "full",
        "rollover_cap": "0",
        "arrears_policy": "keep",
        "arrears_grace_months": "3",
        "decision_reference": "D-12",
    }
    ensure_initial_rules()
    with time_machine.travel(NOV_2026):
        refused = admin_client.post("/admin/allocations/fundrules/add/", {**form, "effective_from": "2027-01-01"})
        assert refused.status_code == 403
    assert not FundRules.objects.filter(effective_from=datetime.date(2027, 1, 1)).exists()
    version = rules_from("2027-02", allocation_per_household=15_000)
    page = admin_client.post(f"/admin/allocations/fundrules/{version.pk}/change/", {**form, "allocation_per_household": "1"})
    assert page.status_code in (200, 403)
    version.refresh_from_db()
    assert version.allocation_per_household == 15_000


@pytest.mark.django_db
def test_the_admin_warns_of_a_short_runway(coordinator_client):
    admin_client = coordinator_client
    households(4)
    fund(1_000_00)
    with time_machine.travel(NOV_2026):
        page = admin_client.get("/admin/allocations/issuancerun/", follow=True)
    assert "mois d&#x27;allocations" in page.content.decode() or "mois d'allocations" in page.content.decode()
