"""Issue 16, point 2: the lines a statement leaves unmatched, matched by a person among the
candidates the fund expects (ranked by reference, amount, date), through the automatic
matcher's own services; bank fees booked to 627; direct-debit returns refused when they
come later than the SEPA rulebook allows. Statements built by tests.camt_fixtures,
validated against the official schema. Time is frozen: dates and windows are the subject."""

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connections

from allocations import approvals, grants, ledger
from allocations.models import AccountKind, Approval, Transfer, TransferKind
from allocations.selectors import fund_position
from coordination import bank, books, reports
from coordination.models import BankStatementLine
from members import direct_debits
from members.models import ContributionPayment, Household
from tests.camt_fixtures import Entry, statement
from tests.settlement_fixtures import coordinators, fund_treasury, make_member, pay, run_and_approve, shop
from tests.staff import log_in_staff
from tests.test_households import active_household
from vendors import sepa
from vendors.models import Settlement, SettlementRun

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 11, 20)
M = BankStatementLine.Match


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=PARIS), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def fund_bank(settings):
    settings.FUND_BANK_IBAN = "FR7630006000011234567890189"
    settings.FUND_BANK_BIC = "AGRIFRPPXXX"
    settings.FUND_SEPA_CREDITOR_ID = "FR12ZZZ123456"


def line(reference):
    return BankStatementLine.objects.get(reference=reference)


def balance(totals, number):
    _label, debit, credit = totals.accounts.get(number, ["", 0, 0])
    return debit - credit


def tokens(row):
    return [candidate.token for candidate in bank.candidates(row)]


# --- Bank fees -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", bank.VERSIONS)
def test_a_fee_coded_by_the_bank_is_booked_to_627_at_its_value_date_once(version, client, ledger_is_clean):
    # A grant received at the start of the month: the treasury holds it before the fees.
    ledger.transfer(debit=ledger.system_account(AccountKind.GRANTS), credit=ledger.system_account(AccountKind.TREASURY),
                    amount=100_000, kind=TransferKind.GRANT, value_date=date(2026, 11, 2))
    first, _second = coordinators()
    day = TODAY - timedelta(days=3)
    content = statement([
        Entry(350, False, day, reference="BQ-FEE-1", bank_code=("ACMT", "MDOP", "CHRG")),
        Entry(120, False, day, reference="BQ-FEE-2", bank_code=None, proprietary_code="FRAIS"),
    ], version=version, statement_id="STMT-FEES", opening=100_000, day=day)
    result = bank.import_statement(content, by=first)
    assert (result.matched, result.unmatched) == (2, 0)
    assert {line("BQ-FEE-1").match, line("BQ-FEE-2").match} == {M.BANK_FEE}
    fees = Transfer.objects.filter(kind=TransferKind.BANK_FEE)
    assert sorted(fees.values_list("amount", flat=True)) == [120, 350]
    assert set(fees.values_list("value_date", flat=True)) == {day}
    # The same lines in a monthly statement, and the file imported again: nothing moves twice.
    bank.import_statement(content, by=first)
    monthly = statement([Entry(350, False, day, reference="BQ-FEE-1", bank_code=("ACMT", "MDOP", "CHRG"))],
                        version=version, statement_id="STMT-MONTH", opening=100_000, day=day)
    bank.import_statement(monthly, by=first)
    assert fees.count() == 2
    # The ledger, the books, the dashboard and the bank agree.
    position = fund_position()
    assert (position.treasury, position.bank_fees) == (100_000 - 470, 470)
    assert position.available_reserve == position.treasury + position.cash - position.units_in_circulation
    totals = books.year_totals(2026)
    assert balance(totals, "627000") == 470 and totals.accounts["627000"][0] == "Services bancaires et assimilés"
    assert balance(totals, "512000") == position.treasury == reports.position().fund.treasury
    assert books.treasury_at_end_of(day) == position.treasury == result.statements[0].closing_balance
    assert result.statements[0].difference == 0
    fec = "".join(books.fec_lines(2026))
    assert "627000\tServices bancaires et assimilés" in fec and "Frais bancaires" in fec
    assert books.totals_by_account(2026)["627000"] == (470, 0)
    ledger_is_clean()


