"""Money in from grants, the association's books and the exports."""

from datetime import date

import pytest

from allocations import grants
from allocations.models import Grant, Transfer, TransferKind
from allocations.selectors import fund_position

pytestmark = pytest.mark.django_db


def make_grant(**fields):
    return grants.create_grant(**{
        "funder_type": Grant.Funder.METROPOLE, "funder_name": "Montpellier Méditerranée Métropole",
        "reference": "MMM-2026-01", "amount": 5_000_000, "promised_on": date(2026, 1, 15),
        "earmark": "allocations alimentaires 2026", "period_start": date(2026, 1, 1), **fields})


def test_a_grant_receipt_moves_money_into_the_treasury_once(ledger_is_clean):
    grant = make_grant()
    first = grants.record_receipt(grant, amount=2_000_000, received_on=date(2026, 2, 3), bank_reference="VIR-123")
    again = grants.record_receipt(grant, amount=2_000_000, received_on=date(2026, 2, 3), bank_reference="VIR-123")
    assert first.pk == again.pk
    assert Transfer.objects.filter(kind=TransferKind.GRANT).count() == 1
    assert fund_position().treasury == fund_position().grants_received == 2_000_000
    assert first.transfer.created_at.date() == date(2026, 2, 3)
    report = grants.report(grant)
    assert (report.received, report.outstanding) == (2_000_000, 3_000_000)
    assert report.share == 1.0  # the only money in over its period
    ledger_is_clean()


def test_the_grant_pages_are_for_coordinators(client):
    from tests.dashboard_fixtures import with_totp
    from tests.vendor_fixtures import make_coordinator, make_user

    grant = make_grant()
    log_in_staff(client, make_user("someone"))
    assert client.get(f"/coordination/grants/{grant.pk}/").status_code == 403
    log_in_staff(client, with_totp(make_coordinator()))
    response = client.post(f"/coordination/grants/{grant.pk}/", {
        "amount_euros": "1000", "received_on": "2026-03-01", "bank_reference": "VIR-9"})
    assert response.status_code == 302
    page = client.get(f"/coordination/grants/{grant.pk}/").content.decode()
    assert "allocations alimentaires 2026" in page and "VIR-9" in page


# --- The association's books (coordination.books) -------------------------------------------

import re  # noqa: E402
from collections import defaultdict  # noqa: E402
from datetime import datetime  # noqa: E402

from django.utils import timezone  # noqa: E402

from allocations import ledger  # noqa: E402
from allocations.models import AccountKind  # noqa: E402
from coordination import books  # noqa: E402

from .staff import log_in_staff  # noqa: E402


def _hand_built_fund():
    """The dashboard's small fund (grant 1 000 €; 50 + 50 MonA issued; 12,50 + 7,50 spent
    at the bakery, 2,50 refunded, the bakery settled 17,50 €; 3,00 at the grocer; 5 € + 2 €
    of contributions), plus 1,00 MonA expired and the 2 € contribution reversed."""
    from members.models import ContributionPayment
    from tests.dashboard_fixtures import small_fund

    fund = small_fund()
    one, _two = fund["members"]
    ledger.transfer(debit=one.household.wallet_id, credit=ledger.system_account(AccountKind.EXPIRY), amount=100,
                    kind=TransferKind.EXPIRY)
    second_contribution = ContributionPayment.objects.get(amount=200)
    ledger.reverse(second_contribution.transfer_id)
    return fund


def _fec(year, separator="\t"):
    lines = "".join(books.fec_lines(year, separator)).split("\r\n")
    assert lines[-1] == ""
    return [line.split(separator) for line in lines[:-1]]


def _cents(text):
    assert re.fullmatch(r"\d+,\d\d", text), text
    euros, cents = text.split(",")
    return int(euros) * 100 + int(cents)


