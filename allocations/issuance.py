"""The monthly issuance: for every household active in a period, expire what the rules
say no longer carries over, then credit the allocation — exactly once, set-based.

How exactly once holds, whatever runs it (beat, the command, two workers at once, a
task delivered twice, a rerun after a crash):

- each allocation transfer carries the key ``allocation:{wallet}:{period}`` and each
  expiry ``expiry:{wallet}:{period}``; ``INSERT … ON CONFLICT DO NOTHING`` makes a
  repeat write nothing, and balances move only by the rows the INSERT returned;
- a period has one `IssuanceRun`, planned once into chunks of households by id range.
  A chunk's row is locked while it is worked and marked done in the same transaction as
  its transfers and balance updates, so expiry and allocation of a chunk commit
  together or not at all, and a second delivery finds it done;
- the run's counts and totals are incremented in each chunk's transaction by what that
  chunk's statements returned: they are the rows written, not a sum kept in a process.

The ledger does not know households. The eligible households come from a
`HouseholdSource` (SQL selecting ``id, wallet_id, adults, children, joined_on``) that
the members app provides (`members.selectors.household_source`), resolved by dotted
path at the composition points (tasks, command); tests and the benchmark pass their own.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from kernel import mail
from kernel.errors import DomainError
from kernel.money import format_units

from . import fund, keys, periods
from .ledger import system_account
from .models import Account, AccountKind, FundRules, IssuanceChunk, IssuanceRun, Transfer, TransferKind, Unit
from .rules import rules_for
from .selectors import fund_position

logger = logging.getLogger(__name__)

_ACCOUNT = Account._meta.db_table
_TRANSFER = Transfer._meta.db_table
DEFAULT_CHUNK_SIZE = 5_000

# Test hook: called with the chunk index after each chunk this process commits (a crash
# injected here leaves a half-issued period, which a rerun must complete).
after_chunk_hook: Callable[[int], None] | None = None


@dataclass(frozen=True)
class HouseholdSource:
    # period's last day -> (SQL selecting id, wallet_id, adults, children, joined_on, params)
    eligible: Callable[[date], tuple[str, list]]
    # (period, lo, hi): tell the households of [lo, hi) that their allocation is there
    notify_issued: Callable[[str, int, int], None] | None = None
    # (period, kept balance, expiry date) -> households reminded
    remind_expiry: Callable[[str, int, date], int] | None = None


def default_source() -> HouseholdSource:
    path = getattr(settings, "ALLOCATIONS_HOUSEHOLD_SOURCE", "members.selectors.household_source")
    return import_string(path)()


class IssuanceError(DomainError):
    code = "issuance_error"


class IssuanceRefused(IssuanceError):
    code = "insufficient_reserve"

    def __init__(self, message, run=None):
        super().__init__(message)
        self.run = run


class PeriodTooFarAhead(IssuanceError):
    code = "period_too_far_ahead"


def check_issuable(period: str) -> None:
    """A period is issued at the earliest one period ahead (its run in the last days of the
    month before): further ahead, the rules and the reserve it would be issued on are guesses."""
    periods.parse(period)
    latest = periods.shift(periods.current(), 1)
    if period > latest:
        raise PeriodTooFarAhead(
            _("The allocations of %(period)s cannot be issued yet: %(latest)s is the furthest period that may be issued now.")
            % {"period": period, "latest": latest}
        )


def refusal_message(planned: Forecast) -> str:
    return _(
        "Issuance of %(period)s refused: it needs %(need)s but the available reserve is %(reserve)s. "
        "Add funds, change the rules for a later period, or have a coordinator force it with a reason."
    ) % {"period": planned.period, "need": format_units(planned.need), "reserve": format_units(planned.reserve)}


@dataclass(frozen=True)
class Forecast:
    period: str
    households: int  # households that would be credited (not yet credited for the period)
    total: int  # cents to issue
    wallets_expiring: int
    total_expiring: int
    reserve: int  # available reserve now

    @property
    def need(self) -> int:
        """What the period takes from the reserve: expired units return to it."""
        return self.total - self.total_expiring

    @property
    def covered(self) -> bool:
        return self.need <= self.reserve


@dataclass(frozen=True)
class ChunkResult:
    credited: int = 0
    issued: int = 0
    expired: int = 0
    expired_total: int = 0
    already_done: bool = False
    run_finished: bool = False
    refused: str = ""  # the late joiners' catch-up: why nobody was credited


@dataclass
class IssuanceResult:
    period: str
    forecast: Forecast | None  # None when an unfinished run is taken up: it was planned then
    run: IssuanceRun | None = None
    dry_run: bool = False
    # A dry run: why the real run would be refused ("" if it would not be)
    would_be_refused: str = ""
    # What this call wrote (a rerun of a finished period writes nothing)
    households_credited: int = 0
    total_issued: int = 0
    households_expired: int = 0
    total_expired: int = 0
    reserve_before: int = 0
    reserve_after: int = 0


# --- SQL ------------------------------------------------------------------------------


def _amount_sql(rules: FundRules, period: str) -> tuple[str, list]:
    """A household's allocation in cents for `period`, over the columns of alias ``h``."""
    base = "(CAST(%s AS BIGINT) + %s * (h.adults - 1) + %s * h.children)"
    base_params = [rules.allocation_per_household, rules.supplement_per_extra_adult, rules.supplement_per_child]
    if not rules.prorate_first_month:
        return base, base_params
    start, end = periods.parse(period), periods.last_day(period)
    days_left = "(CAST(%s AS DATE) - h.joined_on + 1)"
    # Integer division: a prorated amount is rounded down to the cent.
    sql = f"(CASE WHEN h.joined_on > %s THEN {base} * {days_left} / %s ELSE {base} END)"
    return sql, [start, *base_params, end, periods.days_in(period), *base_params]


