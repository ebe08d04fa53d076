"""Issue 16, points 5 and 6: a financial year closed under four eyes and in the audit trail;
contributions net of returns on the dashboard. A closing without a race: a transfer dated in
the year is either in the stored FEC or booked on the open year's first day, whatever posted
it and whenever it committed (the books' lock, threads against PostgreSQL)."""

import hashlib
import threading
import time
from datetime import date, datetime

import psycopg
import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection, connections, transaction
from django.utils import timezone

from allocations import approvals, grants
from allocations.models import Approval, Transfer
from allocations.selectors import fund_position
from coordination import books
from members import contributions, desk
from members.models import Desk
from users import roles

from .member_fixtures import make_member
from .settlement_fixtures import coordinators
from .staff import log_in_staff
from .vendor_fixtures import make_user

pytestmark = pytest.mark.django_db


def at(day: date, hour: int = 12):
    return time_machine.travel(timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour)),
                               tick=False)


def fec_rows(year):
    return [line.rstrip("\r\n").split("\t") for line in books.fec_lines(year)][1:]


def test_a_year_is_closed_under_four_eyes_and_in_the_audit_trail(client):
    from django.apps import apps

    from coordination.audit.models import AuditedClosedYear  # noqa: F401

    volunteer = make_user("benevole", roles.VOLUNTEER)
    first, second = coordinators()
    member = make_member("F-1")
    with at(date(2025, 12, 20)):
        session = desk.open_session(Desk.objects.create(code="centre", name="Centre"), by=volunteer)
        desk.take_cash(session, member.household, amount=2_000, by=volunteer, token="t-1")
    with at(date(2026, 1, 5)):
        log_in_staff(client, first)
        client.post("/coordination/books/2025/close/", {"reason": "comptes arrêtés"})
        # Asked, not closed: a second coordinator approves; the one who asked cannot.
        assert 'data-testid="closing-asked"' in client.get("/coordination/books/?year=2025").content.decode()
        assert not books.closed_years()
        with pytest.raises(books.BooksError):
            books.request_year_closing(2025, by=first, reason="encore")
        with pytest.raises(PermissionDenied):
            books.close_year(2025, by=first)  # no approval: no closing
        with pytest.raises(PermissionDenied):
            approvals.approve(books.pending_year_closing(2025), by=first)
        approvals.approve(books.pending_year_closing(2025), by=second)
        assert 'data-testid="closed"' in client.get("/coordination/books/?year=2025").content.decode()
        closed_fec = client.get("/coordination/books/2025/fec.txt").getvalue()
        assert closed_fec.decode("iso-8859-15").count("\t530000\t") == 1  # the cash taken, in the cash account
        # Both separators were frozen from the same pass: the same lines.
        pipe = "".join(books.fec_lines(2025, "|"))
        assert pipe.replace("|", "\t") == closed_fec.decode("iso-8859-15")
    # A grant received on 31 December, recorded after the closing: the year's FEC stays byte
    # for byte; the receipt is booked on the first day of the open year.
    with at(date(2026, 1, 6)):
        grant = grants.create_grant(funder_type="city", funder_name="Ville", reference="SUB-9",
                                    promised_on=date(2025, 1, 1), amount=10_000)
        late = grants.record_receipt(grant, amount=10_000, received_on=date(2025, 12, 31), bank_reference="V-9")
        assert "".join(books.fec_lines(2025)).encode("iso-8859-15") == closed_fec
        [moved] = [entry for entry in books.entries(2026) if entry.piece == f"T{late.transfer_id}"]
        assert moved.day == date(2026, 1, 1)
    closing = apps.get_model("audit", "ClosedYearEvent").objects.get()
    assert (closing.year, closing.closed_by_id, closing.pgh_label) == (2025, first.pk, "books.year_closed")
    assert closing.sha256 == books.closed_years()[2025].sha256
    assert Approval.objects.get(action=books.YEAR_CLOSING).decided_by == second


def test_contributions_by_bracket_are_net_with_returns_and_corrections_apart(client):
    from coordination import reports

    volunteer = make_user("benevole", roles.VOLUNTEER)
    first, second = coordinators()
    member = make_member("F-1")
    session = desk.open_session(Desk.objects.create(code="centre", name="Centre"), by=volunteer)
    desk.take_cash(session, member.household, amount=1_500, by=volunteer, token="t-1")
    twice = desk.take_cash(session, member.household, amount=700, by=volunteer, token="t-2")
    approvals.approve(contributions.request_correction(twice, by=first, reason="saisie en double"), by=second)
    [row] = reports.contributions_by_bracket()
    assert (row["total"], row["returned"], row["payments"], row["average"]) == (1_500, 700, 1, 1_500)
    # The same as the contributions received in the ledger, net.
    assert row["total"] == fund_position().contributions_received
    header, rows = reports.table("brackets")
    assert header[1:3] == ["total_net_euros", "returned_euros"] and rows[0][1:3] == [1_500, 700]
    log_in_staff(client, first)
    assert 'data-testid="bracket-returned">7,00' in client.get("/coordination/").content.decode()