def test_the_books_of_a_small_fund_computed_by_hand(ledger_is_clean):
    fund = _hand_built_fund()
    year = books.current_year()
    by_account = books.totals_by_account(year)
    # (debit, credit) per account, in cents, worked out by hand from the movements above.
    assert by_account == {
        "512000": (100_000 + 500 + 200, 1_750 + 200),  # grant, contributions | reimbursement, reversal
        "740000": (0, 100_000),
        "756000": (200, 500 + 200),
        "657000": (1_250 + 750 + 300, 250),  # food aid: what was spent, less the refund
        "401100": (250 + 1_750, 1_250 + 750 + 300),  # the shops: refund and payment | purchases
    }
    # The ledger agrees: the bank is the treasury, 401 what the fund owes the shops.
    assert 100_700 - 1_950 == fund_position().treasury
    fund["grocer"].account.refresh_from_db()
    assert (1_250 + 750 + 300) - (250 + 1_750) == 300 == fund["grocer"].account.balance
    totals = books.year_totals(year)
    assert {number: (debit, credit) for number, _label, debit, credit, _balance in totals.rows()} == by_account
    assert totals.debit == totals.credit == 100_700 + 200 + 2_300 + 2_000 == 105_200
    assert totals.entries == 9  # grant, 2 contributions, reversal, 3 purchases, refund, reimbursement
    # Units are commitments, not entries: issued, expired, and still out at the year's end.
    assert (totals.issued, totals.expired) == (10_000, 100)
    assert totals.commitments == 10_000 - 100 - 1_750 == fund_position().units_in_circulation
    ledger_is_clean()


def test_every_entry_balances_and_the_fec_has_its_18_columns():
    _hand_built_fund()
    year = books.current_year()
    rows = _fec(year)
    assert rows[0] == books.FEC_COLUMNS == [
        "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum",
        "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet",
        "ValidDate", "Montantdevise", "Idevise"]
    body = [dict(zip(rows[0], row)) for row in rows[1:]]
    assert len(body) == 18 and all(len(row) == 18 for row in rows)
    sums = defaultdict(lambda: [0, 0])
    today = timezone.localdate().strftime("%Y%m%d")
    for row in body:
        assert row["EcritureDate"] == row["PieceDate"] == row["ValidDate"] == today
        assert row["JournalLib"] == books.JOURNALS[row["JournalCode"]]
        assert row["EcritureNum"].startswith(row["JournalCode"] + str(year) + "-")
        debit, credit = _cents(row["Debit"]), _cents(row["Credit"])
        assert (debit == 0) != (credit == 0)
        sums[row["EcritureNum"]][0] += debit
        sums[row["EcritureNum"]][1] += credit
        assert row["Montantdevise"] == row["Idevise"] == row["EcritureLet"] == ""
        # A vendor's lines carry it as auxiliary account; nothing else does.
        assert bool(row["CompAuxNum"]) == (row["CompteNum"] == "401100")
    assert len(sums) == 9 and all(debit == credit > 0 for debit, credit in sums.values())
    # Numbers run on without a gap in each journal, in the ledger's order.
    for journal in ("BQ", "AL"):
        numbers = sorted({int(row["EcritureNum"].rsplit("-", 1)[1]) for row in body if row["JournalCode"] == journal})
        assert numbers == list(range(1, len(numbers) + 1))
    # The pipe variant is the same file.
    assert [row for row in _fec(year, "|")] == rows
    text = "".join(books.fec_lines(year))
    assert "Prénom" not in text and "F-1" not in text  # no household anywhere in the books
    assert "12,50" in text and "1000,00" in text
    assert books.fec_filename(year) == f"000000000FEC{year}1231.txt"


def test_the_plain_csv_has_the_same_lines():
    _hand_built_fund()
    year = books.current_year()
    text = "".join(books.csv_lines(year)).lstrip("\ufeff")
    lines = text.strip().splitlines()
    assert lines[0].split(";") == books.CSV_COLUMNS
    assert len(lines) == 19


def test_financial_year_start_month_is_a_setting(settings):
    settings.FINANCIAL_YEAR_START_MONTH = 7
    assert books.year_bounds(2026) == (date(2026, 7, 1), date(2027, 7, 1))
    assert books.current_year(date(2027, 3, 1)) == 2026 and books.current_year(date(2027, 7, 1)) == 2027
    assert books.year_label(2026) == "2026-2027"
    assert books.fec_filename(2026).endswith("FEC20270630.txt")


def test_the_chart_of_accounts_is_configurable(settings):
    settings.ACCOUNTING_CHART = {"purchase": ("658000", "Charges diverses de gestion courante")}
    _hand_built_fund()
    by_account = books.totals_by_account(books.current_year())
    assert "657000" not in by_account and by_account["658000"] == (2_300, 250)


