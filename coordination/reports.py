"""What the coordinators' dashboard and exports read: a fixed number of aggregate queries,
whatever the size of the fund (each is one GROUP BY over the period, never a query per
row). The fund's position and runway come from `selectors.fund_position()` and
`issuance.runway()`, the one place each is computed.

Every table that means a period reads one `Span` (`span()`: a month, a financial year or
the last 12 months), in the fund's months (Europe/Paris, `allocations.periods`): spending
by the day of each purchase or refund, units issued by the month they are for, euros by
the bank's value date. The CSV downloads take the same span.

Small cells are suppressed: a breakdown by shop, kind of shop or district (and the
research export) never shows a figure about fewer than `MIN_CELL` households, nor does
the share of households who spent, so nobody is recognisable in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from allocations import issuance, periods
from allocations.models import Account, AccountKind, Transfer, TransferKind
from allocations.rules import NoRulesInForce
from allocations.selectors import FundPosition, fund_position

from . import books

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


class InvalidSpan(ValueError):
    """A period the dashboard cannot show: the message names the field, in the user's language."""


@dataclass(frozen=True)
class Span:
    """The period the dashboard's tables are about: one of the fund's months, a financial
    year (as the books define it), or the last 12 months (the default, key ""). Months are
    the fund's (Europe/Paris): a purchase at 00:30 on 1 April in Paris is April's, though
    it is still 31 March in UTC (22:30, summer time; 23:30 on 31 January in winter time)."""

    key: str
    months: tuple[str, ...]

    @property
    def first_day(self) -> date:
        return periods.parse(self.months[0])

    @property
    def end_day(self) -> date:
        """The first day after the span."""
        return periods.last_day(self.months[-1]) + timedelta(days=1)

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first_day, time.min))

    @property
    def stop(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end_day, time.min))

    @property
    def trend_months(self) -> list[str]:
        """The months of the monthly trends: the span's; for a single month, the 12 months
        up to it (a trend of one month is no trend)."""
        if len(self.months) > 1:
            return list(self.months)
        return [periods.shift(self.months[0], -n) for n in range(TREND_MONTHS - 1, -1, -1)]

    @property
    def query(self) -> str:
        """The GET parameter that asks for this span again (CSV links), or ""."""
        return f"?{PERIOD_PARAMETER}={self.key}" if self.key else ""

    @property
    def label(self) -> str:
        if not self.key:
            return _("the last 12 months (%(first)s to %(last)s)") % {"first": self.months[0], "last": self.months[-1]}
        if len(self.key) == 4:
            return _("the financial year %(year)s (%(first)s to %(last)s)") % {
                "year": books.year_label(int(self.key)), "first": self.months[0], "last": self.months[-1]}
        return _("the month %(month)s") % {"month": self.key}


PERIOD_PARAMETER = "period"
FIRST_YEAR = 2000
_YEAR = re.compile(r"^\d{4}$", re.ASCII)


def span(value: str | None = None) -> Span:
    """The span a GET parameter asks for: "" (the last 12 months), "YYYY-MM" (a month) or
    "YYYY" (the financial year that starts in YYYY). Raises InvalidSpan for anything else,
    or a period that has not begun."""
    value = (value or "").strip()
    current = periods.current()
    if not value:
        return Span("", tuple(periods.shift(current, -n) for n in range(TREND_MONTHS - 1, -1, -1)))
    if _YEAR.match(value):
        year = int(value)
        if not FIRST_YEAR <= year <= books.current_year():
            raise InvalidSpan(_("Period: the financial year %(year)s has not begun or is too old.") % {"year": value})
        first, end = books.year_bounds(year)
        return Span(value, tuple(periods.between(periods.of(first), periods.of(end - timedelta(days=1)))))
    try:
        periods.parse(value)
    except periods.InvalidPeriod:
        raise InvalidSpan(_("Period: choose a month (YYYY-MM), a financial year (YYYY) or the last 12 months.")) from None
    if value > current or value < f"{FIRST_YEAR}-01":
        raise InvalidSpan(_("Period: the month %(month)s has not begun or is too old.") % {"month": value})
    return Span(value, (value,))


