"""Bank statements in (issue 16): camt.053 .001.02 and .001.08 built by the tests and
validated against the official schema, imported once, matched through the owning apps'
services; what is not matched is listed; the closing balance is compared with the treasury."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from allocations import grants, periods
from allocations.models import Account, Transfer, TransferKind
from allocations.selectors import fund_position
from coordination import bank
from coordination.models import BankStatement, BankStatementLine
from members import contributions, direct_debits
from members.models import ContributionPayment
from tests.camt_fixtures import Entry, statement
from tests.settlement_fixtures import coordinators, fund_treasury, make_member, pay, run_and_approve, shop
from tests.staff import log_in_staff
from tests.test_direct_debits import PERIOD, with_mandate
from vendors import sepa
from vendors.models import Settlement, SettlementRun

pytestmark = pytest.mark.django_db
VERSIONS = bank.VERSIONS
QUERIES_LIST, QUERIES_DETAIL = 13, 13


def balance(account_id):
    return Account.objects.get(pk=account_id).balance


def approved_run(*amounts):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=50_000)
    vendors = [shop(f"shop-{n}") for n in range(len(amounts))]
    for vendor, amount in zip(vendors, amounts):
        pay(member, vendor, amount)
    run = run_and_approve(first, second)
    sepa.credit_transfer_file(run)
    return run, vendors, first


@pytest.mark.parametrize("version", VERSIONS)
def test_a_run_booked_as_one_line_is_paid_once_even_when_the_statement_is_imported_twice(version, ledger_is_clean):
    run, vendors, coordinator = approved_run(1_250, 3_000)
    today = timezone.localdate()
    content = statement([Entry(4_250, False, today, reference="BQ-0001", payment_info_id=sepa.payment_info_id(run))],
                        version=version, statement_id="STMT-1", opening=1_000_000)
    treasury = fund_position().treasury
    first = bank.import_statement(content, by=coordinator)
    assert (first.created, first.matched, first.unmatched) == (1, 1, 0)
    run.refresh_from_db()
    assert run.status == SettlementRun.Status.PAID
    assert all(s.status == Settlement.Status.PAID and s.value_date == today for s in run.settlements.all())
    assert fund_position().treasury == treasury - 4_250
    again = bank.import_statement(content, by=coordinator)
    assert (again.created, again.matched) == (0, 0) and again.statements[0].pk == first.statements[0].pk
    assert BankStatement.objects.count() == 1 and BankStatementLine.objects.count() == 1
    assert Transfer.objects.filter(kind=TransferKind.REIMBURSEMENT).count() == 2
    assert fund_position().treasury == treasury - 4_250
    ledger_is_clean()


@pytest.mark.parametrize("version", VERSIONS)
def test_lines_by_end_to_end_id_and_a_returned_transfer_makes_the_shop_owed_again(version, ledger_is_clean):
    run, (bakery, grocer), coordinator = approved_run(1_250, 3_000)
    numbers = {s.vendor_id: s for s in run.settlements.all()}
    today = timezone.localdate()
    paid = statement([
        Entry(1_250, False, today, reference="BQ-1", end_to_end_ids=[sepa.end_to_end_id(numbers[bakery.pk])]),
        Entry(3_000, False, today, reference="BQ-2", end_to_end_ids=[sepa.end_to_end_id(numbers[grocer.pk])]),
    ], version=version, statement_id="STMT-A", opening=1_000_000)
    assert bank.import_statement(paid).matched == 2
    assert balance(grocer.account_id) == 0
    # Days later, the grocer's bank sends the transfer back: closed account.
    returned = statement([
        Entry(3_000, True, today, reference="BQ-3", bank_code=("PMNT", "ICDT", "RRTN"),
              end_to_end_ids=[sepa.end_to_end_id(numbers[grocer.pk])], return_reason="AC04"),
    ], version=version, statement_id="STMT-B", opening=1_000_000 - 4_250)
    result = bank.import_statement(returned)
    assert result.matched == 1
    line = BankStatementLine.objects.get(reference="BQ-3")
    assert line.match == BankStatementLine.Match.SETTLEMENT_RETURN
    settlement = Settlement.objects.get(vendor=grocer)
    assert (settlement.status, settlement.return_reason) == (Settlement.Status.RETURNED, "AC04")
    assert balance(grocer.account_id) == 3_000  # owed again
    assert fund_position().treasury == 1_000_000 - 1_250
    ledger_is_clean()


def test_an_unknown_line_stays_unmatched_and_is_listed(client):
    fund_treasury()
    first, _second = coordinators()
    today = timezone.localdate()
    content = statement([
        Entry(4_200, True, today, reference="BQ-X", remittance="VIREMENT M. DUPONT", bank_code=("PMNT", "RCDT", "ESCT")),
        Entry(350, False, today, reference="BQ-FEE", bank_code=("ACMT", "MDOP", "CHRG")),
        Entry(20_000, True, today, reference="BQ-CASH", bank_code=("PMNT", "CNTR", "CDPT")),
    ], statement_id="STMT-U", opening=1_000_000)
    result = bank.import_statement(content, by=first)
    # The fee, coded as one by the bank, is matched (issue 16): the other two wait for a person.
    assert (result.matched, result.unmatched) == (1, 2)
    hints = dict(BankStatementLine.objects.values_list("reference", "hint"))
    assert hints == {"BQ-X": "", "BQ-FEE": "", "BQ-CASH": "cash_deposit"}
    assert BankStatementLine.objects.get(reference="BQ-FEE").match == BankStatementLine.Match.BANK_FEE
    assert fund_position().treasury == 1_000_000 - 350  # only the fee moved
    log_in_staff(client, first)
    page = client.get("/coordination/bank/").content.decode()
    assert "VIREMENT M. DUPONT" in page and 'data-testid="unmatched"' in page
    detail = client.get(f"/coordination/bank/{result.statements[0].pk}/").content.decode()
    assert "BQ-X" in detail
    unknown = BankStatementLine.objects.get(reference="BQ-X")
    client.post(f"/coordination/bank/lines/{unknown.pk}/handled/", {"note": ""})
    unknown.refresh_from_db()
    assert unknown.match == BankStatementLine.Match.UNMATCHED  # say what was done
    client.post(f"/coordination/bank/lines/{unknown.pk}/handled/", {"note": "remboursement d'un prêt, voir le bureau"})
    unknown.refresh_from_db()
    assert (unknown.match, unknown.handled_by) == (BankStatementLine.Match.BY_HAND, first)
    assert "BQ-X" not in client.get("/coordination/bank/").content.decode()


def test_a_closing_balance_that_disagrees_with_the_treasury_is_shown(client):
    fund_treasury(500_000)
    first, _second = coordinators()
    content = statement([], statement_id="STMT-C", opening=500_000, closing=499_000)
    row = bank.import_statement(content, by=first).statements[0]
    assert (row.closing_balance, row.treasury_at_import, row.difference) == (499_000, 500_000, -1_000)
    log_in_staff(client, first)
    page = client.get(f"/coordination/bank/{row.pk}/").content.decode()
    assert 'data-testid="difference"' in page and "-10,00" in page


def test_a_grant_receipt_is_matched_by_its_reference_once(ledger_is_clean):
    grant = grants.create_grant(funder_type="city", funder_name="Ville de Montpellier", reference="SUB-2026-07",
                                promised_on=date(2026, 1, 10), amount=1_000_000)
    today = timezone.localdate()
    content = statement([Entry(250_000, True, today, reference="BQ-G1", remittance="SUBVENTION SUB-2026-07 T1",
                               bank_code=("PMNT", "RCDT", "ESCT"))], statement_id="STMT-G")
    assert bank.import_statement(content).matched == 1
    receipt = grant.receipts.get()
    assert (receipt.amount, receipt.bank_reference, receipt.received_on) == (250_000, "BQ-G1", today)
    assert Transfer.objects.get(pk=receipt.transfer_id).value_date == today
    # The same line in another (monthly) statement: found by its bank reference, moved once.
    monthly = statement([Entry(250_000, True, today, reference="BQ-G1", remittance="SUBVENTION SUB-2026-07 T1",
                               bank_code=("PMNT", "RCDT", "ESCT"))], statement_id="STMT-G-MONTH")
    bank.import_statement(monthly)
    assert grant.receipts.count() == 1 and fund_position().grants_received == 250_000
    ledger_is_clean()


def test_a_direct_debit_collection_and_its_return_six_weeks_later(ledger_is_clean):
    ana = with_mandate("Ana", amount=1500)
    collection = direct_debits.prepare_collection(PERIOD, collection_date=timezone.localdate() - timedelta(days=50))
    day = collection.collection_date
    debit = collection.debits.get()
    credited = statement([Entry(1_500, True, day, reference="BQ-DD", bank_code=("PMNT", "RDDT", "ESDD"),
                                message_id=collection.message_id)], statement_id="STMT-DD", day=day)
    assert bank.import_statement(credited).matched == 1
    assert ContributionPayment.objects.filter(household=ana, rejected_at__isnull=True).count() == 1
    treasury = fund_position().treasury
    later = day + timedelta(weeks=6)
    returned = statement([Entry(1_500, False, later, reference="BQ-DDR", bank_code=("PMNT", "RDDT", "UPDD"),
                                end_to_end_ids=[debit.end_to_end_id], return_reason="MD06")],
                         statement_id="STMT-DDR", day=later)
    assert bank.import_statement(returned).matched == 1
    payment = ContributionPayment.objects.get(household=ana)
    assert payment.rejected_at is not None and payment.rejection_reason == "MD06"
    assert fund_position().treasury == treasury - 1_500
    assert contributions.arrears(ana, periods.current()).unpaid_periods == [PERIOD]
    ledger_is_clean()


def test_a_statement_that_is_not_valid_or_not_the_funds_changes_nothing():
    with pytest.raises(bank.StatementError):
        bank.import_statement(b"<Document>not a statement</Document>")
    broken = statement([], statement_id="STMT-Z").replace(b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>YES</CdtDbtInd>")
    with pytest.raises(bank.StatementError) as error:
        bank.import_statement(broken)
    assert "camt.053.001.02" in str(error.value)
    with pytest.raises(bank.StatementError):
        bank.import_statement(statement([], statement_id="STMT-O", iban="FR1420041010050500013M02606"))
    # Entities (a billion laughs) are refused before anything is expanded.
    laughs = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
              b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>&b;</BkToCstmrStmt>'
              b"</Document>")
    with pytest.raises(bank.StatementError):
        bank.import_statement(laughs)
    assert not BankStatement.objects.exists()


def test_the_import_page_takes_a_file_and_refuses_a_bad_one_clearly(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fund_treasury()
    first, _second = coordinators()
    log_in_staff(client, first)
    bad = client.post("/coordination/bank/", {"statement": SimpleUploadedFile("releve.xml", b"<x/>")}, follow=True)
    assert bad.status_code == 200 and not BankStatement.objects.exists()
    content = statement([Entry(100, True, timezone.localdate(), reference="BQ-P")], statement_id="STMT-P",
                        opening=1_000_000)
    good = client.post("/coordination/bank/", {"statement": SimpleUploadedFile("releve.xml", content)})
    assert good.status_code == 302 and BankStatement.objects.count() == 1


def test_entries_carry_the_banks_value_date_and_the_fec_uses_it(ledger_is_clean):
    import time_machine

    from coordination import books

    with time_machine.travel(timezone.make_aware(timezone.datetime(2025, 12, 29, 10, 0))):
        run, _vendors, _coordinator = approved_run(1_250)
    # The statement of 31 December arrives on 3 January: the payment belongs to 2025.
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 1, 3, 9, 0)), tick=False):
        content = statement([Entry(1_250, False, date(2025, 12, 31), reference="BQ-Y",
                                   payment_info_id=sepa.payment_info_id(run))],
                            statement_id="STMT-2025-12-31", opening=1_000_000, day=date(2025, 12, 31))
        bank.import_statement(content)
    transfer = Transfer.objects.get(kind=TransferKind.REIMBURSEMENT)
    assert timezone.localdate(transfer.created_at) == date(2026, 1, 3)  # created when it was recorded
    assert transfer.value_date == date(2025, 12, 31)  # dated at the bank
    fec_2025 = "".join(books.fec_lines(2025))
    fec_2026 = "".join(books.fec_lines(2026))
    assert f"T{transfer.pk}" in fec_2025 and "20251231" in fec_2025
    assert f"T{transfer.pk}" not in fec_2026
    assert books.treasury_at_end_of(date(2025, 12, 31)) == 1_000_000 - 1_250
    ledger_is_clean()


def test_a_closed_years_fec_is_byte_identical_after_a_later_correction(client, ledger_is_clean):
    import time_machine

    from allocations import approvals
    from coordination import books

    first, second = coordinators()
    with time_machine.travel(timezone.make_aware(timezone.datetime(2025, 6, 10, 10, 0))):
        grant = grants.create_grant(funder_type="city", funder_name="Ville", reference="SUB-2025",
                                    promised_on=date(2025, 1, 10), amount=500_000)
        receipt = grants.record_receipt(grant, amount=300_000, received_on=date(2025, 6, 10), bank_reference="V-1")
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 1, 15, 10, 0))):
        with pytest.raises(books.BooksError):
            books.close_year(2026)  # not ended
        log_in_staff(client, first)
        assert client.post("/coordination/books/2025/close/", {"reason": "comptes arrêtés"}).status_code == 302
        approvals.approve(books.pending_year_closing(2025), by=second)  # four eyes
        with pytest.raises(books.BooksError):
            books.close_year(2025)  # twice
        closed_tab = client.get("/coordination/books/2025/fec.txt").getvalue()
        closed_pipe = b"".join(books_line.encode() for books_line in books.fec_lines(2025, "|"))
        # A correction after the closing, of a movement of 2025: a grant typed twice, reversed;
        # and a grant received on 31 December entered only now.
        approvals.approve(approvals.request_reversal(receipt.transfer_id, by=first, reason="saisie en double"),
                          by=second)
        late = grants.record_receipt(grant, amount=50_000, received_on=date(2025, 12, 31), bank_reference="V-2")
        assert client.get("/coordination/books/2025/fec.txt").getvalue() == closed_tab
        assert b"".join(line.encode() for line in books.fec_lines(2025, "|")) == closed_pipe
        fec_2026 = "".join(books.fec_lines(2026))
        # Both are in the open year, on its first day.
        assert f"T{late.transfer_id}" in fec_2026 and "Contre-passation" in fec_2026
        assert fec_2026.count("\t20260101\t") >= 4
        assert 'data-testid="closed"' in client.get("/coordination/books/?year=2025").content.decode()
    ledger_is_clean()


def test_the_bank_pages_take_a_fixed_number_of_queries(client, django_assert_num_queries):
    fund_treasury()
    first, _second = coordinators()
    today = timezone.localdate()
    for n in (1, 2):
        bank.import_statement(statement(
            [Entry(100 * k, True, today, reference=f"BQ-{n}-{k}", remittance=f"ligne {k}") for k in range(1, 6)],
            statement_id=f"STMT-Q{n}", opening=1_000_000))
    log_in_staff(client, first)
    client.get("/coordination/bank/")  # the session's first request records its activity
    row = BankStatement.objects.first()
    with django_assert_num_queries(QUERIES_LIST):
        assert client.get("/coordination/bank/").status_code == 200
    with django_assert_num_queries(QUERIES_DETAIL):
        assert client.get(f"/coordination/bank/{row.pk}/").status_code == 200


def test_cash_is_booked_in_530_apart_from_the_bank_until_its_deposit_is_on_the_statement(ledger_is_clean):
    import uuid

    from coordination import books
    from members import desk
    from members.models import Desk
    from tests.test_households import active_household, user_with
    from users import roles

    volunteer = user_with(roles.VOLUNTEER)
    session = desk.open_session(Desk.objects.create(code="d1", name="Desk 1"), by=volunteer)
    for amount in (1_500, 700):
        desk.take_cash(session, active_household(first_name=f"P{amount}"), amount=amount, by=volunteer,
                       token=uuid.uuid4().hex)
    position = fund_position()
    assert (position.cash, position.treasury) == (2_200, 0)
    totals = books.year_totals(books.current_year())
    assert balance_of(totals, "530000") == 2_200 and balance_of(totals, "512000") == 0
    assert any(entry.journal == "CA" for entry in books.entries(books.current_year()))
    today = timezone.localdate()
    content = statement([Entry(2_000, True, today, reference="BQ-ESP", bank_code=("PMNT", "CNTR", "CDPT"))],
                        statement_id="STMT-CASH")
    assert bank.import_statement(content).matched == 1
    bank.import_statement(statement([Entry(2_000, True, today, reference="BQ-ESP", bank_code=("PMNT", "CNTR", "CDPT"))],
                                    statement_id="STMT-CASH-MONTH"))  # the same deposit, again: moved once
    position = fund_position()
    assert (position.cash, position.treasury) == (200, 2_000)
    totals = books.year_totals(books.current_year())
    assert balance_of(totals, "530000") == 200 and balance_of(totals, "512000") == 2_000
    assert books.totals_by_account(books.current_year())["530000"] == (2_200, 2_000)
    ledger_is_clean()


def balance_of(totals, number):
    _label, debit, credit = totals.accounts.get(number, ["", 0, 0])
    return debit - credit
