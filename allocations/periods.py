"""Periods are calendar months, written "YYYY-MM", in the fund's time zone."""

from __future__ import annotations

import calendar
import re
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class InvalidPeriod(ValueError):
    pass


def parse(period: str) -> date:
    """The first day of `period`."""
    match = _PERIOD.match(period or "")
    if not match:
        raise InvalidPeriod(_("A period is written YYYY-MM, e.g. 2026-12."))
    return date(int(match[1]), int(match[2]), 1)


def of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def current() -> str:
    """The period in force now, in the fund's time zone (Europe/Paris by default)."""
    return of(timezone.localdate())


def last_day(period: str) -> date:
    start = parse(period)
    return start.replace(day=calendar.monthrange(start.year, start.month)[1])


def days_in(period: str) -> int:
    return last_day(period).day


def shift(period: str, months: int) -> str:
    start = parse(period)
    index = start.year * 12 + start.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def between(first: str, last: str) -> list[str]:
    """Every period from `first` to `last`, both included, in order."""
    periods, period = [], first
    while period <= last:
        periods.append(period)
        period = shift(period, 1)
    return periods
