"""One CSV writer for every export: semicolons, a BOM, no formula let through."""

import csv
import io

import pytest

from kernel import csv as kernel_csv
from tests.settlement_fixtures import coordinators, fund_treasury, make_member, pay, run_and_pay, shop
from tests.vendor_fixtures import make_staff

EVIL = '=HYPERLINK("x")'


def rows_of(text: str) -> list[list[str]]:
    assert text.startswith(kernel_csv.BOM)
    return list(csv.reader(io.StringIO(text.removeprefix(kernel_csv.BOM)), delimiter=";"))


@pytest.mark.parametrize("cell", ["=1+1", "+33 6 12", "-2+3", "@SUM(A1)", "\tx", "\rx", EVIL])
def test_a_cell_a_spreadsheet_would_run_is_quoted(cell):
    assert rows_of(kernel_csv.text([[cell, "ok"]])) == [["'" + cell, "ok"]]


@pytest.mark.parametrize("cell", ["-12,50", "+3", "12.5", "Épicerie = bio", "a-b", ""])
def test_plain_values_and_numbers_are_left_alone(cell):
    assert rows_of(kernel_csv.text([[cell]])) == [[cell]]


def test_numbers_stay_numbers():
    assert kernel_csv.text([[-5, 3]]) == "\ufeff-5;3\r\n"


@pytest.mark.django_db
def test_a_shop_named_like_a_formula_reaches_its_statement_as_text(client, ledger_is_clean):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=20_000)
    evil = shop("evil", name=EVIL)
    pay(member, evil, 1_000, reference="@cmd")
    settlement = run_and_pay(first, second).settlements.get(vendor=evil)
    client.force_login(make_staff(evil))

    response = client.get(f"/vendor/statements/{settlement.number}/csv/")

    assert response["Content-Type"] == kernel_csv.CONTENT_TYPE
    rows = rows_of(response.content.decode())
    assert ["Commerce", "'" + EVIL] in rows
    assert all(not cell.startswith(("=", "@")) for row in rows for cell in row)
    assert any("'@cmd" in row for row in rows)
    ledger_is_clean()


@pytest.mark.django_db
def test_a_shop_named_like_a_formula_reaches_the_books_as_text(client, ledger_is_clean):
    from django.utils import timezone

    from tests.staff import log_in_staff
    from tests.vendor_fixtures import make_coordinator

    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=20_000)
    evil = shop("evil", name=EVIL)
    pay(member, evil, 1_000)
    run_and_pay(first, second)
    log_in_staff(client, make_coordinator("reader"))

    response = client.get(f"/coordination/books/{timezone.localdate().year}/entries.csv")

    rows = rows_of(b"".join(response.streaming_content).decode())
    cells = [cell for row in rows for cell in row]
    assert "'" + EVIL in cells or any(cell.startswith("'" + EVIL) for cell in cells)
    assert not any(cell.startswith("=") for cell in cells)