def _system_ids() -> tuple[int, int]:
    return system_account(AccountKind.ISSUANCE).pk, system_account(AccountKind.EXPIRY).pk


# Expiry only touches a wallet not yet credited for the period: once the allocation is
# in, the balance is this period's money, and a replay (a chunk whose record was lost, a
# manual rerun) must not expire it. The expiry key alone would not say so when the
# first pass had nothing to expire.
_NOT_YET_CREDITED = (
    f"EXISTS (SELECT 1 FROM {_TRANSFER} c WHERE c.idempotency_key = {keys.allocation_sql('a.id')})"
)


def _expire(cursor, *, period, kept, eligible, eligible_params, lo, hi, expiry_id, now) -> tuple[int, int]:
    """Move what is above `kept` from each wallet of [lo, hi) to the expiry account's side."""
    key = keys.expiry_sql("w.id")
    memo = f"expiry {period}"
    # FOR UPDATE: a purchase committing meanwhile cannot make the balance read here
    # stale (the row is re-read once locked), so the debit never breaks the CHECK.
    cursor.execute(
        f"""
        WITH w AS (
            SELECT a.id, a.balance - %s AS amount
            FROM {_ACCOUNT} a JOIN ({eligible}) h ON h.wallet_id = a.id
            WHERE h.id >= %s AND h.id < %s AND a.balance > %s AND NOT {_NOT_YET_CREDITED}
            FOR UPDATE OF a
        ), written AS (
            INSERT INTO {_TRANSFER} (debit_id, credit_id, unit, amount, kind, idempotency_key, memo, created_at)
            SELECT w.id, %s, %s, w.amount, %s, {key}, %s, %s FROM w
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING debit_id, amount
        ), moved AS (
            UPDATE {_ACCOUNT} a SET balance = a.balance - written.amount
            FROM written WHERE a.id = written.debit_id
            RETURNING written.amount
        )
        SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM moved
        """,
        [kept, *eligible_params, lo, hi, kept, period, expiry_id, Unit.FUND_UNIT, TransferKind.EXPIRY, period, memo, now],
    )
    count, total = cursor.fetchone()
    return int(count), int(total)


def _allocate(cursor, *, period, rules, eligible, eligible_params, lo, hi, issuance_id, now, joined_after=None):
    """Credit the allocation of every eligible household of [lo, hi) not yet credited."""
    amount, amount_params = _amount_sql(rules, period)
    key = keys.allocation_sql("s.wallet_id")
    memo = f"allocation {period}"
    where, where_params = "h.id >= %s AND h.id < %s", [lo, hi]
    if joined_after is not None:
        where, where_params = f"{where} AND h.joined_on > %s", [*where_params, joined_after]
    select = f"""
        SELECT %s, s.wallet_id, %s, s.amount, %s, {key}, %s, %s
        FROM (SELECT h.wallet_id, {amount} AS amount FROM ({eligible}) h WHERE {where}) s
        WHERE s.amount > 0
    """
    params = [issuance_id, Unit.FUND_UNIT, TransferKind.ALLOCATION, period, memo, now, *amount_params, *eligible_params, *where_params]
    insert = f"INSERT INTO {_TRANSFER} (debit_id, credit_id, unit, amount, kind, idempotency_key, memo, created_at)"
    cursor.execute(
        f"""
        WITH written AS (
            {insert} {select}
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING credit_id, amount
        ), moved AS (
            UPDATE {_ACCOUNT} a SET balance = a.balance + written.amount
            FROM written WHERE a.id = written.credit_id
            RETURNING written.amount
        )
        SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM moved
        """,
        params,
    )
    count, total = cursor.fetchone()
    return int(count), int(total)


