"""The fund's name and the name of its unit, for the layers below `allocations` (the
money formatter, the staff's mails and second factor): `allocations` registers the reader
of its settings at start-up (AllocationsConfig.ready), so the kernel imports no app.
Before that (a script that does not set Django up fully), the environment's values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from django.conf import settings


class Identity(Protocol):
    name: str
    unit_label: str


_reader: Callable[[], Identity] | None = None


def register(reader: Callable[[], Identity]) -> None:
    global _reader
    _reader = reader


def name() -> str:
    return _reader().name if _reader else settings.FUND_NAME


def unit_label() -> str:
    return _reader().unit_label if _reader else settings.FUND_UNIT_LABEL