# --- A closing without a race (issue 16): the books' lock, one dating rule ----------------


def _stored_fec(year) -> bytes:
    import gzip

    from coordination.models import ClosedYear

    return gzip.decompress(bytes(ClosedYear.objects.get(year=year).fec_tab))


def _pieces(year) -> dict[str, date]:
    return {entry.piece: entry.day for entry in books.entries(year)}


def _in_thread(target, results, name):
    def run():
        try:
            results[name] = target()
        except BaseException as error:  # noqa: BLE001 - told to the test, which fails on it
            results[name] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_for_a_backend_waiting_on_the_books_lock(timeout=10.0):
    """Polls PostgreSQL from a connection of its own until a backend waits on an advisory lock."""
    with psycopg.connect(dbname=connection.settings_dict["NAME"], autocommit=True) as watcher:
        deadline = time.monotonic() + timeout
        while not watcher.execute(
                "SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
                " AND datname = current_database()").fetchone()[0]:
            assert time.monotonic() < deadline, "no backend waits on the books' lock"
            time.sleep(0.01)


def _a_year_to_close():
    first, second = coordinators()
    grant = grants.create_grant(funder_type="city", funder_name="Ville", reference="SUB-2025",
                                promised_on=date(2025, 1, 10), amount=900_000)
    grants.record_receipt(grant, amount=100_000, received_on=date(2025, 6, 10), bank_reference="V-1")
    books.request_year_closing(2025, by=first, reason="comptes arrêtés")
    return second, grant


@pytest.mark.django_db(transaction=True)
def test_a_transfer_under_way_when_the_closing_starts_is_waited_for_and_in_the_stored_fec():
    with at(date(2026, 1, 5)):
        second, grant = _a_year_to_close()
        posted, may_commit, results = threading.Event(), threading.Event(), {}

        def post_late():
            with transaction.atomic():  # the receipt's id is taken; its commit waits
                receipt = grants.record_receipt(grant, amount=2_500, received_on=date(2025, 12, 31),
                                                bank_reference="V-LATE")
                posted.set()
                assert may_commit.wait(10)
            return receipt.transfer_id

        poster = _in_thread(post_late, results, "late")
        assert posted.wait(10)
        closer = _in_thread(lambda: approvals.approve(books.pending_year_closing(2025), by=second), results, "closing")
        _wait_for_a_backend_waiting_on_the_books_lock()  # the closing, behind the receipt's transaction
        assert "closing" not in results
        may_commit.set()
        poster.join(10), closer.join(20)
        assert not isinstance(results["late"], BaseException), results["late"]
        assert not isinstance(results["closing"], BaseException), results["closing"]
        late = results["late"]
        # In the closed year's FEC, on its own date; not in the open year's books.
        assert f"\tT{late}\t20251231\t" in _stored_fec(2025).decode()
        assert f"T{late}" not in _pieces(2026)
        assert _pieces(2025)[f"T{late}"] == date(2025, 12, 31)
        assert "".join(books.fec_lines(2025)).encode() == _stored_fec(2025)


@pytest.mark.django_db(transaction=True)
def test_a_transfer_posted_while_the_year_is_being_closed_waits_and_is_dated_in_the_open_year(monkeypatch):
    with at(date(2026, 1, 5)):
        second, grant = _a_year_to_close()
        locked, go, results = threading.Event(), threading.Event(), {}
        count = books._entry_count

        def count_under_the_lock(year):  # the closing holds the books' lock here
            locked.set()
            assert go.wait(10)
            return count(year)

        monkeypatch.setattr(books, "_entry_count", count_under_the_lock)
        closer = _in_thread(lambda: approvals.approve(books.pending_year_closing(2025), by=second), results, "closing")
        assert locked.wait(10)
        poster = _in_thread(lambda: grants.record_receipt(grant, amount=2_500, received_on=date(2025, 12, 31),
                                                          bank_reference="V-LATE").transfer_id, results, "late")
        _wait_for_a_backend_waiting_on_the_books_lock()  # the receipt, behind the closing
        assert "late" not in results
        go.set()
        closer.join(20), poster.join(10)
        assert not isinstance(results["closing"], BaseException), results["closing"]
        assert not isinstance(results["late"], BaseException), results["late"]
        late = results["late"]
        closed = books.closed_years()[2025]
        # Posted after the closing: a higher id, not in the closed FEC, booked on the open
        # year's first day; the bank's date is kept on the transfer.
        assert late > closed.last_transfer_id
        assert f"T{late}" not in _stored_fec(2025).decode()
        assert _pieces(2026)[f"T{late}"] == date(2026, 1, 1)
        assert Transfer.objects.get(pk=late).value_date == date(2025, 12, 31)
        assert "".join(books.fec_lines(2025)).encode() == _stored_fec(2025)
        assert hashlib.sha256(_stored_fec(2025)).hexdigest() == closed.sha256


