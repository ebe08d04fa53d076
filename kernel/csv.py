"""The one CSV writer of every export: semicolons, a BOM, and no formula smuggled in.

Semicolons and a BOM because the people who open these files open them in French
spreadsheets, which split on semicolons and read UTF-8 only when told by a BOM.

A cell that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a
tab or a carriage return) is prefixed with an apostrophe, as OWASP advises against CSV
injection: a shop registered as `=HYPERLINK("http://evil", "x")` must reach the
coordinator's spreadsheet as text. A plain number ("-12,50") is a number, not a formula,
and is left alone.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence

from django.http import HttpResponse, StreamingHttpResponse

DELIMITER = ";"
BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def neutralise(value):
    """The cell as a spreadsheet may safely read it."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _safe(row: Iterable) -> list:
    return [neutralise(value) for value in row]


class _Lines:
    """A csv.writer whose every row comes back as text, for streaming."""

    def __init__(self):
        self._out = io.StringIO()
        self._writer = csv.writer(self._out, delimiter=DELIMITER, lineterminator="\r\n")

    def line(self, row: Iterable) -> str:
        self._writer.writerow(_safe(row))
        text = self._out.getvalue()
        self._out.seek(0)
        self._out.truncate()
        return text


def lines(rows: Iterable[Sequence]) -> Iterator[str]:
    """The rows as CSV text, line by line, the BOM in front of the first."""
    writer = _Lines()
    yield BOM
    for row in rows:
        yield writer.line(row)


def text(rows: Iterable[Sequence]) -> str:
    """The rows as one CSV text, BOM included."""
    return "".join(lines(rows))


def _attach(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def response(rows: Iterable[Sequence], filename: str) -> HttpResponse:
    """A download of a table small enough to build in memory."""
    return _attach(HttpResponse(text(rows), content_type=CONTENT_TYPE), filename)


def streaming_response(rows: Iterable[Sequence], filename: str) -> StreamingHttpResponse:
    """A download written as its rows are read: for exports as long as the fund's history."""
    return _attach(StreamingHttpResponse(lines(rows), content_type=CONTENT_TYPE), filename)
