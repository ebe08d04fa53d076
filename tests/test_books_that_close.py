"""Issue 16, point 5: books that close — desk cash (530) apart from the bank (512), cash
deposits moving it, and the year's closing in the audit trail."""

from datetime import date, datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from allocations import approvals, grants
from allocations.selectors import fund_position
from coordination import books
from coordination.models import CashDeposit
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


def test_desk_cash_is_in_530_until_its_deposit_moves_it_to_the_bank(ledger_is_clean):
    volunteer = make_user("benevole", roles.VOLUNTEER)
    first, second = coordinators()
    member = make_member("F-1")
    with at(date(2025, 3, 3)):
        grants.record_receipt(grants.create_grant(funder_type="city", funder_name="Ville", reference="SUB-1",
                                                  promised_on=date(2025, 1, 1), amount=100_000),
                              amount=100_000, received_on=date(2025, 3, 3), bank_reference="V-1")
        session = desk.open_session(Desk.objects.create(code="centre", name="Centre"), by=volunteer)
        cash = desk.take_cash(session, member.household, amount=1_500, by=volunteer, token="t-1")
        # Cash typed twice, corrected under four eyes: the correction leaves 530 too.
        twice = desk.take_cash(session, member.household, amount=700, by=volunteer, token="t-2")
        approvals.approve(contributions.request_correction(twice, by=first, reason="saisie en double"), by=second)
    with at(date(2025, 3, 10)):
        # More than the desks hold, or without a reference: refused, nothing recorded.
        with pytest.raises(books.BooksError):
            books.record_cash_deposit(deposited_on=date(2025, 3, 10), amount=1_501, bank_reference="REM-1", by=first)
        with pytest.raises(books.BooksError):
            books.record_cash_deposit(deposited_on=date(2025, 3, 10), amount=1_000, bank_reference=" ", by=first)
        assert books.cash_at_end_of(date(2025, 3, 10)) == 1_500
        deposit = books.record_cash_deposit(deposited_on=date(2025, 3, 10), amount=1_000, bank_reference="REM-1",
                                            by=first)
        # Typed twice: one deposit.
        assert books.record_cash_deposit(deposited_on=date(2025, 3, 10), amount=1_000, bank_reference="REM-1",
                                         by=first) == deposit
    assert CashDeposit.objects.count() == 1
    rows = fec_rows(2025)
    contribution = [row for row in rows if row[8] == f"T{cash.transfer_id}"]
    assert [(row[0], row[4], row[11], row[12]) for row in contribution] == [
        ("CA", "530000", "15,00", "0,00"), ("CA", "756000", "0,00", "15,00")]
    corrected = [row for row in rows if row[0] == "CA" and "Contre-passation" in row[10]]
    assert [(row[4], row[11], row[12]) for row in corrected] == [("756000", "7,00", "0,00"), ("530000", "0,00", "7,00")]
    moved = [row for row in rows if row[8] == f"D{deposit.pk}"]
    assert [(row[0], row[3], row[4], row[11], row[12]) for row in moved] == [
        ("BQ", "20250310", "512000", "10,00", "0,00"), ("BQ", "20250310", "530000", "0,00", "10,00")]
    assert "REM-1" in moved[0][10]
    # Numbers stay continuous per journal with the deposits among the transfers.
    for journal in ("BQ", "CA"):
        numbers = sorted({row[2] for row in rows if row[0] == journal})
        assert numbers == [f"{journal}2025-{n:06d}" for n in range(1, len(numbers) + 1)]
    totals = books.year_totals(2025)
    assert {number: (debit, credit) for number, _label, debit, credit, _balance in totals.rows()} == \
        books.totals_by_account(2025)
    accounts = {number: balance for number, _label, _debit, _credit, balance in totals.rows()}
    assert accounts["530000"] == 500 and accounts["512000"] == 101_000
    # The bank (512) is what the bank statement shows; 512 + 530 is the ledger's treasury.
    assert books.treasury_at_end_of(date(2025, 3, 9)) == 100_000
    assert books.treasury_at_end_of(date(2025, 3, 10)) == 101_000
    assert books.cash_at_end_of(date(2025, 3, 10)) == 500
    assert books.treasury_at_end_of(date(2025, 3, 10)) + books.cash_at_end_of(date(2025, 3, 10)) == \
        fund_position().treasury
    march = books.bank_reconciliation(2025).months[2]
    assert (march.grants, march.contributions, march.cash_deposits, march.closing) == (100_000, 0, 1_000, 101_000)
    ledger_is_clean()


def test_the_cash_deposit_form_and_the_closing_are_in_the_audit_trail(client):
    from django.apps import apps

    from coordination.audit.models import AuditedCashDeposit, AuditedClosedYear  # noqa: F401

    volunteer = make_user("benevole", roles.VOLUNTEER)
    first, second = coordinators()
    member = make_member("F-1")
    with at(date(2025, 12, 20)):
        session = desk.open_session(Desk.objects.create(code="centre", name="Centre"), by=volunteer)
        desk.take_cash(session, member.household, amount=2_000, by=volunteer, token="t-1")
        desk.take_cash(session, member.household, amount=500, by=volunteer, token="t-2")
    with at(date(2026, 1, 5)):
        log_in_staff(client, first)
        page = client.get("/coordination/books/?year=2025").content.decode()
        assert 'data-testid="cash"' in page and "530" in page
        refused = client.post("/coordination/books/cash-deposits/",
                              {"deposited_on": "2025-12-22", "amount": "abc", "bank_reference": "REM-9"}, follow=True)
        assert refused.status_code == 200 and not CashDeposit.objects.exists()
        client.post("/coordination/books/cash-deposits/",
                    {"deposited_on": "2025-12-22", "amount": "20,00", "bank_reference": "REM-9"})
        assert CashDeposit.objects.get().recorded_by == first
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
        assert closed_fec.decode("iso-8859-15").count("\t530000\t") == 3  # two cash takings, one deposit
    # Cash deposited in December, recorded only after the closing: the year's FEC stays
    # byte for byte; the deposit is booked on the first day of the open year.
    with at(date(2026, 1, 6)):
        late = books.record_cash_deposit(deposited_on=date(2025, 12, 30), amount=500, bank_reference="REM-10",
                                         by=first)
        assert "".join(books.fec_lines(2025)).encode("iso-8859-15") == closed_fec
        [moved] = [entry for entry in books.entries(2026) if entry.piece == f"D{late.pk}"]
        assert moved.day == date(2026, 1, 1)
    deposit_event = apps.get_model("audit", "CashDepositEvent").objects.filter(bank_reference="REM-9").get()
    assert (deposit_event.pgh_label, deposit_event.amount, deposit_event.recorded_by_id) == (
        "books.cash_deposit", 2_000, first.pk)
    closing = apps.get_model("audit", "ClosedYearEvent").objects.get()
    assert (closing.year, closing.closed_by_id, closing.pgh_label) == (2025, first.pk, "books.year_closed")
    assert closing.sha256 == books.closed_years()[2025].sha256


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


def test_check_ledger_finds_deposits_above_the_cash_taken():
    from allocations.integrity import check_ledger

    assert check_ledger().ok
    # Written behind the service's back (the service refuses it): the check sees it.
    CashDeposit.objects.create(deposited_on=date(2025, 3, 10), amount=100, bank_reference="REM-X")
    report = check_ledger()
    assert not report.ok and report.objects[0].label == "cash deposits"