def _at(day, hour=12, minute=0):
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def test_bank_reconciliation_by_hand():
    grants_account, treasury = ledger.system_account(AccountKind.GRANTS), ledger.system_account(AccountKind.TREASURY)
    contributions = ledger.system_account(AccountKind.CONTRIBUTIONS)
    paid_out = ledger.system_account(AccountKind.REIMBURSEMENTS)

    def move(debit, credit, amount, kind, at):
        return ledger.transfer(debit=debit, credit=credit, amount=amount, kind=kind, at=at).transfer

    move(grants_account, treasury, 40_000, TransferKind.GRANT, _at(date(2024, 12, 20)))  # last year: opening
    move(grants_account, treasury, 10_000, TransferKind.GRANT, _at(date(2025, 1, 10)))
    move(contributions, treasury, 500, TransferKind.CONTRIBUTION, _at(date(2025, 1, 31), 23, 30))
    # 00:30 in Paris on 1 March is still February in UTC: it belongs to March.
    move(contributions, treasury, 700, TransferKind.CONTRIBUTION, _at(date(2025, 3, 1), 0, 30))
    paid = move(treasury, paid_out, 3_000, TransferKind.REIMBURSEMENT, _at(date(2025, 3, 15)))
    ledger.reverse(paid)  # the bank returned it (now, in another year)
    move(grants_account, treasury, 1, TransferKind.GRANT, _at(date(2026, 1, 1), 0, 10))  # next year

    rec = books.bank_reconciliation(2025)
    assert rec.opening == 40_000 and len(rec.months) == 12
    jan, feb, mar = rec.months[:3]
    assert (jan.period, jan.opening, jan.grants, jan.contributions, jan.money_out, jan.closing) == (
        "2025-01", 40_000, 10_000, 500, 0, 50_500)
    assert (feb.opening, feb.money_in, feb.money_out, feb.closing) == (50_500, 0, 0, 50_500)
    assert (mar.contributions, mar.reimbursements, mar.closing) == (700, 3_000, 48_200)
    assert rec.months[-1].period == "2025-12" and rec.closing == 48_200
    # What the bank said on 31 March, typed in by a coordinator: 10 € short.
    assert books.bank_difference(date(2025, 3, 31), 47_200) == (48_200, -1_000)
    assert books.bank_difference(date(2024, 12, 19), 0) == (0, 0)


# --- The pages ---------------------------------------------------------------------------

BOOK_URLS = ["/coordination/books/", "/coordination/books/{year}/fec.txt", "/coordination/books/{year}/entries.csv",
             "/coordination/research/", "/coordination/research/export.csv"]


def test_only_coordinators_get_the_books_and_the_research_export(client):
    from tests.dashboard_fixtures import with_totp
    from tests.vendor_fixtures import make_staff, make_user

    fund = _hand_built_fund()
    urls = [url.format(year=books.current_year()) for url in BOOK_URLS]
    for url in urls:
        assert client.get(url).status_code == 302  # to the login page
    one, _two = fund["members"]
    volunteer = with_totp(make_user("benevole", "volunteer", is_staff=False))
    for someone in (volunteer, one.user, make_staff(fund["bakery"])):
        log_in_staff(client, someone)
        for url in urls:
            assert client.get(url).status_code == 403, (someone, url)
    log_in_staff(client, fund["coordinators"][0])
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url


def test_the_books_page_and_its_downloads(client):
    fund = _hand_built_fund()
    year = books.current_year()
    log_in_staff(client, fund["coordinators"][0])
    page = client.get("/coordination/books/").content.decode()
    assert f"/coordination/books/{year}/fec.txt" in page and "512000" in page and "657000" in page
    assert "Rapprochement bancaire" in page  # in French
    response = client.get(f"/coordination/books/{year}/fec.txt")
    assert response["Content-Disposition"] == f'attachment; filename="000000000FEC{year}1231.txt"'
    text = b"".join(response.streaming_content).decode("iso-8859-15")
    assert text.splitlines()[0].split("\t") == books.FEC_COLUMNS and len(text.splitlines()) == 19
    piped = b"".join(client.get(f"/coordination/books/{year}/fec.txt?sep=pipe").streaming_content)
    assert piped.decode("iso-8859-15").replace("|", "\t") == text
    csv_text = b"".join(client.get(f"/coordination/books/{year}/entries.csv").streaming_content).decode()
    assert csv_text.startswith("\ufeffjournal;entry;")
    # The bank statement says 10 € less than the ledger: shown, nothing stored.
    today = timezone.localdate().isoformat()
    treasury = fund_position().treasury
    page = client.get(f"/coordination/books/?year={year}&day={today}&balance={(treasury - 1_000) / 100:.2f}")
    assert page.context["difference"]["gap"] == -1_000
    assert client.get("/coordination/books/?year=1900").status_code == 404
