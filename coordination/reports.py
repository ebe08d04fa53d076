"""What the coordinators' dashboard and exports read: a fixed number of aggregate queries,
whatever the size of the fund (each is one GROUP BY over the window, never a query per
row). The fund's position and runway come from `selectors.fund_position()` and
`issuance.runway()`, the one place each is computed.

Small cells are suppressed: a breakdown by district (and the research export) never shows
a figure about fewer than `MIN_CELL` households, so nobody is recognisable in it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from allocations import issuance, periods
from allocations.models import Account, AccountKind, Transfer, TransferKind
from allocations.rules import NoRulesInForce
from allocations.selectors import FundPosition, fund_position

MIN_CELL = 10
TREND_MONTHS = 12
SPENDING_KINDS = (TransferKind.PURCHASE, TransferKind.REFUND)


def suppress(count: int | None) -> bool:
    return count is None or count < MIN_CELL


@dataclass(frozen=True)
class Position:
    fund: FundPosition
    owed_to_vendors: int
    runway_months: float | None
    monthly_need: int
    runway_short: bool
    # Euros in approved payment files the bank has not confirmed: in the treasury, not available.
    committed_to_vendors: int = 0

    @property
    def in_wallets(self) -> int:
        return self.fund.units_in_circulation - self.owed_to_vendors


def position() -> Position:
    fund = fund_position()
    # Vendor accounts are few (one per shop): their sum is cheap and splits circulation.
    from vendors.selectors import committed_total

    owed = Account.objects.filter(kind=AccountKind.VENDOR).aggregate(total=Sum("balance"))["total"] or 0
    committed = committed_total()
    try:
        runway = issuance.runway()
    except NoRulesInForce:  # no rules for next month yet: the dashboard still shows the rest
        return Position(fund=fund, owed_to_vendors=owed, runway_months=None, monthly_need=0, runway_short=False,
                        committed_to_vendors=committed)
    return Position(fund=fund, owed_to_vendors=owed, runway_months=runway.months,
                    monthly_need=runway.monthly_need, runway_short=runway.short, committed_to_vendors=committed)


def window(months: int = TREND_MONTHS, *, today: date | None = None) -> tuple[list[str], datetime]:
    """The last `months` periods, oldest first, and the moment the first one starts."""
    last = periods.current() if today is None else today.strftime("%Y-%m")
    months_list = [periods.shift(last, -n) for n in range(months - 1, -1, -1)]
    start = timezone.make_aware(datetime.combine(periods.parse(months_list[0]), time.min))
    return months_list, start


@dataclass
class TrendRow:
    """One month. Units (issued, spent) and euros (the rest) are apart; euro figures are
    net of what came back, and what came back is shown apart: a contribution returned by
    the bank or corrected, a grant reversed, a settlement transfer the shop's bank returned."""

    period: str
    issued: int = 0  # units, of the month they were issued for
    spent: int = 0  # units: purchases less refunds
    contributions: int = 0  # euros, net of returns and corrections
    contributions_returned: int = 0
    grants: int = 0  # euros, net of reversals
    reimbursed: int = 0  # euros, net of returned transfers
    reimbursements_returned: int = 0


def monthly_trends(months: int = TREND_MONTHS) -> list[TrendRow]:
    """Per month, in one GROUP BY: units issued (for that period, whenever posted), spent,
    and euros in and out dated by the bank's value date; reversals count in the month of
    the reversal, against the kind they reverse."""
    labels, start = window(months)
    rows = {label: TrendRow(label) for label in labels}
    transfer = Transfer._meta.db_table
    kinds = [TransferKind.ALLOCATION, TransferKind.PURCHASE, TransferKind.REFUND, TransferKind.CONTRIBUTION,
             TransferKind.GRANT, TransferKind.REIMBURSEMENT]
    sql = f"""
        SELECT COALESCE(CASE WHEN COALESCE(o.kind, t.kind) = %s
                             THEN NULLIF(split_part(COALESCE(o.idempotency_key, t.idempotency_key), ':', 3), '') END,
                        to_char(COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date), 'YYYY-MM')),
               t.kind, COALESCE(o.kind, t.kind), SUM(t.amount)
        FROM {transfer} t LEFT JOIN {transfer} o ON o.id = t.reverses_id
        WHERE COALESCE(o.kind, t.kind) = ANY(%s)
          AND (t.created_at >= %s OR COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date) >= %s)
        GROUP BY 1, 2, 3
    """
    first_day = periods.parse(labels[0])
    params = [TransferKind.ALLOCATION, settings.TIME_ZONE, [str(kind) for kind in kinds],
              start - timedelta(days=62), settings.TIME_ZONE, first_day]
    for month, kind, effective, total in _run(sql, params):
        row = rows.get(month)
        if row is None:
            continue
        total = int(total)
        back = kind == TransferKind.REVERSAL
        sign = -1 if back else 1
        if effective == TransferKind.ALLOCATION:
            row.issued += sign * total
        elif effective == TransferKind.PURCHASE:
            row.spent += sign * total
        elif effective == TransferKind.REFUND:
            row.spent -= sign * total
        elif effective == TransferKind.CONTRIBUTION:
            row.contributions += sign * total
            row.contributions_returned += total if back else 0
        elif effective == TransferKind.GRANT:
            row.grants += sign * total
        else:
            row.reimbursed += sign * total
            row.reimbursements_returned += total if back else 0
    return list(rows.values())