def test_a_fee_the_bank_did_not_code_is_matched_by_a_person(client, ledger_is_clean):
    ledger.transfer(debit=ledger.system_account(AccountKind.GRANTS), credit=ledger.system_account(AccountKind.TREASURY),
                    amount=100_000, kind=TransferKind.GRANT, value_date=date(2026, 11, 2))
    first, _second = coordinators()
    day = TODAY - timedelta(days=2)
    imported = bank.import_statement(statement([Entry(990, False, day, reference="BQ-TENUE", remittance="TENUE DE COMPTE",
                                                      bank_code=("PMNT", "MCOP", "OTHR"))], statement_id="STMT-T", day=day,
                                               opening=100_000)).statements[0]
    assert imported.difference == -990  # the bank took it, the books do not know yet
    row = line("BQ-TENUE")
    assert row.match == M.UNMATCHED and "bank_fee" in tokens(row)
    log_in_staff(client, first)
    page = client.get(f"/coordination/bank/lines/{row.pk}/match/")
    assert page.status_code == 200 and 'value="bank_fee"' in page.content.decode()
    response = client.post(f"/coordination/bank/lines/{row.pk}/match/", {"candidate": "bank_fee"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.match, row.handled_by) == (M.BANK_FEE, first)
    fee = Transfer.objects.get(kind=TransferKind.BANK_FEE)
    assert (fee.amount, fee.value_date) == (990, day)
    imported.refresh_from_db()
    assert imported.difference == 0  # the statement's page now shows the bank and the books agree
    # Picked again (a second tab, a colleague): refused, clearly, nothing moves.
    again = client.post(f"/coordination/bank/lines/{row.pk}/match/", {"candidate": "bank_fee"})
    assert again.status_code == 400 and "déjà" in again.content.decode()
    assert Transfer.objects.filter(kind=TransferKind.BANK_FEE).count() == 1
    assert fund_position().treasury == 100_000 - 990
    ledger_is_clean()


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_picking_the_same_line_at_once_one_wins_the_other_is_told():
    fund_treasury(100_000)
    first, second = coordinators()
    day = TODAY - timedelta(days=1)
    for round_ in range(3):
        reference = f"BQ-RACE-{round_}"
        bank.import_statement(statement([Entry(500, False, day, reference=reference, bank_code=("PMNT", "MCOP", "OTHR"))],
                                        statement_id=f"STMT-RACE-{round_}", day=day, opening=100_000))
        row, start, outcomes = line(reference), threading.Barrier(2), {}

        def by(user, row=row, start=start, outcomes=outcomes):
            try:
                start.wait()
                bank.pick(row.pk, "bank_fee", by=user)
                outcomes[user.username] = "matched"
            except bank.StatementError as refused:
                outcomes[user.username] = str(refused)
            finally:
                connections.close_all()

        workers = [threading.Thread(target=by, args=(user,)) for user in (first, second)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert sorted(outcomes.values())[1] == "matched", outcomes
        assert "déjà été rapprochée" in sorted(outcomes.values())[0], outcomes
        assert Transfer.objects.filter(kind=TransferKind.BANK_FEE, memo__endswith=reference).count() == 1
    assert fund_position().treasury == 100_000 - 3 * 500


# --- Settlements: candidates ranked, and four eyes ------------------------------------------


def approved_run(frozen, *amounts):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=50_000)
    for n, amount in enumerate(amounts):
        pay(member, shop(f"shop-{n}"), amount)
    frozen.shift(timedelta(minutes=1))  # the run's cut-off after the purchases
    run = run_and_approve(first, second)
    sepa.credit_transfer_file(run)
    return run, first, second


def test_candidates_are_ranked_by_reference_then_amount_then_date(frozen, ledger_is_clean):
    run, first, _second = approved_run(frozen, 3_000, 3_000, 1_250)
    numbers = list(run.settlements.filter(amount=3_000).order_by("number").values_list("number", flat=True))
    bank.import_statement(statement([
        Entry(3_000, False, TODAY, reference="BQ-S", remittance=f"VIR {numbers[1]}"),
        Entry(7_250, False, TODAY, reference="BQ-RUN"),
    ], statement_id="STMT-R", opening=1_000_000))
    by_reference = bank.candidates(line("BQ-S"))
    second = Settlement.objects.get(number=numbers[1])
    assert [c.token for c in by_reference] == [f"settlement:{second.pk}",
                                                f"settlement:{Settlement.objects.get(number=numbers[0]).pk}",
                                                "bank_fee"]
    assert all(c.four_eyes for c in by_reference[:2])
    # The whole file (7 250 €): the run; a single settlement of another amount is no candidate.
    assert tokens(line("BQ-RUN")) == [f"run:{run.pk}", "bank_fee"]
    # A settlement of another amount, posted all the same: refused, nothing asked or moved.
    with pytest.raises(bank.StatementError):
        bank.pick(line("BQ-RUN").pk, f"settlement:{second.pk}", by=first)
    assert not Approval.objects.filter(action=bank.BANK_MATCH).exists() and line("BQ-RUN").match == M.UNMATCHED
    ledger_is_clean()


def test_a_person_matching_a_settlement_asks_a_second_coordinator(frozen, client, ledger_is_clean):
    run, first, second = approved_run(frozen, 3_000)
    settlement = run.settlements.get()
    bank.import_statement(statement([Entry(3_000, False, TODAY, reference="BQ-PAID", remittance="VIREMENT SEPA")],
                                    statement_id="STMT-P", opening=1_000_000))
    row = line("BQ-PAID")
    treasury = fund_position().treasury
    picked = bank.pick(row.pk, f"settlement:{settlement.pk}", by=first)
    assert picked.approval is not None
    row.refresh_from_db()
    settlement.refresh_from_db()
    assert row.match == M.UNMATCHED and settlement.status == Settlement.Status.COMMITTED  # nothing yet
    assert fund_position().treasury == treasury
    with pytest.raises(bank.StatementError):  # another pick of the same line meanwhile
        bank.pick(row.pk, "bank_fee", by=second)
    log_in_staff(client, first)
    assert 'data-testid="pending"' in client.get(f"/coordination/bank/lines/{row.pk}/match/").content.decode()
    with pytest.raises(PermissionDenied):  # not the one who asked
        approvals.approve(picked.approval, by=first)
    approvals.approve(picked.approval, by=second)
    row.refresh_from_db()
    settlement.refresh_from_db()
    assert (row.match, row.handled_by) == (M.SETTLEMENT, first)
    assert (settlement.status, settlement.value_date, settlement.bank_reference) == (
        Settlement.Status.PAID, TODAY, "BQ-PAID")
    assert SettlementRun.objects.get(pk=run.pk).status == SettlementRun.Status.PAID
    assert fund_position().treasury == treasury - 3_000
    # The statement imported again, or the bank's run line in a later statement: paid once.
    bank.import_statement(statement([Entry(3_000, False, TODAY, reference="BQ-PAID",
                                           payment_info_id=sepa.payment_info_id(run))],
                                    statement_id="STMT-P2", opening=1_000_000))
    assert Transfer.objects.filter(kind=TransferKind.REIMBURSEMENT).count() == 1
    ledger_is_clean()


# --- Bad input: a French error, 400, nothing changed -----------------------------------------


def test_bad_picks_are_refused_with_a_400_and_change_nothing(client, ledger_is_clean):
    fund_treasury(100_000)
    first, second = coordinators()
    grant = grants.create_grant(funder_type="city", funder_name="Ville", reference="SUB-9",
                                promised_on=date(2026, 11, 1), amount=500_000)
    bank.import_statement(statement([
        Entry(40_000, True, TODAY, reference="BQ-IN", remittance="VIREMENT"),
        Entry(700, False, TODAY, reference="BQ-OUT", bank_code=("PMNT", "ICDT", "ESCT")),
    ], statement_id="STMT-BAD", opening=100_000))
    money_in, money_out = line("BQ-IN"), line("BQ-OUT")
    assert tokens(money_in) == [f"grant:{grant.pk}"]
    log_in_staff(client, first)
    url = f"/coordination/bank/lines/{money_in.pk}/match/"
    treasury, transfers = fund_position().treasury, Transfer.objects.count()
    for posted, words in [
        ({}, "Choisissez"),  # nothing chosen
        ({"candidate": "n'importe quoi"}, "Choisissez"),  # not a candidate's form
        ({"candidate": "grant:999999"}, "attend"),  # unknown id
        ({"candidate": "bank_fee"}, "attend"),  # wrong kind: a fee is money out
        ({"candidate": "cash_deposit"}, "attend"),  # no cash at the desks: not expected
    ]:
        response = client.post(url, posted)
        assert response.status_code == 400, posted
        assert words in response.content.decode() and 'data-testid="error-summary"' in response.content.decode()
    # A direct-debit return needs the bank's reason code.
    assert client.post(f"/coordination/bank/lines/{money_out.pk}/match/",
                       {"candidate": "bank_fee", "reason": "??"}).status_code == 302  # ignored for a fee
    assert client.post("/coordination/bank/lines/999999/match/", {"candidate": "bank_fee"}).status_code == 400
    assert client.get("/coordination/bank/lines/999999/match/").status_code == 404
    assert fund_position().treasury == treasury - 700 and Transfer.objects.count() == transfers + 1
    money_in.refresh_from_db()
    assert money_in.match == M.UNMATCHED
    # A line already matched by a colleague (the lock makes one of two wins; the other is told).
    assert bank.pick(money_in.pk, f"grant:{grant.pk}", by=second).line.match == M.GRANT
    late = client.post(url, {"candidate": f"grant:{grant.pk}"})
    assert late.status_code == 400 and "déjà" in late.content.decode()
    receipt = grant.receipts.get()
    assert (receipt.amount, receipt.received_on, receipt.bank_reference) == (40_000, TODAY, "BQ-IN")
    ledger_is_clean()


def test_cash_from_the_desks_is_a_candidate_up_to_what_the_desks_took(ledger_is_clean):
    ledger.transfer(debit=ledger.system_account(AccountKind.CONTRIBUTIONS), credit=ledger.system_account(AccountKind.CASH),
                    amount=20_000, kind=TransferKind.CONTRIBUTION)
    day = TODAY - timedelta(days=1)
    bank.import_statement(statement([Entry(15_000, True, day, reference="BQ-ESP", remittance="REMISE"),
                                     Entry(25_000, True, day, reference="BQ-TOO-MUCH")], statement_id="STMT-E",
                                    day=day))
    assert "cash_deposit" not in tokens(line("BQ-TOO-MUCH"))
    first, _second = coordinators()
    assert bank.pick(line("BQ-ESP").pk, "cash_deposit", by=first).line.match == M.CASH_DEPOSIT
    deposit = Transfer.objects.get(kind=TransferKind.CASH_DEPOSIT)
    assert (deposit.amount, deposit.value_date) == (15_000, day)
    assert fund_position().cash == 5_000
    ledger_is_clean()


# --- Direct debits: picked by a person; returns refused when too late ------------------------


def households_with_debits(*amounts, collected=date(2026, 9, 10)):
    """Households with a mandate, and the September collection confirmed: [(household, debit)]."""
    households = []
    for n, amount in enumerate(amounts):
        household = active_household(first_name=f"Nom{n}")
        Household.objects.filter(pk=household.pk).update(monthly_contribution=amount, joined_on=date(2026, 9, 1))
        direct_debits.record_mandate(household, reference=f"RUM-{household.reference}", signed_on=date(2024, 1, 15),
                                     debtor_name=f"Nom{n} Test", iban="FR1420041010050500013M02606", bic="PSSTFRPPMON")
        households.append(household)
    collection = direct_debits.prepare_collection("2026-09", collection_date=collected)
    direct_debits.confirm_collection(collection)
    return [(household, collection.debits.get(household=household)) for household in households]


def returned(debit, day, reason, reference):
    return statement([Entry(debit.amount, False, day, reference=reference, bank_code=("PMNT", "RDDT", "UPDD"),
                            end_to_end_ids=[debit.end_to_end_id], return_reason=reason)],
                     statement_id=f"STMT-{reference}", day=day, opening=1_000_000)


def test_the_return_windows_of_the_sepa_rulebook():
    collected = date(2026, 9, 10)
    assert direct_debits.return_deadline(collected, "AM04") == date(2026, 11, 5)  # 8 weeks
    assert direct_debits.return_deadline(collected, "MD06") == date(2026, 11, 5)
    assert direct_debits.return_deadline(collected, "md01") == date(2027, 10, 10)  # 13 months
    assert direct_debits.return_deadline(date(2026, 1, 31), "MD01") == date(2027, 2, 28)


def test_a_return_after_eight_weeks_is_refused_and_listed_with_its_reason(client, ledger_is_clean):
    fund_treasury()
    (ana, debit), (_ben, in_time) = households_with_debits(1_500, 900)
    # 8 weeks to the day: still in time.
    bank.import_statement(returned(in_time, date(2026, 11, 5), "MD06", "BQ-R-OK"))
    assert line("BQ-R-OK").match == M.DIRECT_DEBIT_RETURN
    reversal = Transfer.objects.get(kind=TransferKind.REVERSAL)
    assert (reversal.amount, reversal.value_date) == (900, date(2026, 11, 5))
    # One day later, authorised: refused, not booked, listed with the reason in French.
    treasury = fund_position().treasury
    bank.import_statement(returned(debit, date(2026, 11, 6), "AM04", "BQ-R-LATE"))
    late = line("BQ-R-LATE")
    assert late.match == M.UNMATCHED and "trop tard" in late.note and "2026-11-05" in late.note
    assert ContributionPayment.objects.get(household=ana).rejected_at is None
    assert fund_position().treasury == treasury
    first, _second = coordinators()
    log_in_staff(client, first)
    assert "trop tard" in client.get("/coordination/bank/").content.decode()
    # A person cannot book it either: the same service refuses it, the same words; nor call it a fee.
    assert tokens(late) == [f"debit_return:{debit.pk}"]
    response = client.post(f"/coordination/bank/lines/{late.pk}/match/",
                           {"candidate": f"debit_return:{debit.pk}", "reason": "AM04"})
    assert response.status_code == 400 and "trop tard" in response.content.decode()
    assert fund_position().treasury == treasury
    ledger_is_clean()


def test_an_unauthorised_return_may_come_for_thirteen_months(frozen, ledger_is_clean):
    fund_treasury()
    (ana, debit), (bob, other) = households_with_debits(1_500, 800)
    frozen.move_to(datetime(2027, 10, 20, 10, 0, tzinfo=PARIS))
    bank.import_statement(returned(debit, date(2027, 10, 10), "MD01", "BQ-MD01"))
    assert line("BQ-MD01").match == M.DIRECT_DEBIT_RETURN
    assert ContributionPayment.objects.get(household=ana).rejection_reason == "MD01"
    bank.import_statement(returned(other, date(2027, 10, 11), "MD01", "BQ-MD01-LATE"))
    assert line("BQ-MD01-LATE").match == M.UNMATCHED and "13" in line("BQ-MD01-LATE").note
    assert ContributionPayment.objects.get(household=bob).rejected_at is None
    ledger_is_clean()


def test_a_return_without_its_reference_is_picked_with_the_banks_reason(client, ledger_is_clean):
    fund_treasury()
    [(ana, debit)] = households_with_debits(1_500)
    day = date(2026, 10, 1)
    bank.import_statement(statement([Entry(1_500, False, day, reference="BQ-IMPAYE", remittance="IMPAYE PRLV",
                                           bank_code=("PMNT", "RDDT", "UPDD"))], statement_id="STMT-I", day=day,
                                    opening=1_000_000))
    row = line("BQ-IMPAYE")
    assert tokens(row)[0] == f"debit_return:{debit.pk}"
    first, _second = coordinators()
    log_in_staff(client, first)
    url = f"/coordination/bank/lines/{row.pk}/match/"
    missing = client.post(url, {"candidate": f"debit_return:{debit.pk}", "reason": ""})
    assert missing.status_code == 400 and "AM04" in missing.content.decode()
    assert client.post(url, {"candidate": f"debit_return:{debit.pk}", "reason": "am04"}).status_code == 302
    payment = ContributionPayment.objects.get(household=ana)
    assert payment.rejection_reason == "AM04"
    assert Transfer.objects.get(pk=payment.reversal_id).value_date == day
    row.refresh_from_db()
    assert (row.match, row.handled_by) == (M.DIRECT_DEBIT_RETURN, first)
    ledger_is_clean()


def test_a_collection_credited_without_its_id_is_picked_by_its_total(ledger_is_clean):
    household = active_household(first_name="Cy")
    Household.objects.filter(pk=household.pk).update(monthly_contribution=1_100, joined_on=date(2026, 9, 1))
    direct_debits.record_mandate(household, reference="RUM-CY", signed_on=date(2024, 1, 15), debtor_name="Cy Test",
                                 iban="FR1420041010050500013M02606", bic="PSSTFRPPMON")
    collection = direct_debits.prepare_collection("2026-10", collection_date=date(2026, 10, 10))
    bank.import_statement(statement([Entry(1_100, True, date(2026, 10, 10), reference="BQ-PRLV",
                                           remittance="REMISE PRELEVEMENTS")], statement_id="STMT-C",
                                    day=date(2026, 10, 10)))
    row = line("BQ-PRLV")
    assert tokens(row) == [f"collection:{collection.pk}"]
    first, _second = coordinators()
    assert bank.pick(row.pk, f"collection:{collection.pk}", by=first).line.match == M.COLLECTION
    assert ContributionPayment.objects.filter(household=household, period="2026-10").count() == 1
    ledger_is_clean()