@pytest.mark.django_db(transaction=True)
def test_receipts_racing_a_closing_are_each_in_the_closed_fec_or_on_the_open_years_first_day():
    with at(date(2026, 1, 5)):
        second, grant = _a_year_to_close()
        start, results = threading.Barrier(3), {}

        def post(n):
            start.wait(10)
            return [grants.record_receipt(grant, amount=100 + i, received_on=date(2025, 12, 31),
                                          bank_reference=f"V-{n}-{i}").transfer_id for i in range(8)]

        def close():
            start.wait(10)
            return approvals.approve(books.pending_year_closing(2025), by=second)

        threads = [_in_thread(lambda n=n: post(n), results, n) for n in range(2)]
        threads.append(_in_thread(close, results, "closing"))
        for thread in threads:
            thread.join(30)
        assert not any(isinstance(value, BaseException) for value in results.values()), results
        closed_fec, open_year = _stored_fec(2025).decode(), _pieces(2026)
        last = books.closed_years()[2025].last_transfer_id
        for transfer_id in results[0] + results[1]:
            in_closed = f"\tT{transfer_id}\t" in closed_fec
            assert in_closed == (transfer_id <= last)
            assert in_closed != (f"T{transfer_id}" in open_year)  # one or the other, never both nor neither
            if not in_closed:
                assert open_year[f"T{transfer_id}"] == date(2026, 1, 1)
        assert "".join(books.fec_lines(2025)).encode() == _stored_fec(2025)


def test_a_settlement_paid_on_a_bank_date_in_a_closed_year_is_booked_on_the_open_years_first_day(ledger_is_clean):
    from coordination import bank
    from tests.camt_fixtures import Entry, statement
    from vendors import sepa, settlements
    from vendors.models import Settlement

    from .settlement_fixtures import fund_treasury, pay, run_and_approve, shop

    first, second = coordinators()
    with at(date(2025, 12, 29), hour=10):
        fund_treasury()
        member = make_member("F-1", balance=50_000)
        bakery, grocer = shop("boulangerie"), shop("epicerie")
        pay(member, bakery, 1_250)
    with at(date(2025, 12, 29)):
        by_statement = run_and_approve(first, second)
        sepa.credit_transfer_file(by_statement)
    with at(date(2025, 12, 30), hour=10):
        pay(member, grocer, 3_000)
    with at(date(2025, 12, 30)):
        by_hand = run_and_approve(first, second)
        settlements.mark_file_issued(by_hand)
    with at(date(2026, 1, 5)):
        approvals.approve(books.request_year_closing(2025, by=first, reason="comptes arrêtés"), by=second)
        closed = _stored_fec(2025)
    # Both paid by the bank on 31 December, recorded after the closing: a statement's line,
    # and a date entered by one coordinator and confirmed by another.
    with at(date(2026, 1, 8)):
        bank.import_statement(statement([Entry(1_250, False, date(2025, 12, 31), reference="BQ-1",
                                               payment_info_id=sepa.payment_info_id(by_statement))],
                                        statement_id="STMT-2025-12-31", opening=1_000_000, day=date(2025, 12, 31)))
        approvals.approve(settlements.request_bank_confirmation(by_hand, value_date=date(2025, 12, 31), by=first,
                                                                reason="relevé de la banque"), by=second)
    paid = Settlement.objects.filter(status=Settlement.Status.PAID)
    assert sorted(s.value_date for s in paid) == [date(2025, 12, 31)] * 2  # the bank's date, kept
    open_year = _pieces(2026)
    for settlement in paid:
        assert open_year[f"T{settlement.euros_transfer_id}"] == date(2026, 1, 1)
    assert "".join(books.fec_lines(2025)).encode() == closed
    # The treasury at the end of the closed year is what its FEC said; the payments are in the open year.
    assert books.bank_reconciliation(2026).months[0].reimbursements == 4_250
    ledger_is_clean()


def test_a_movement_booked_in_an_open_year_stays_there_once_that_year_is_closed_too():
    first, second = coordinators()
    with at(date(2025, 6, 10)):
        grant = grants.create_grant(funder_type="city", funder_name="Ville", reference="SUB-2025",
                                    promised_on=date(2025, 1, 10), amount=900_000)
        grants.record_receipt(grant, amount=100_000, received_on=date(2025, 6, 10), bank_reference="V-1")
    with at(date(2026, 1, 5)):
        approvals.approve(books.request_year_closing(2025, by=first, reason="2025"), by=second)
    with at(date(2026, 1, 6)):
        late = grants.record_receipt(grant, amount=2_500, received_on=date(2025, 12, 31), bank_reference="V-2")
    totals_2026 = books.year_totals(2026).accounts
    with at(date(2027, 1, 5)):
        approvals.approve(books.request_year_closing(2026, by=first, reason="2026"), by=second)
    # In 2026's FEC, on its first day, and still there in every live figure: closing 2026
    # does not send the late receipt back to 2025.
    assert f"\tT{late.transfer_id}\t20260101\t" in _stored_fec(2026).decode()
    assert _pieces(2026)[f"T{late.transfer_id}"] == date(2026, 1, 1)
    assert books.year_totals(2026).accounts == totals_2026
    assert books.treasury_at_end_of(date(2025, 12, 31)) == 100_000
