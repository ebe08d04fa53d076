"""Issue 16, point 6: the grant register and the books tell the same story, and the
per-grant report counts what was received net of what went back."""

from datetime import date

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from allocations import approvals, grants
from allocations.integrity import check_ledger
from allocations.models import GrantReceipt

from .settlement_fixtures import coordinators, fund_treasury
from .staff import log_in_staff

pytestmark = pytest.mark.django_db


def test_a_reversed_receipt_is_not_received_and_the_register_agrees_with_the_books(client, ledger_is_clean):
    first, second = coordinators()
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 3, 20, 10, 0)), tick=False):
        grant = grants.create_grant(funder_type="region", funder_name="Région", reference="REG-1",
                                    promised_on=date(2026, 1, 5), amount=500_000, period_start=date(2026, 3, 1),
                                    period_end=date(2026, 3, 31))
        grants.record_receipt(grant, amount=200_000, received_on=date(2026, 3, 10), bank_reference="VIR-1")
        twice = grants.record_receipt(grant, amount=200_000, received_on=date(2026, 3, 11), bank_reference="VIR-1b")
        agreement = grants.books_and_register()
        assert (agreement.books, agreement.register, agreement.difference) == (400_000, 400_000, 0)
        # Typed twice under another reference: a coordinator reverses it, under four eyes.
        approvals.approve(approvals.request_reversal(twice.transfer_id, by=first, reason="saisie en double"),
                          by=second)
        report = grants.report(grant)
        assert (report.received, report.outstanding) == (200_000, 300_000)
        assert (report.money_in, report.money_returned) == (200_000, 200_000)
        assert [receipt.reversed for receipt in report.receipts] == [False, True]
        agreement = grants.books_and_register()
        assert (agreement.books, agreement.register, agreement.difference, agreement.unregistered) == (
            200_000, 200_000, 0, 0)
        log_in_staff(client, first)
        page = client.get("/coordination/grants/").content.decode()
        assert 'data-testid="register-difference">0,00' in page.replace("\xa0", " ")
        assert "2 000,00" in page.replace("\u202f", " ").replace("\xa0", " ")  # received net, not 4 000
        printable = client.get(f"/coordination/grants/{grant.pk}/print/").content.decode()
        assert 'data-testid="money-returned"' in printable and "coordination-nav" not in printable
        body = client.get(f"/coordination/grants/{grant.pk}/report.csv").content.decode("utf-8-sig")
        assert "VIR-1b" in body and "2000,00" in body
        # Money the books call a grant with no receipt in the register: the difference is shown.
        fund_treasury(50_000)
        agreement = grants.books_and_register()
        assert (agreement.difference, agreement.unregistered) == (50_000, 1)
        page = client.get("/coordination/grants/").content.decode()
        assert 'class="warning"' in page
    ledger_is_clean()


def _queries(client, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # one-time reads (the fund's settings, the system accounts) cached
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def test_the_grant_and_books_pages_take_as_many_queries_whatever_the_size(client, django_assert_num_queries):
    """The same number of queries with one grant, receipt and deposit as with five: no query per row."""
    first, _second = coordinators()
    log_in_staff(client, first)
    client.get("/coordination/grants/")  # the session's first request records its activity
    grant = grants.create_grant(funder_type="city", funder_name="Ville", reference="G-0",
                                promised_on=date(2026, 1, 5), amount=900_000)
    grants.record_receipt(grant, amount=1_000, received_on=timezone.localdate(), bank_reference="V-0")
    paths = ["/coordination/grants/", f"/coordination/grants/{grant.pk}/", f"/coordination/grants/{grant.pk}/print/",
             "/coordination/books/"]
    small = {path: _queries(client, path) for path in paths}
    for n in range(1, 5):
        other = grants.create_grant(funder_type="city", funder_name="Ville", reference=f"G-{n}",
                                    promised_on=date(2026, 1, 5), amount=900_000)
        grants.record_receipt(other, amount=1_000, received_on=timezone.localdate(), bank_reference=f"V-{n}")
        grants.record_receipt(grant, amount=1_000, received_on=timezone.localdate(), bank_reference=f"V-0-{n}")
    for path in paths:
        with django_assert_num_queries(small[path]):
            assert client.get(path).status_code == 200
    assert small == {"/coordination/grants/": QUERIES_GRANTS, f"/coordination/grants/{grant.pk}/": QUERIES_GRANT,
                     f"/coordination/grants/{grant.pk}/print/": QUERIES_PRINT, "/coordination/books/": QUERIES_BOOKS}


QUERIES_GRANTS, QUERIES_GRANT, QUERIES_PRINT, QUERIES_BOOKS = 14, 13, 7, 24


def test_check_ledger_names_a_grant_receipt_changed_behind_its_back(ledger_is_clean):
    grant = grants.create_grant(funder_type="region", funder_name="Région", reference="REG-2",
                                promised_on=date(2026, 1, 5), amount=500_000, period_start=date(2026, 3, 1),
                                period_end=date(2026, 3, 31))
    receipt = grants.record_receipt(grant, amount=200_000, received_on=date(2026, 3, 10), bank_reference="VIR-9")
    ledger_is_clean()
    with connection.cursor() as cursor:  # the register made to say more than the bank gave
        cursor.execute(f"UPDATE {GrantReceipt._meta.db_table} SET amount = 250000 WHERE id = %s", [receipt.pk])
    with pytest.raises(CommandError):
        call_command("check_ledger")
    report = check_ledger()
    assert [mismatch.label for mismatch in report.objects] == [f"grant receipt #{receipt.pk} (REG-2)"]
