"""The dashboard by period (issue 16, point 6): every table that means a period reads the
one the coordinator chose (a month, a financial year, the last 12 months), in the fund's
months (Europe/Paris); a refund lowers the month it is made in; the tables add up to the
monthly trends and agree with fund_position(); a bad period is a French 400, never a 500."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allocations import approvals, keys, ledger
from allocations.models import AccountKind, TransferKind
from allocations.selectors import fund_position
from coordination import reports
from members import contributions
from members.models import ContributionPayment, Household
from tests.settlement_fixtures import coordinators, fund_treasury, make_member, pay, refund, run_and_pay, shop
from tests.staff import log_in_staff

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = datetime.UTC


def at(*args, tz=PARIS):
    return time_machine.travel(datetime.datetime(*args, tzinfo=tz), tick=False)


def allocate(member, period, amount=10_000):
    """An allocation for `period`, keyed as the monthly issuance keys it."""
    ledger.transfer(debit=ledger.system_account(AccountKind.ISSUANCE), credit=member.household.wallet_id,
                    amount=amount, kind=TransferKind.ALLOCATION,
                    idempotency_key=keys.allocation(member.household.wallet_id, period))


def spent(span):
    """What each table of the span says was spent, net (None where a table hides it)."""
    trends = sum(row.spent for row in reports.in_span(reports.monthly_trends(span), span))
    tables = reports.spending(span)
    tables = [tables.by_shop, tables.by_kind, tables.by_district]
    sums = [None if any(row["suppressed"] for row in rows) else sum(row["spent"] for row in rows) for rows in tables]
    return trends, *sums


@pytest.fixture
def one_household_is_enough(monkeypatch):
    """Where a test follows one purchase, not a crowd: no cell is too small."""
    monkeypatch.setattr(reports, "MIN_CELL", 1)


def test_purchases_on_the_last_evening_of_a_month_land_in_its_month_summer_and_winter(one_household_is_enough):
    with at(2026, 1, 10, 12, 0):
        member = make_member("P-1", balance=50_000)
        grocer = shop()
    # Winter time (UTC+1): 31 January, 23:30 in Paris is 22:30 UTC; 00:15 on 1 February is 23:15 UTC on 31 January.
    with at(2026, 1, 31, 23, 30):
        pay(member, grocer, 1_100)
    with at(2026, 1, 31, 23, 15, tz=UTC):
        pay(member, grocer, 2_200)
    # Summer time (UTC+2): 30 June, 23:30 in Paris is 21:30 UTC; 00:30 on 1 July is 22:30 UTC on 30 June.
    with at(2026, 6, 30, 23, 30):
        pay(member, grocer, 3_300)
    with at(2026, 6, 30, 22, 30, tz=UTC):
        pay(member, grocer, 4_400)
    with at(2026, 7, 20, 12, 0):
        assert spent(reports.span("2026-01")) == (1_100,) * 4
        assert spent(reports.span("2026-02")) == (2_200,) * 4
        assert spent(reports.span("2026-06")) == (3_300,) * 4
        assert spent(reports.span("2026-07")) == (4_400,) * 4
        assert spent(reports.span("2026")) == (11_000,) * 4
        assert spent(reports.span()) == (11_000,) * 4  # the last 12 months: 2025-08 to 2026-07
        [july] = reports.spending(reports.span("2026-07")).by_shop
        assert (july["shop"], july["spent"], july["households"]) == ("Epicerie", 4_400, 1)


def test_a_refund_in_the_next_month_lowers_the_month_of_the_refund(one_household_is_enough):
    """By the refund's own date, as the books expense it: March keeps its purchase whole,
    April carries the refund (and may be negative at a shop); the year nets both."""
    with at(2026, 3, 1, 9, 0):
        member = make_member("R-1")
        allocate(member, "2026-03")
        grocer = shop()
    with at(2026, 3, 31, 23, 50):  # summer time already (since 29 March)
        purchase = pay(member, grocer, 4_000)
    with at(2026, 4, 1, 0, 10):
        allocate(member, "2026-04")
        refund(grocer, purchase["id"], 1_000)
    with at(2026, 4, 20, 12, 0):
        assert spent(reports.span("2026-03")) == (4_000,) * 4
        assert spent(reports.span("2026-04")) == (-1_000,) * 4
        assert spent(reports.span("2026")) == (3_000,) * 4
        # Participation: in March the household spent; in April it only got money back.
        march = reports.participation(reports.monthly_trends(reports.span("2026-03")), reports.span("2026-03"))
        april = reports.participation(reports.monthly_trends(reports.span("2026-04")), reports.span("2026-04"))
        assert [(m.period, m.allocated, m.spent) for m in march.months] == [("2026-03", 1, 1)]
        assert [(m.period, m.allocated, m.spent) for m in april.months] == [("2026-04", 1, 0)]
        assert march.share_households == 1 and april.share_households == 0
        # The same in the CSV of each month.
        assert reports.table("shops", reports.span("2026-04"))[1] == [["Epicerie", -1_000, 1]]


def _crowd(n, district, bracket, prefix):
    members = []
    for i in range(n):
        member = make_member(f"{prefix}-{i}")
        Household.objects.filter(pk=member.household.pk).update(district=district, income_bracket=bracket)
        members.append(member)
    return members


def test_the_tables_agree_with_each_other_with_the_trends_and_with_the_fund_position(client, ledger_is_clean):
    with at(2026, 5, 2, 10, 0):
        fund_treasury(1_000_000)
        first, second = coordinators()
        mosson = _crowd(12, "Mosson", "low", "M")
        celleneuve = _crowd(3, "Celleneuve", "high", "C")
        for member in mosson + celleneuve:
            allocate(member, "2026-05")
        bakery = shop("boulangerie")
        type(bakery).objects.filter(pk=bakery.pk).update(kind="bakery")
        grocer = shop("epicerie")
        market = shop("marche")
        type(market).objects.filter(pk=market.pk).update(kind="market")
        shop("fermee")  # approved, nobody shops there
    with at(2026, 5, 12, 18, 0):
        receipts = [pay(member, bakery, 700) for member in mosson]
        for member in mosson[:10]:
            pay(member, grocer, 300)
        for member in celleneuve:
            pay(member, market, 900)
        refund(bakery, receipts[0]["id"], 200)
        for member in mosson[:11]:
            contributions.record_payment(member.household, amount=500, method=ContributionPayment.Method.BANK_TRANSFER,
                                         reference=f"VIR-{member.household.pk}")
        typo = contributions.record_payment(mosson[0].household, amount=2_000, method="transfer", reference="VIR-TYPO")
        approvals.approve(contributions.request_correction(typo, by=first, reason="virement d'un autre"), by=second)
    with at(2026, 5, 20, 9, 0):
        run_and_pay(first, second)  # the shops paid for everything until now
    with at(2026, 5, 31, 23, 45):
        pay(mosson[1], grocer, 150)  # owed, not yet settled; still May in Paris
    with at(2026, 6, 3, 12, 0):
        may = reports.span("2026-05")
        data = reports.dashboard(may)
        position = fund_position()
        total = 12 * 700 - 200 + 10 * 300 + 3 * 900 + 150
        # Every spending table adds up to the trends' month, and to the dashboard's total.
        assert data.spent == total
        by_shop = {row["shop"]: row for row in data.by_shop}
        assert (by_shop["Boulangerie"]["spent"], by_shop["Boulangerie"]["households"]) == (12 * 700 - 200, 12)
        assert (by_shop["Epicerie"]["spent"], by_shop["Epicerie"]["households"]) == (10 * 300 + 150, 10)
        assert by_shop["Marche"]["suppressed"] and by_shop["Marche"]["spent"] is None  # 3 households: hidden
        assert (by_shop["Fermee"]["spent"], by_shop["Fermee"]["households"]) == (0, 0)
        assert by_shop[None]["suppressed"]  # the market alone: still fewer than 10
        assert {row["kind"]: row["spent"] for row in data.by_vendor_kind} == {
            "bakery": 12 * 700 - 200, "grocery": 10 * 300 + 150, None: None}
        assert data.by_district == [
            {"district": "Mosson", "spent": 12 * 700 - 200 + 10 * 300 + 150, "households": 12, "suppressed": False},
            {"district": None, "spent": None, "households": None, "suppressed": True}]
        assert "Celleneuve" not in str(data.by_district) and "Marche" not in str(by_shop[None])
        visible = sum(row["spent"] for row in data.by_shop if not row["suppressed"])
        assert visible == sum(row["spent"] for row in data.by_vendor_kind if not row["suppressed"])
        assert total - visible == 3 * 900  # what is hidden is exactly the small shop's
        # Units: what was spent is what the shops were paid plus what they are still owed.
        assert position.reimbursements_paid == sum(r.reimbursed for r in data.trends) == total - 150
        assert reports.position().owed_to_vendors == 150
        assert position.units_in_circulation == sum(r.issued for r in data.trends) - (total - 150)
        # Euros: the brackets add up to the trends and to the ledger, returns apart.
        assert sum(row["total"] for row in data.by_bracket) == sum(r.contributions for r in data.trends) \
            == position.contributions_received == 11 * 500
        assert sum(row["returned"] for row in data.by_bracket) == sum(r.contributions_returned for r in data.trends) \
            == 2_000
        [low] = data.by_bracket
        assert (low["bracket"], low["households"], low["payments"], low["average"]) == ("low", 11, 11, 500)
        # Participation: 15 households had May's allocation; all spent in May.
        [month] = data.participation.months
        assert (month.period, month.allocated, month.spent, month.share) == ("2026-05", 15, 15, 1)
        assert data.participation.share_spent == pytest.approx(total / (15 * 10_000))
        assert reports.table("participation", may)[1][0][:4] == ["2026-05", 15, 15, 1]
        # The month's tables and the year's agree while the year has only May.
        year = reports.dashboard(reports.span("2026"))
        assert (year.spent, year.by_shop, year.by_district) == (data.spent, data.by_shop, data.by_district)
        # June: nothing spent yet; the tables say so, they do not show May.
        june = reports.dashboard(reports.span("2026-06"))
        assert june.spent == 0 and june.by_district == [] and june.by_vendor_kind == []
        assert {row["shop"]: row["spent"] for row in june.by_shop} == dict.fromkeys(
            ["Boulangerie", "Epicerie", "Fermee", "Marche"], 0)
        # The page and the CSV follow the period asked for.
        log_in_staff(client, first)
        page = client.get("/coordination/", {"period": "2026-05"}).content.decode()
        assert "le mois 2026-05" in page and 'href="/coordination/export/shops.csv?period=2026-05"' in page
        csv = client.get("/coordination/export/shops.csv", {"period": "2026-05"})
        assert csv["Content-Disposition"].endswith('shops-2026-05.csv"')
        body = csv.content.decode("utf-8-sig")
        assert "Boulangerie" in body and "8200" in body and "<10" in body
        assert "8200" not in client.get("/coordination/export/shops.csv", {"period": "2026-06"}).content.decode()
    ledger_is_clean()


# (A NUL byte never reaches the view: the project's middleware answers it with its own French 400.)
@pytest.mark.parametrize("value", ["2026-13", "abc", "2026-1", "1999", "2999", "2999-01", "2026-07", "9" * 40, "-1"])
def test_a_bad_period_is_a_french_400_never_a_500(client, value):
    first, _second = coordinators()
    log_in_staff(client, first)
    with at(2026, 6, 3, 12, 0):
        page = client.get("/coordination/", {"period": value})
        assert page.status_code == 400
        text = page.content.decode()
        assert "Période" in text and 'data-testid="error-summary"' in text
        assert "les 12 derniers mois" in text  # what it shows instead, said
        csv = client.get("/coordination/export/trends.csv", {"period": value})
        assert csv.status_code == 400 and "Période" in csv.content.decode()


def test_the_period_choices_and_their_meaning():
    with at(2026, 6, 3, 12, 0):
        assert reports.span().months == tuple(f"2025-{m:02d}" for m in range(7, 13)) + tuple(
            f"2026-{m:02d}" for m in range(1, 7))
        assert reports.span("2026").months == tuple(f"2026-{m:02d}" for m in range(1, 13))
        assert reports.span("2025-02").months == ("2025-02",)
        assert reports.span("2025-02").trend_months[0] == "2024-03"  # a month's trends: the 12 up to it
        assert reports.span("2026-06").stop == datetime.datetime(2026, 7, 1, tzinfo=PARIS)
        groups = dict(reports.span_choices())
        values = [value for options in groups.values() for value, _label in options]
        assert values[:4] == ["", "2026", "2025", "2024"] and values[4] == "2026-06" and len(values) == 16
        for value in values:
            assert reports.span(value).key == value


# The session, the user and their second factor and role (4); the trends (1); the position:
# system accounts, vendors owed, committed payment files, rules and the runway (6); the
# spending by shop, kind and district in one statement, and the shops' names (2); the
# brackets (1); participation: households who spent, active, arrivals, departures (4); what
# waits for a coordinator (3); the menu's roles and the open alarms (6). Was 26 before the
# periods: the three spending tables in one statement (-1), the shops' names (+1), the
# households who spent in their month (+1).
PAGE_QUERIES = 27


def test_the_page_asks_the_same_number_of_queries_whatever_the_period(client, django_assert_num_queries):
    with at(2026, 5, 2, 10, 0):
        first, _second = coordinators()
        members = _crowd(3, "Mosson", "low", "Q")
        grocer = shop()
        for member in members:
            allocate(member, "2026-05")
            pay(member, grocer, 100)
    log_in_staff(client, first)
    with at(2026, 6, 3, 12, 0):
        counts = {}
        for value in ("", "2026-05", "2026", "2025-12"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get("/coordination/", {"period": value}).status_code == 200
            counts[value] = len(queries)
        assert set(counts.values()) == {PAGE_QUERIES}
        with django_assert_num_queries(PAGE_QUERIES):
            client.get("/coordination/", {"period": "2026-05"})