def _spending_sql(group_sql: str, join_sql: str, side_sql: str) -> str:
    transfer = Transfer._meta.db_table
    return f"""
        SELECT {group_sql} AS label,
               SUM(CASE WHEN t.kind = %s THEN t.amount ELSE -t.amount END) AS spent,
               COUNT(DISTINCT {side_sql}) AS households
        FROM {transfer} t {join_sql}
        WHERE t.created_at >= %s AND t.kind IN (%s, %s)
        GROUP BY {group_sql} ORDER BY {group_sql}
    """


def _run(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _params(start: datetime) -> list:
    return [TransferKind.PURCHASE, connection.ops.adapt_datetimefield_value(start),
            TransferKind.PURCHASE, TransferKind.REFUND]


def spending_by_vendor_kind(months: int = TREND_MONTHS) -> list[dict]:
    from vendors.models import Vendor

    _labels, start = window(months)
    sql = _spending_sql(
        "v.kind",
        f"JOIN {Vendor._meta.db_table} v ON v.account_id = CASE WHEN t.kind = 'purchase' THEN t.credit_id ELSE t.debit_id END",
        "CASE WHEN t.kind = 'purchase' THEN t.debit_id ELSE t.credit_id END",
    )
    names = dict(Vendor.Kind.choices)
    return [{"kind": kind, "label": str(names.get(kind, kind)), "spent": int(spent), "households": int(n)}
            for kind, spent, n in _run(sql, _params(start))]


def spending_by_district(months: int = TREND_MONTHS) -> list[dict]:
    """By the household's district; districts of fewer than MIN_CELL households are merged
    into one "other districts" row, itself suppressed if still too small."""
    from members.models import Household

    _labels, start = window(months)
    sql = _spending_sql(
        "h.district",
        f"JOIN {Household._meta.db_table} h ON h.wallet_id = CASE WHEN t.kind = 'purchase' THEN t.debit_id ELSE t.credit_id END",
        "h.id",
    )
    rows, other_spent, other_n = [], 0, 0
    for district, spent, n in _run(sql, _params(start)):
        if suppress(n) or not district:
            other_spent, other_n = other_spent + int(spent), other_n + int(n)
        else:
            rows.append({"district": district, "spent": int(spent), "households": int(n), "suppressed": False})
    if other_n:
        hidden = suppress(other_n)
        rows.append({"district": None, "spent": None if hidden else other_spent,
                     "households": None if hidden else other_n, "suppressed": hidden})
    return rows


def contributions_by_bracket(months: int = TREND_MONTHS) -> list[dict]:
    """Contributions paid by declared income bracket: totals and households, no names. Net,
    as everywhere on the dashboard: a payment the bank returned or a coordinator corrected
    counts in `returned`, apart, not in the total."""
    from members.brackets import IncomeBracket
    from members.models import ContributionPayment

    labels, _start = window(months)
    names = dict(IncomeBracket.choices)
    standing = Q(rejected_at__isnull=True, corrected_at__isnull=True)
    rows = (
        ContributionPayment.objects.filter(period__gte=labels[0])
        .values_list("household__income_bracket")
        .annotate(total=Sum("amount", filter=standing, default=0), returned=Sum("amount", filter=~standing, default=0),
                  households=Count("household", filter=standing, distinct=True), payments=Count("id", filter=standing))
        .order_by("household__income_bracket")
    )
    return [{"bracket": bracket or "", "label": str(names.get(bracket, "—")), "total": int(total),
             "returned": int(returned), "households": households, "payments": payments,
             "average": int(total / payments) if payments else 0}
            for bracket, total, returned, households, payments in rows]


@dataclass
class Participation:
    active: int
    arrivals: dict = field(default_factory=dict)
    departures: dict = field(default_factory=dict)
    issued: int = 0
    spent: int = 0

    @property
    def share_spent(self) -> float | None:
        return None if not self.issued else self.spent / self.issued


def participation(trends: list[TrendRow]) -> Participation:
    from members.models import Household

    labels = [row.period for row in trends]
    first_day = periods.parse(labels[0])
    active = Household.objects.filter(status=Household.Status.ACTIVE).count()
    arrivals = defaultdict(int)
    for month, count in (
        Household.objects.filter(joined_on__gte=first_day).exclude(status__in=[
            Household.Status.APPLICANT, Household.Status.WAITLISTED, Household.Status.DRAWN])
        .annotate(month=TruncMonth("joined_on")).values_list("month").annotate(n=Count("id")).order_by()
    ):
        arrivals[month.strftime("%Y-%m")] += count
    departures = defaultdict(int)
    start = timezone.make_aware(datetime.combine(first_day, time.min))
    for month, count in (
        Household.objects.filter(status=Household.Status.EXITED, status_changed_at__gte=start)
        .annotate(month=TruncMonth("status_changed_at", tzinfo=timezone.get_current_timezone()))
        .values_list("month").annotate(n=Count("id")).order_by()
    ):
        departures[timezone.localtime(month).strftime("%Y-%m")] += count
    return Participation(
        active=active,
        arrivals={label: arrivals.get(label, 0) for label in labels},
        departures={label: departures.get(label, 0) for label in labels},
        issued=sum(row.issued for row in trends),
        spent=sum(row.spent for row in trends),
    )


@dataclass(frozen=True)
class Dashboard:
    position: Position
    trends: list[TrendRow]
    by_vendor_kind: list[dict]
    by_district: list[dict]
    by_bracket: list[dict]
    participation: Participation


def dashboard() -> Dashboard:
    trends = monthly_trends()
    return Dashboard(
        position=position(),
        trends=trends,
        by_vendor_kind=spending_by_vendor_kind(),
        by_district=spending_by_district(),
        by_bracket=contributions_by_bracket(),
        participation=participation(trends),
    )


# --- CSV tables ---------------------------------------------------------------------------


def table(name: str) -> tuple[list[str], list[list]]:
    """(header, rows) of one dashboard table, amounts in cents (the CSV exports)."""
    if name == "position":
        p = position()
        rows = [["treasury", p.fund.treasury], ["cash", p.fund.cash], ["grants_received", p.fund.grants_received],
                ["contributions_received", p.fund.contributions_received],
                ["reimbursements_paid", p.fund.reimbursements_paid],
                ["units_in_circulation", p.fund.units_in_circulation], ["in_wallets", p.in_wallets],
                ["owed_to_vendors", p.owed_to_vendors], ["available_reserve", p.fund.available_reserve],
                ["monthly_need", p.monthly_need],
                ["runway_months", "" if p.runway_months is None else round(p.runway_months, 2)]]
        return ["figure", "value"], rows
    if name == "trends":
        return (["period", "issued_units", "spent_units", "contributions_net_euros", "contributions_returned_euros",
                 "grants_euros", "reimbursed_net_euros", "reimbursements_returned_euros"],
                [[r.period, r.issued, r.spent, r.contributions, r.contributions_returned, r.grants, r.reimbursed,
                  r.reimbursements_returned] for r in monthly_trends()])
    if name == "vendor_kinds":
        return ["kind", "spent", "households"], [[r["kind"], r["spent"], r["households"]] for r in spending_by_vendor_kind()]
    if name == "districts":
        return (["district", "spent", "households"],
                [[r["district"] or "other", "" if r["suppressed"] else r["spent"],
                  "<10" if r["suppressed"] else r["households"]] for r in spending_by_district()])
    if name == "brackets":
        return (["income_bracket", "total_net_euros", "returned_euros", "households", "payments", "average_euros"],
                [[r["bracket"], r["total"], r["returned"], r["households"], r["payments"], r["average"]]
                 for r in contributions_by_bracket()])
    if name == "participation":
        trends = monthly_trends()
        p = participation(trends)
        rows = [[period, p.arrivals[period], p.departures[period]] for period in p.arrivals]
        rows.append(["active_now", p.active, ""])
        rows.append(["share_spent", "" if p.share_spent is None else round(p.share_spent, 4), ""])
        return ["period", "arrivals", "departures"], rows
    raise KeyError(name)


TABLES = ("position", "trends", "vendor_kinds", "districts", "brackets", "participation")