def _post_totals(cursor, *, issuance_id, issued, expiry_id, expired):
    # The fund's two accounts last, so that parallel chunks hold their rows only briefly.
    if expired:
        cursor.execute(f"UPDATE {_ACCOUNT} SET balance = balance + %s WHERE id = %s", [expired, expiry_id])
    if issued:
        cursor.execute(f"UPDATE {_ACCOUNT} SET balance = balance - %s WHERE id = %s", [issued, issuance_id])


# --- Forecast and planning --------------------------------------------------------------


def forecast(period: str, *, rules: FundRules | None = None, source: HouseholdSource | None = None) -> Forecast:
    """What issuing `period` now would write: one aggregate query, nothing written."""
    rules = rules or rules_for(period)
    source = source or default_source()
    eligible, eligible_params = source.eligible(periods.last_day(period))
    amount, amount_params = _amount_sql(rules, period)
    kept = rules.kept_balance
    expiring = "CASE WHEN a.balance > %s THEN a.balance - %s ELSE 0 END" if kept is not None else "0"
    expiring_params = [kept, kept] if kept is not None else []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT COUNT(*), COALESCE(SUM(s.amount), 0),
                   COALESCE(SUM(CASE WHEN s.expiring > 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(s.expiring), 0)
            FROM (
                SELECT {amount} AS amount, {expiring} AS expiring
                FROM ({eligible}) h JOIN {_ACCOUNT} a ON a.id = h.wallet_id
                WHERE NOT EXISTS (SELECT 1 FROM {_TRANSFER} t
                                  WHERE t.idempotency_key = {keys.allocation_sql('h.wallet_id')})
            ) s WHERE s.amount > 0
            """,
            [*amount_params, *expiring_params, *eligible_params, period],
        )
        households, total, wallets_expiring, total_expiring = cursor.fetchone()
    return Forecast(
        period=period,
        households=int(households),
        total=int(total),
        wallets_expiring=int(wallets_expiring),
        total_expiring=int(total_expiring),
        reserve=fund_position().available_reserve,
    )


def start_run(
    period: str,
    *,
    source: HouseholdSource | None = None,
    force: bool = False,
    forced_by=None,
    reason: str = "",
    chunk_size: int | None = None,
    approval=None,
) -> tuple[IssuanceRun, Forecast | None]:
    """Plan the period's run (once) or take up an unfinished one.

    Raises IssuanceRefused, after recording the refusal on the run, when the reserve
    cannot cover the period and no coordinator forced it.
    """
    check_issuable(period)
    if force and not reason.strip():
        raise IssuanceError(_("Forcing an issuance needs a reason."))
    if force:
        # Four eyes: forcing past the reserve takes a second coordinator's approval
        # (allocations.approvals.request_forced_issuance, then approve by another).
        from .approvals import require
        from .models import Approval

        require(approval, Approval.Action.FORCED_ISSUANCE, period)
    source = source or default_source()
    rules = rules_for(period)
    refused = None
    with transaction.atomic():
        # The run row's lock makes planning happen once, even for two concurrent callers.
        run, created = IssuanceRun.objects.select_for_update().get_or_create(period=period, defaults={"rules": rules})
        if not (created or run.status == IssuanceRun.Status.REFUSED):
            if run.status == IssuanceRun.Status.FAILED:
                run.status = IssuanceRun.Status.RUNNING
                run.save(update_fields=["status"])
            return run, None
        planned = forecast(period, rules=rules, source=source)
        run.rules = rules
        run.planned_households, run.planned_total = planned.households, planned.total
        run.reserve_before = planned.reserve
        if not planned.covered and not force:
            run.status = IssuanceRun.Status.REFUSED
            run.message = refused = refusal_message(planned)
            run.save()
        else:
            if force:
                run.forced_by, run.force_reason = forced_by, reason.strip()
                if not planned.covered:
                    run.message = _("Forced although the reserve does not cover it.")
            eligible, eligible_params = source.eligible(periods.last_day(period))
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT MIN(h.id), MAX(h.id) FROM ({eligible}) h", eligible_params)
                first, last = cursor.fetchone()
            configured: int = getattr(settings, "ALLOCATIONS_ISSUANCE_CHUNK_SIZE", DEFAULT_CHUNK_SIZE)
            size = chunk_size or configured
            run.chunk_size = size
            run.first_household_id, run.last_household_id = first or 0, last or 0
            run.chunks_total = 0 if first is None else math.ceil((last - first + 1) / size)
            run.chunks_done, run.last_chunk_done = 0, None
            run.started_at = timezone.now()
            if run.chunks_total:
                run.status = IssuanceRun.Status.RUNNING
            else:
                run.status, run.finished_at, run.reserve_after = IssuanceRun.Status.DONE, run.started_at, planned.reserve
            run.save()
            IssuanceChunk.objects.bulk_create(
                IssuanceChunk(run=run, index=i, lo=first + i * size, hi=min(first + (i + 1) * size, last + 1))
                for i in range(run.chunks_total)
            )
    if refused:
        logger.error(refused)
        raise IssuanceRefused(refused, run=run)
    return run, planned


def pending_chunks(run: IssuanceRun) -> list[int]:
    return list(run.chunks.filter(done=False).order_by("index").values_list("index", flat=True))


# --- Working a chunk ------------------------------------------------------------------


def issue_chunk(run_id: int, index: int, *, source: HouseholdSource | None = None) -> ChunkResult:
    """Expire then credit the households of one chunk, in one bounded transaction."""
    source = source or default_source()
    issuance_id, expiry_id = _system_ids()
    with transaction.atomic(), connection.cursor() as cursor:
        # The chunk's lock serialises a duplicate delivery; it then finds the chunk done.
        chunk = IssuanceChunk.objects.select_for_update().select_related("run__rules").get(run_id=run_id, index=index)
        run = chunk.run
        if source.notify_issued:
            # Also when already done: a notice lost to a crash after commit is sent now
            # (notices are one per household and period, so this cannot repeat them).
            notify = source.notify_issued
            transaction.on_commit(lambda: notify(run.period, chunk.lo, chunk.hi))
        if chunk.done:
            return ChunkResult(already_done=True)
        eligible, eligible_params = source.eligible(periods.last_day(run.period))
        now = timezone.now()
        expired = expired_total = 0
        kept = run.rules.kept_balance
        if kept is not None:  # before the credit: only what was unspent expires
            expired, expired_total = _expire(
                cursor, period=run.period, kept=kept, eligible=eligible, eligible_params=eligible_params,
                lo=chunk.lo, hi=chunk.hi, expiry_id=expiry_id, now=now,
            )
        credited, issued = _allocate(
            cursor, period=run.period, rules=run.rules, eligible=eligible, eligible_params=eligible_params,
            lo=chunk.lo, hi=chunk.hi, issuance_id=issuance_id, now=now,
        )
        _post_totals(cursor, issuance_id=issuance_id, issued=issued, expiry_id=expiry_id, expired=expired_total)
        IssuanceChunk.objects.filter(pk=chunk.pk).update(
            done=True, households_credited=credited, total_issued=issued,
            households_expired=expired, total_expired=expired_total, finished_at=now,
        )
        finished = _count_into_run(run.pk, credited, issued, expired, expired_total, last_chunk=index)
    return ChunkResult(credited, issued, expired, expired_total, run_finished=finished)


def _count_into_run(run_id, credited, issued, expired, expired_total, *, last_chunk=None) -> bool:
    """Add a chunk's written rows to its run; the chunk that completes the run closes it."""
    # The run row is locked before counting: the count below then sees every chunk whose
    # transaction committed before ours (READ COMMITTED takes a snapshot per statement),
    # so of two chunks finishing together, the second to lock closes the run.
    run = IssuanceRun.objects.select_for_update().get(pk=run_id)
    changes = dict(
        households_credited=F("households_credited") + credited,
        total_issued=F("total_issued") + issued,
        households_expired=F("households_expired") + expired,
        total_expired=F("total_expired") + expired_total,
    )
    if last_chunk is not None:
        # Counted, not incremented: a chunk worked twice cannot close the run early.
        done = IssuanceChunk.objects.filter(run_id=run_id, done=True).count()
        changes.update(chunks_done=done, last_chunk_done=last_chunk)
    IssuanceRun.objects.filter(pk=run_id).update(**changes)
    if last_chunk is None or done < run.chunks_total or run.status == IssuanceRun.Status.DONE:
        return False
    run.refresh_from_db()
    run.status, run.finished_at = IssuanceRun.Status.DONE, timezone.now()
    run.reserve_after = fund_position().available_reserve
    run.save(update_fields=["status", "finished_at", "reserve_after"])
    logger.info("Issuance of %s done: %s households, %s cents", run.period, run.households_credited, run.total_issued)
    return True


def issue_late_joiners(period: str, *, source: HouseholdSource | None = None) -> ChunkResult:
    """Credit households that joined during `period` after its run (prorated if the rules
    say so). Nothing of theirs expires: their wallet is new."""
    source = source or default_source()
    issuance_id, _expiry_id = _system_ids()
    with transaction.atomic(), connection.cursor() as cursor:
        run = IssuanceRun.objects.select_for_update().select_related("rules").filter(period=period).first()
        if run is None or run.status != IssuanceRun.Status.DONE:
            return ChunkResult()
        # The same solvency check as the month's run: late joiners are not credited on a
        # reserve that cannot back them (a forced run is the coordinators' decision, per period).
        planned = forecast(period, rules=run.rules, source=source)
        if planned.households and not planned.covered:
            message = refusal_message(planned)
            logger.error("late joiners: %s", message)
            return ChunkResult(refused=message)
        eligible, eligible_params = source.eligible(periods.last_day(period))
        credited, issued = _allocate(
            cursor, period=period, rules=run.rules, eligible=eligible, eligible_params=eligible_params,
            lo=0, hi=2**62, issuance_id=issuance_id, now=timezone.now(), joined_after=periods.parse(period),
        )
        _post_totals(cursor, issuance_id=issuance_id, issued=issued, expiry_id=_expiry_id, expired=0)
        if credited:
            _count_into_run(run.pk, credited, issued, 0, 0)
            if source.notify_issued:
                notify = source.notify_issued
                transaction.on_commit(lambda: notify(period, 0, 2**62))
    return ChunkResult(credited, issued)


# --- Whole periods ----------------------------------------------------------------------


def issue_period(
    period: str,
    *,
    source: HouseholdSource | None = None,
    dry_run: bool = False,
    force: bool = False,
    forced_by=None,
    reason: str = "",
    chunk_size: int | None = None,
    approval=None,
) -> IssuanceResult:
    """Issue `period` in this process, chunk after chunk (the Celery path runs the same
    chunks in parallel workers). Safe to call again: it resumes or does nothing."""
    source = source or default_source()
    if dry_run:
        check_issuable(period)
        preview = forecast(period, source=source)
        done = IssuanceRun.objects.filter(period=period, status__in=[IssuanceRun.Status.DONE,
                                                                     IssuanceRun.Status.RUNNING]).exists()
        return IssuanceResult(
            period=period, forecast=preview, dry_run=True,
            would_be_refused="" if (done or preview.covered or force) else refusal_message(preview),
            households_credited=preview.households, total_issued=preview.total,
            households_expired=preview.wallets_expiring, total_expired=preview.total_expiring,
            reserve_before=preview.reserve, reserve_after=preview.reserve - preview.need,
        )
    reserve_before = fund_position().available_reserve
    run, planned = start_run(
        period, source=source, force=force, forced_by=forced_by, reason=reason, chunk_size=chunk_size, approval=approval
    )
    result = IssuanceResult(period=period, forecast=planned, run=run, reserve_before=reserve_before)
    for index in pending_chunks(run):
        try:
            chunk = issue_chunk(run.pk, index, source=source)
            if after_chunk_hook is not None:
                after_chunk_hook(index)
        except Exception as exc:
            IssuanceRun.objects.filter(pk=run.pk).exclude(status=IssuanceRun.Status.DONE).update(
                status=IssuanceRun.Status.FAILED, message=f"chunk {index}: {exc}"[:2000]
            )
            logger.exception("Issuance of %s failed at chunk %s; a rerun resumes it", period, index)
            raise
        result.households_credited += chunk.credited
        result.total_issued += chunk.issued
        result.households_expired += chunk.expired
        result.total_expired += chunk.expired_total
    run.refresh_from_db()
    result.run = run
    result.reserve_after = fund_position().available_reserve
    return result


def due_periods() -> list[str]:
    """Every period not yet issued, oldest first, up to the current one.

    From the period after the last one done (or the oldest unfinished run); on a fund
    that never issued, only the current period: history is not invented.
    """
    current = periods.current()
    last_done = (
        IssuanceRun.objects.filter(status=IssuanceRun.Status.DONE).order_by("-period").values_list("period", flat=True).first()
    )
    unfinished = (
        IssuanceRun.objects.exclude(status=IssuanceRun.Status.DONE)
        .filter(period__lte=current)
        .order_by("period")
        .values_list("period", flat=True)
        .first()
    )
    candidates = [p for p in (unfinished, periods.shift(last_done, 1) if last_done else None) if p]
    first = min(candidates) if candidates else current
    done = set(IssuanceRun.objects.filter(status=IssuanceRun.Status.DONE, period__gte=first).values_list("period", flat=True))
    return [p for p in periods.between(first, current) if p not in done]


def issue_due(*, source: HouseholdSource | None = None) -> list[IssuanceResult]:
    """Issue every due period in order, in this process; stop at the first refusal, since
    a later period must not be issued before an earlier one. Then late joiners."""
    source = source or default_source()
    results = []
    for period in due_periods():
        results.append(issue_period(period, source=source))
    issue_late_joiners(periods.current(), source=source)
    return results


# --- Runway -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Runway:
    reserve: int
    monthly_need: int
    threshold_months: float

    @property
    def months(self) -> float | None:
        return None if self.monthly_need <= 0 else self.reserve / self.monthly_need

    @property
    def short(self) -> bool:
        return self.months is not None and self.months < self.threshold_months


def runway(*, source: HouseholdSource | None = None) -> Runway:
    """Reserve ÷ what a month of allocations costs under the rules of the next period."""
    source = source or default_source()
    period = periods.shift(periods.current(), 1)
    rules = rules_for(period)
    eligible, eligible_params = source.eligible(periods.last_day(period))
    amount, amount_params = _amount_sql(rules, period)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(SUM({amount}), 0) FROM ({eligible}) h", [*amount_params, *eligible_params])
        (need,) = cursor.fetchone()
    return Runway(
        reserve=fund_position().available_reserve,
        monthly_need=int(need),
        threshold_months=float(getattr(settings, "ALLOCATIONS_RUNWAY_WARNING_MONTHS", 3)),
    )


def runway_warning(report: Runway) -> str:
    return _(
        "The fund's reserve (%(reserve)s) covers %(months)s months of allocations (%(need)s a month), "
        "under the %(threshold)s-month threshold: the committee should decide now (grants, or reduced "
        "amounts for a coming period)."
    ) % {
        "reserve": format_units(report.reserve),
        "months": number_format(report.months or 0, 1),  # only a short runway is warned of: never None
        "need": format_units(report.monthly_need),
        "threshold": f"{report.threshold_months:g}",
    }


def warn_if_runway_short(*, source: HouseholdSource | None = None) -> Runway:
    """Log and e-mail the coordinators when the runway falls under the threshold."""
    from users import roles

    report = runway(source=source)
    if report.short:
        message = runway_warning(report)
        logger.warning(message)
        recipients = list(
            roles.coordinators()
            .exclude(email="")
            .values_list("email", flat=True)
        )
        if recipients:
            subject = _("%(fund)s: the reserve is running low") % {"fund": fund.cached().name}
            mail.send_after_commit((subject, message, address) for address in recipients)
    return report


def remind_expiring_balances(*, today: date | None = None, source: HouseholdSource | None = None) -> int:
    """A few days before a period ends, under a policy that expires balances, remind the
    households whose balance is above what they will keep."""
    source = source or default_source()
    today = today or timezone.localdate()
    period = periods.of(today)
    end = periods.last_day(period)
    days_before = int(getattr(settings, "ALLOCATIONS_EXPIRY_REMINDER_DAYS", 5))
    if (end - today).days >= days_before or source.remind_expiry is None:
        return 0
    kept = rules_for(periods.shift(period, 1)).kept_balance
    if kept is None:
        return 0
    return source.remind_expiry(period, kept, end)
