"""The coordinators' dashboard: figures of a small fund computed by hand, a number of
queries that does not grow with the data, suppressed small cells, who may see it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allocations import periods
from coordination import reports
from members.models import Household
from tests.dashboard_fixtures import small_fund, with_totp
from tests.settlement_fixtures import make_member, pay, shop
from tests.vendor_fixtures import make_staff, make_user

from .staff import log_in_staff

pytestmark = pytest.mark.django_db


def test_the_figures_of_a_small_fund_computed_by_hand(ledger_is_clean):
    small_fund()
    data = reports.dashboard()
    p = data.position
    # Treasury: 1 000 € grant + 7 € contributions − 17,50 € paid to the bakery.
    assert p.fund.grants_received == 100_000
    assert p.fund.contributions_received == 700
    assert p.fund.reimbursements_paid == 1_750
    assert p.fund.treasury == 100_000 + 700 - 1_750
    # Wallets: 100 issued − 23,00 spent + 2,50 refunded; the grocer is owed 3,00.
    assert p.in_wallets == 10_000 - 1_250 - 750 - 300 + 250
    assert p.owed_to_vendors == 300
    assert p.fund.available_reserve == (100_000 + 700 - 1_750) - (7_950 + 300)
    this_month = data.trends[-1]
    assert this_month.period == periods.current()
    assert (this_month.issued, this_month.spent, this_month.contributions, this_month.grants, this_month.reimbursed) == (
        10_000, 1_250 + 750 + 300 - 250, 700, 100_000, 1_750)
    # Two households at two kinds of shop: far below the threshold, so every figure is hidden;
    # each approved shop is still listed, without its figures.
    assert data.by_vendor_kind == [{"kind": None, "label": None, "spent": None, "households": None, "suppressed": True}]
    assert [(row["shop"], row["suppressed"]) for row in data.by_shop] == [
        ("Boulangerie", True), ("Epicerie", True), (None, True)]
    assert data.spent == 1_250 + 750 + 300 - 250
    assert {row["bracket"]: (row["total"], row["households"]) for row in data.by_bracket} == {
        "low": (500, 1), "middle": (200, 1)}
    assert data.participation.active == 2
    assert data.participation.share_spent == pytest.approx(2_050 / 10_000)
    assert data.participation.months[-1].allocated == 2 and data.participation.share_households is None
    # Two households in two districts: both far below the threshold, so nothing is shown.
    assert data.by_district == [{"district": None, "spent": None, "households": None, "suppressed": True}]
    ledger_is_clean()


def test_small_districts_are_suppressed():
    vendor = shop()
    for n in range(12):
        member = make_member(f"A-{n}", balance=1_000)
        Household.objects.filter(pk=member.household.pk).update(district="Mosson")
        pay(member, vendor, 100)
    for n in range(3):
        member = make_member(f"B-{n}", balance=1_000)
        Household.objects.filter(pk=member.household.pk).update(district="Celleneuve")
        pay(member, vendor, 100)
    rows = reports.spending().by_district
    assert rows[0] == {"district": "Mosson", "spent": 1_200, "households": 12, "suppressed": False}
    assert rows[1]["suppressed"] and rows[1]["spent"] is None and rows[1]["district"] is None
    assert "Celleneuve" not in str(rows)
    header, csv_rows = reports.table("districts")
    assert ["other", "", "<10"] in csv_rows


def _queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/coordination/").status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_data(client):
    fund = small_fund()
    log_in_staff(client, fund["coordinators"][0])
    small = _queries(client)
    vendor = shop("autre")
    for n in range(25):
        member = make_member(f"X-{n}", balance=2_000)
        Household.objects.filter(pk=member.household.pk).update(district=f"D{n % 3}", income_bracket="modest")
        pay(member, vendor, 500)
    assert _queries(client) == small
    assert small < 40


def test_only_coordinators_see_the_dashboard_and_tables(client):
    fund = small_fund()
    assert client.get("/coordination/").status_code == 302  # to the login page
    volunteer = with_totp(make_user("benevole", "volunteer", is_staff=False))
    log_in_staff(client, volunteer)
    assert client.get("/coordination/").status_code == 403
    log_in_staff(client, make_staff(fund["bakery"]))
    assert client.get("/coordination/").status_code == 403
    assert client.get("/coordination/export/trends.csv").status_code == 403
    log_in_staff(client, fund["coordinators"][0])
    page = client.get("/coordination/")
    assert page.status_code == 200 and b"<svg" in page.content
    for name in reports.TABLES:
        response = client.get(f"/coordination/export/{name}.csv")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert client.get("/coordination/export/nope.csv").status_code == 404
