"""The anonymised research export, for the evaluation of the experiment.

One row per household that agreed to research use (`Household.research_consent`), has
joined the fund (active, paused or exited) and was not erased:

- a pseudonymous id: a keyed HMAC-SHA256 of the household's id with
  `settings.RESEARCH_PSEUDONYM_KEY`, stable from one export to the next (researchers can
  follow a household over time) and not reversible without the key;
- brackets, never amounts: income bracket and age bracket (as declared), household size
  band, monthly contribution band, band of the share of its allocations it spent, band of
  months in the fund; and its district.
- No name, contact, reference, card, date or amount.

Every exported row is a quasi-identifier combination (district and the six bands) shared
by at least `reports.MIN_CELL` households, decided by the dashboard's own `suppress()`:
a row whose combination is too rare first loses its district ("other districts", as on
the dashboard); if the combination without district is still rarer than MIN_CELL among
those rows, the row is withheld. The rows come out ordered by their bands (then at
random), so their order tells nothing about enrolment.

Set-based: one query computes bands and group sizes (window counts) and is read through a
server-side cursor.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from allocations.models import Transfer, TransferKind

from . import reports
from .books import _stream

COLUMNS = ["household", "district", "income_bracket", "age_bracket", "household_size", "contribution_band",
           "share_spent_band", "months_in_fund_band"]
OTHER_DISTRICT = "other"
BAND_COLUMNS = "income, age, size, contribution, spent, months"


def pseudonym(household_id: int) -> str:
    key = settings.RESEARCH_PSEUDONYM_KEY.encode()
    return hmac.new(key, f"household:{household_id}".encode(), hashlib.sha256).hexdigest()[:20]


def _sql() -> str:
    from members.models import Household

    household, transfer = Household._meta.db_table, Transfer._meta.db_table
    return f"""
        WITH issued AS (
            SELECT credit_id AS wallet, SUM(amount) AS total FROM {transfer} WHERE kind = %(allocation)s
            GROUP BY credit_id
        ), bought AS (
            SELECT debit_id AS wallet, SUM(amount) AS total FROM {transfer} WHERE kind = %(purchase)s
            GROUP BY debit_id
        ), refunded AS (
            SELECT credit_id AS wallet, SUM(amount) AS total FROM {transfer} WHERE kind = %(refund)s
            GROUP BY credit_id
        ), base AS (
            SELECT h.id,
                   COALESCE(NULLIF(h.district, ''), %(other)s) AS district,
                   COALESCE(NULLIF(h.income_bracket, ''), 'unknown') AS income,
                   COALESCE(NULLIF(h.age_bracket, ''), 'unknown') AS age,
                   CASE WHEN h.adults + h.children = 1 THEN '1' WHEN h.adults + h.children = 2 THEN '2'
                        WHEN h.adults + h.children <= 4 THEN '3-4' ELSE '5+' END AS size,
                   CASE WHEN h.monthly_contribution < 1000 THEN '1-9 EUR'
                        WHEN h.monthly_contribution < 3000 THEN '10-29 EUR'
                        WHEN h.monthly_contribution < 6000 THEN '30-59 EUR' ELSE '60+ EUR' END AS contribution,
                   CASE WHEN COALESCE(i.total, 0) = 0 THEN 'none issued'
                        WHEN 4 * (COALESCE(b.total, 0) - COALESCE(r.total, 0)) < i.total THEN '0-24 %%'
                        WHEN 2 * (COALESCE(b.total, 0) - COALESCE(r.total, 0)) < i.total THEN '25-49 %%'
                        WHEN 4 * (COALESCE(b.total, 0) - COALESCE(r.total, 0)) < 3 * i.total THEN '50-74 %%'
                        ELSE '75-100 %%' END AS spent,
                   (SELECT CASE WHEN m < 6 THEN '0-5' WHEN m < 12 THEN '6-11' WHEN m < 24 THEN '12-23'
                                ELSE '24+' END
                    FROM (SELECT EXTRACT(YEAR FROM a) * 12 + EXTRACT(MONTH FROM a) AS m
                          FROM age(CASE WHEN h.status = %(exited)s AND h.status_changed_at IS NOT NULL
                                        THEN (h.status_changed_at AT TIME ZONE %(tz)s)::date
                                        ELSE %(today)s END, h.joined_on) AS a) AS months_in) AS months
            FROM {household} h
            LEFT JOIN issued i ON i.wallet = h.wallet_id
            LEFT JOIN bought b ON b.wallet = h.wallet_id
            LEFT JOIN refunded r ON r.wallet = h.wallet_id
            WHERE h.research_consent AND h.erased_at IS NULL AND h.status = ANY(%(statuses)s)
        ), counted AS (
            SELECT *, COUNT(*) OVER (PARTITION BY district, {BAND_COLUMNS}) AS full_group FROM base
        )
        SELECT id, district, {BAND_COLUMNS}, full_group,
               COUNT(*) FILTER (WHERE full_group < %(min_cell)s) OVER (PARTITION BY {BAND_COLUMNS}) AS loose_group
        FROM counted
        ORDER BY {BAND_COLUMNS}, district, random()
    """


def _params() -> dict:
    from members.models import Household

    return {
        "allocation": TransferKind.ALLOCATION.value, "purchase": TransferKind.PURCHASE.value,
        "refund": TransferKind.REFUND.value, "exited": Household.Status.EXITED.value, "other": OTHER_DISTRICT,
        "tz": settings.TIME_ZONE, "today": timezone.localdate(), "min_cell": reports.MIN_CELL,
        "statuses": [Household.Status.ACTIVE.value, Household.Status.PAUSED.value, Household.Status.EXITED.value],
    }


@dataclass
class Summary:
    exported: int = 0
    generalised: int = 0  # exported with "other" as district
    withheld: int = 0


def rows(summary: Summary | None = None) -> Iterator[list[str]]:
    """The export's rows (without header), streamed; `summary` counts what happened."""
    summary = summary if summary is not None else Summary()
    for household_id, district, *bands, full_group, loose_group in _stream(_sql(), _params()):
        if not reports.suppress(full_group):
            pass
        elif not reports.suppress(loose_group):
            district = OTHER_DISTRICT
            summary.generalised += 1
        else:
            summary.withheld += 1
            continue
        summary.exported += 1
        yield [pseudonym(household_id), district, *bands]


def summary() -> Summary:
    """What an export would hold, counted from the same stream (nothing kept in memory)."""
    counted = Summary()
    for _row in rows(counted):
        pass
    return counted