def span_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The spans the dashboard offers, grouped: the last 12 months, the financial years
    (this one and the two before), each of the last 12 months (newest first)."""
    year = books.current_year()
    last = span()
    return [
        (_("Default"), [("", _("The last 12 months"))]),
        (_("Financial year"), [(str(y), books.year_label(y)) for y in range(year, max(FIRST_YEAR, year - 2) - 1, -1)]),
        (_("Month"), [(month, formats.date_format(periods.parse(month), "F Y")) for month in reversed(last.months)]),
    ]


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


def _month_sql(alias: str = "t") -> str:
    """A transfer's month: its value date's (the bank's date of a euro movement; else the
    fund's day it was posted, Europe/Paris). The same expression for every table."""
    return f"to_char(COALESCE({alias}.value_date, ({alias}.created_at AT TIME ZONE %s)::date), 'YYYY-MM')"


def _counted_in_sql(original: str) -> str:
    """The month a transfer `t` counts in: for an allocation (`original` is the transfer
    itself, or the allocation a reversal undoes) the period it was issued for, its key's
    third part, whenever posted; for anything else the month of t's own date."""
    return (f"CASE WHEN {original}.kind = %s THEN COALESCE(NULLIF(split_part({original}.idempotency_key, ':', 3), ''), "
            f"{_month_sql()}) ELSE {_month_sql()} END")


# Allocations are issued at most this long before (or after) the month they are for.
_ISSUED_AHEAD = timedelta(days=62)


def monthly_trends(span_: Span | None = None) -> list[TrendRow]:
    """Per month of `span_.trend_months`, in one GROUP BY: units issued (for that period,
    whenever posted), spent, and euros in and out dated by the bank's value date; reversals
    count in the month of the reversal, against the kind they reverse."""
    span_ = span_ or span()
    labels = span_.trend_months
    rows = {label: TrendRow(label) for label in labels}
    transfer = Transfer._meta.db_table
    kinds = [TransferKind.ALLOCATION, TransferKind.PURCHASE, TransferKind.REFUND, TransferKind.CONTRIBUTION,
             TransferKind.GRANT, TransferKind.REIMBURSEMENT]
    recent = "(t.created_at >= %s OR COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date) >= %s)"
    # Two branches rather than one outer join: only the few reversals look up what they undo.
    sql = f"""
        SELECT month, kind, effective, SUM(amount) FROM (
            SELECT {_counted_in_sql("t")} AS month, t.kind, t.kind AS effective, t.amount
            FROM {transfer} t WHERE t.kind = ANY(%s) AND {recent}
            UNION ALL
            SELECT {_counted_in_sql("o")}, t.kind, o.kind, t.amount
            FROM {transfer} t JOIN {transfer} o ON o.id = t.reverses_id
            WHERE t.kind = %s AND o.kind = ANY(%s) AND {recent}
        ) moved GROUP BY 1, 2, 3
    """
    first_day = periods.parse(labels[0])
    start = timezone.make_aware(datetime.combine(first_day, time.min))
    tz = settings.TIME_ZONE
    kinds = [str(kind) for kind in kinds]
    month = [TransferKind.ALLOCATION, tz, tz]
    since = [start - _ISSUED_AHEAD, tz, first_day]
    params = [*month, kinds, *since, *month, TransferKind.REVERSAL, kinds, *since]
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


def in_span(trends: list[TrendRow], span_: Span) -> list[TrendRow]:
    """The trends' rows of the span's own months (a single month's trends show twelve)."""
    return [row for row in trends if row.period in span_.months]


# --- Spending: by shop, by kind of shop, by district ------------------------------------
#
# Purchases less refunds, each in the period of its own day (Europe/Paris): a refund in
# April of a March purchase lowers April's spending, not March's, as the books expense it
# (657 is credited on the refund's date) and as the monthly trends count it. So a month's
# spending can be negative at a shop, and the tables add up to the trends' "spent".


def _run(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


_WALLET_SIDE = "CASE WHEN t.kind = 'purchase' THEN t.debit_id ELSE t.credit_id END"
_VENDOR_SIDE = "CASE WHEN t.kind = 'purchase' THEN t.credit_id ELSE t.debit_id END"


def _spending_rows(span_: Span) -> dict[str, list[tuple]]:
    """Per table ("shop", "kind", "district"): (label, spent, households, labels merged), in
    one statement, one pass over the span's purchases and refunds: net per shop and
    household first, then per group and household; groups of fewer than MIN_CELL
    households (or without a label) merged into one row of label None, whose households
    are counted once each (a household may shop at several of them)."""
    from members.models import Household
    from vendors.models import Vendor

    transfer, household, vendor = Transfer._meta.db_table, Household._meta.db_table, Vendor._meta.db_table
    sql = f"""
        WITH per AS (
            SELECT v.id AS shop, v.kind, h.id AS who, h.district,
                   SUM(CASE WHEN t.kind = %s THEN t.amount ELSE -t.amount END) AS spent
            FROM {transfer} t JOIN {household} h ON h.wallet_id = {_WALLET_SIDE}
            JOIN {vendor} v ON v.account_id = {_VENDOR_SIDE}
            WHERE t.kind IN (%s, %s) AND t.created_at >= %s AND t.created_at < %s
            GROUP BY v.id, h.id
        ), grouped AS (
            SELECT 'shop' AS tbl, shop::text AS label, who, spent FROM per
            UNION ALL SELECT 'kind', kind, who, SUM(spent) FROM per GROUP BY kind, who
            UNION ALL SELECT 'district', district, who, SUM(spent) FROM per GROUP BY district, who
        ), sized AS (SELECT *, COUNT(*) OVER (PARTITION BY tbl, label) AS n FROM grouped)
        SELECT tbl, CASE WHEN n >= %s AND COALESCE(label, '') <> '' THEN label END,
               SUM(spent), COUNT(DISTINCT who), array_agg(DISTINCT label)
        FROM sized GROUP BY 1, 2 ORDER BY 1, 2 NULLS LAST
    """
    adapt = connection.ops.adapt_datetimefield_value
    params = [TransferKind.PURCHASE, TransferKind.PURCHASE, TransferKind.REFUND, adapt(span_.start),
              adapt(span_.stop), MIN_CELL]
    rows: dict[str, list[tuple]] = {"shop": [], "kind": [], "district": []}
    for table_, label, spent, n, merged in _run(sql, params):
        rows[table_].append((label, int(spent), int(n), [x for x in merged if x]))
    return rows


def _other(spent: int, households: int, **fields) -> dict:
    """The merged row of the small groups: itself hidden if still fewer than MIN_CELL."""
    hidden = suppress(households)
    return {**fields, "spent": None if hidden else spent, "households": None if hidden else households,
            "suppressed": hidden}


@dataclass(frozen=True)
class Spending:
    """Units spent in a span, net of refunds, three ways; small cells hidden (see spending())."""

    by_shop: list[dict]
    by_kind: list[dict]
    by_district: list[dict]


def spending(span_: Span | None = None) -> Spending:
    """Spending by shop, by kind of shop and by district, for `span_` (two queries).

    By shop: each approved shop (and any other where members spent in the span), by name;
    a shop where fewer than MIN_CELL households spent is listed with its figures hidden,
    and those shops' figures together make one last row, hidden too if still fewer. By
    kind and by district: groups of fewer than MIN_CELL households are merged into one
    "other" row (their names not shown), itself hidden if still too small."""
    from vendors.models import Vendor

    span_ = span_ or span()
    rows = _spending_rows(span_)
    by_shop, by_kind, by_district = [], [], []
    spent, other = {}, None
    for label, total, n, merged in rows["shop"]:
        if label is None:
            other = (total, n, {int(x) for x in merged})
        else:
            spent[int(label)] = (total, n)
    small = other[2] if other else set()
    shops = Vendor.objects.filter(Q(status=Vendor.Status.APPROVED) | Q(pk__in=[*spent, *small]))
    for shop in sorted(shops.only("display_name", "slug", "status"), key=lambda v: v.display_name.lower()):
        if shop.pk in spent:
            total, n = spent[shop.pk]
            by_shop.append({"shop": shop.display_name, "slug": shop.slug, "spent": total, "households": n,
                            "suppressed": False})
        elif shop.pk in small:
            by_shop.append({"shop": shop.display_name, "slug": shop.slug, "spent": None, "households": None,
                            "suppressed": True})
        else:  # nobody spent there: nothing to hide
            by_shop.append({"shop": shop.display_name, "slug": shop.slug, "spent": 0, "households": 0,
                            "suppressed": False})
    if other:
        by_shop.append(_other(other[0], other[1], shop=None, slug=""))
    names = dict(Vendor.Kind.choices)
    for kind, total, n, _merged in rows["kind"]:
        if kind is None:
            by_kind.append(_other(total, n, kind=None, label=None))
        else:
            by_kind.append({"kind": kind, "label": str(names.get(kind, kind)), "spent": total, "households": n,
                            "suppressed": False})
    for district, total, n, _merged in rows["district"]:
        if district is None:
            by_district.append(_other(total, n, district=None))
        else:
            by_district.append({"district": district, "spent": total, "households": n, "suppressed": False})
    return Spending(by_shop=by_shop, by_kind=by_kind, by_district=by_district)


def contributions_by_bracket(span_: Span | None = None) -> list[dict]:
    """Contributions by declared income bracket: totals and households, no names. Dated as
    the monthly trends date them (the bank's value date), so the brackets add up to the
    trends' contributions: net, as everywhere on the dashboard; a payment the bank returned
    or a coordinator corrected counts in `returned`, apart, in the month it came back.
    `payments`, `households` and `average` are of the payments of the span still standing."""
    from members.brackets import IncomeBracket
    from members.models import ContributionPayment, Household

    span_ = span_ or span()
    transfer = Transfer._meta.db_table
    sql = f"""
        SELECT h.income_bracket,
               SUM(CASE WHEN t.kind = %s THEN -t.amount ELSE t.amount END),
               COALESCE(SUM(t.amount) FILTER (WHERE t.kind = %s), 0),
               COUNT(DISTINCT h.id) FILTER (WHERE t.kind <> %s AND r.id IS NULL),
               COUNT(*) FILTER (WHERE t.kind <> %s AND r.id IS NULL),
               COALESCE(SUM(t.amount) FILTER (WHERE t.kind <> %s AND r.id IS NULL), 0)
        FROM {transfer} t LEFT JOIN {transfer} o ON o.id = t.reverses_id
        LEFT JOIN {transfer} r ON r.reverses_id = t.id
        LEFT JOIN {ContributionPayment._meta.db_table} p ON p.transfer_id = COALESCE(o.id, t.id)
        LEFT JOIN {Household._meta.db_table} h ON h.id = p.household_id
        WHERE t.kind IN (%s, %s) AND COALESCE(o.kind, t.kind) = %s
          AND COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date) >= %s
          AND COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date) < %s
        GROUP BY 1 ORDER BY 1
    """
    reversal = TransferKind.REVERSAL
    tz = settings.TIME_ZONE
    params = [reversal, reversal, reversal, reversal, reversal, TransferKind.CONTRIBUTION, reversal,
              TransferKind.CONTRIBUTION, tz, span_.first_day, tz, span_.end_day]
    names = dict(IncomeBracket.choices)
    return [{"bracket": bracket or "", "label": str(names.get(bracket, "—")), "total": int(total),
             "returned": int(returned), "households": households, "payments": payments,
             "average": int(standing / payments) if payments else 0}
            for bracket, total, returned, households, payments, standing in _run(sql, params)]


# --- Participation ----------------------------------------------------------------------


@dataclass
class MonthParticipation:
    """One month: households with an allocation for it, and how many of them spent in it
    (purchases less refunds of the month above zero). Both hidden below MIN_CELL."""

    period: str
    allocated: int = 0
    spent: int = 0
    arrivals: int = 0
    departures: int = 0

    @property
    def suppressed(self) -> bool:
        return self.allocated > 0 and suppress(self.allocated)  # none allocated: nothing to hide

    @property
    def share(self) -> float | None:
        return None if self.suppressed or not self.allocated else self.spent / self.allocated


@dataclass
class Participation:
    active: int
    months: list[MonthParticipation] = field(default_factory=list)
    issued: int = 0  # units issued for the span's months
    spent: int = 0  # units spent in them, net of refunds

    @property
    def share_spent(self) -> float | None:
        """Units spent ÷ units issued over the span."""
        return None if not self.issued else self.spent / self.issued

    @property
    def allocated(self) -> int:
        """Households × months with an allocation, over the span."""
        return sum(month.allocated for month in self.months)

    @property
    def share_households(self) -> float | None:
        """Of the households with an allocation for a month, the share who spent in it."""
        shown = [month for month in self.months if not month.suppressed]
        allocated = sum(month.allocated for month in shown)
        return None if suppress(allocated) else sum(month.spent for month in shown) / allocated

    @property
    def arrivals(self) -> dict:
        return {month.period: month.arrivals for month in self.months}

    @property
    def departures(self) -> dict:
        return {month.period: month.departures for month in self.months}


def _households_who_spent(span_: Span) -> dict[str, tuple[int, int]]:
    """Per month of the span: (households with a standing allocation for it, of which those
    who spent in it), in one statement."""
    transfer = Transfer._meta.db_table
    sql = f"""
        WITH allocated AS (
            SELECT DISTINCT COALESCE(NULLIF(split_part(t.idempotency_key, ':', 3), ''), {_month_sql()}) AS period,
                   t.credit_id AS wallet
            FROM {transfer} t
            WHERE t.kind = %s AND t.created_at >= %s
              AND NOT EXISTS (SELECT 1 FROM {transfer} r WHERE r.reverses_id = t.id)
        ), spent AS (
            SELECT to_char(t.created_at AT TIME ZONE %s, 'YYYY-MM') AS period, {_WALLET_SIDE} AS wallet
            FROM {transfer} t
            WHERE t.kind IN (%s, %s) AND t.created_at >= %s AND t.created_at < %s
            GROUP BY 1, 2 HAVING SUM(CASE WHEN t.kind = %s THEN t.amount ELSE -t.amount END) > 0
        )
        SELECT a.period, COUNT(*), COUNT(s.wallet)
        FROM allocated a LEFT JOIN spent s ON s.period = a.period AND s.wallet = a.wallet
        WHERE a.period = ANY(%s) GROUP BY 1
    """
    adapt = connection.ops.adapt_datetimefield_value
    tz = settings.TIME_ZONE
    params = [tz, TransferKind.ALLOCATION, adapt(span_.start - _ISSUED_AHEAD), tz,
              TransferKind.PURCHASE, TransferKind.REFUND, adapt(span_.start), adapt(span_.stop),
              TransferKind.PURCHASE, list(span_.months)]
    return {period: (int(allocated), int(spent)) for period, allocated, spent in _run(sql, params)}


def participation(trends: list[TrendRow], span_: Span | None = None) -> Participation:
    from members.models import Household

    span_ = span_ or span()
    months = {label: MonthParticipation(label) for label in span_.months}
    for period, (allocated, spent) in _households_who_spent(span_).items():
        months[period].allocated, months[period].spent = allocated, spent
    active = Household.objects.filter(status=Household.Status.ACTIVE).count()
    for month, count in (
        Household.objects.filter(joined_on__gte=span_.first_day, joined_on__lt=span_.end_day).exclude(status__in=[
            Household.Status.APPLICANT, Household.Status.WAITLISTED, Household.Status.DRAWN])
        .annotate(month=TruncMonth("joined_on")).values_list("month").annotate(n=Count("id")).order_by()
    ):
        months[month.strftime("%Y-%m")].arrivals += count
    for month, count in (
        Household.objects.filter(status=Household.Status.EXITED, status_changed_at__gte=span_.start,
                                 status_changed_at__lt=span_.stop)
        .annotate(month=TruncMonth("status_changed_at", tzinfo=timezone.get_current_timezone()))
        .values_list("month").annotate(n=Count("id")).order_by()
    ):
        months[timezone.localtime(month).strftime("%Y-%m")].departures += count
    own = in_span(trends, span_)
    return Participation(active=active, months=list(months.values()),
                         issued=sum(row.issued for row in own), spent=sum(row.spent for row in own))


@dataclass(frozen=True)
class Dashboard:
    span: Span
    position: Position
    trends: list[TrendRow]
    by_shop: list[dict]
    by_vendor_kind: list[dict]
    by_district: list[dict]
    by_bracket: list[dict]
    participation: Participation

    @property
    def spent(self) -> int:
        """Units spent in the span, net of refunds: what every spending table adds up to."""
        return sum(row.spent for row in in_span(self.trends, self.span))


def dashboard(span_: Span | None = None) -> Dashboard:
    span_ = span_ or span()
    trends = monthly_trends(span_)
    spent = spending(span_)
    return Dashboard(
        span=span_,
        position=position(),
        trends=trends,
        by_shop=spent.by_shop,
        by_vendor_kind=spent.by_kind,
        by_district=spent.by_district,
        by_bracket=contributions_by_bracket(span_),
        participation=participation(trends, span_),
    )


# --- CSV tables ---------------------------------------------------------------------------


def _hidden(row: dict, key: str, mark: str = ""):
    return mark if row["suppressed"] else row[key]


def table(name: str, span_: Span | None = None) -> tuple[list[str], list[list]]:
    """(header, rows) of one dashboard table for `span_` (default: the last 12 months),
    amounts in cents (the CSV exports). Units and euros are named in the headers."""
    span_ = span_ or span()
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
                  r.reimbursements_returned] for r in monthly_trends(span_)])
    few = f"<{MIN_CELL}"
    if name == "shops":
        return (["shop", "spent_net_units", "households"],
                [[r["shop"] or "other", _hidden(r, "spent"), _hidden(r, "households", few)]
                 for r in spending(span_).by_shop])
    if name == "vendor_kinds":
        return (["kind", "spent_net_units", "households"],
                [[r["kind"] or "other", _hidden(r, "spent"), _hidden(r, "households", few)]
                 for r in spending(span_).by_kind])
    if name == "districts":
        return (["district", "spent_net_units", "households"],
                [[r["district"] or "other", _hidden(r, "spent"), _hidden(r, "households", few)]
                 for r in spending(span_).by_district])
    if name == "brackets":
        return (["income_bracket", "total_net_euros", "returned_euros", "households", "payments",
                 "average_euros"],
                [[r["bracket"], r["total"], r["returned"], r["households"], r["payments"],
                  r["average"]] for r in contributions_by_bracket(span_)])
    if name == "participation":
        p = participation(monthly_trends(span_), span_)
        rows = [[m.period, m.allocated, "" if m.suppressed else m.spent,
                 "" if m.share is None else round(m.share, 4), m.arrivals, m.departures] for m in p.months]
        rows.append(["active_now", p.active, "", "", "", ""])
        rows.append(["share_of_units_spent", "", "", "" if p.share_spent is None else round(p.share_spent, 4), "", ""])
        return ["period", "households_allocated", "households_who_spent", "share_who_spent", "arrivals",
                "departures"], rows
    raise KeyError(name)


TABLES = ("position", "trends", "shops", "vendor_kinds", "districts", "brackets", "participation")
