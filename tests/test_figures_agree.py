"""Figures that agree (issue 16): after a month with a bank return, a refund, a correction
and a grant receipt, the dashboard, the books and fund_position() say the same, to the cent."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from allocations import approvals, grants
from allocations.selectors import fund_position
from coordination import books, reports
from members import contributions, direct_debits
from tests.settlement_fixtures import coordinators, make_member, pay, refund, run_and_pay, shop
from tests.staff import log_in_staff
from tests.test_direct_debits import PERIOD, with_mandate

pytestmark = pytest.mark.django_db


def balance(totals, number):
    label, debit, credit = totals.accounts.get(number, ["", 0, 0])
    return debit - credit


def test_after_a_month_the_dashboard_the_books_and_the_position_agree(client, ledger_is_clean):
    first, second = coordinators()
    # A grant received.
    grant = grants.create_grant(funder_type="city", funder_name="Ville", reference="SUB-1",
                                promised_on=date(2026, 1, 5), amount=2_000_000)
    grants.record_receipt(grant, amount=1_000_000, received_on=timezone.localdate(), bank_reference="VIR-G1")
    # Contributions by direct debit; one returned by the bank.
    ana, ben = with_mandate("Ana", amount=1_500), with_mandate("Ben", amount=700)
    collection = direct_debits.prepare_collection(PERIOD, collection_date=timezone.localdate() - timedelta(days=1))
    direct_debits.confirm_collection(collection)
    direct_debits.record_rejection(f"RUM-{ana.reference}", PERIOD, "AM04")
    # A transfer booked by mistake, corrected under four eyes.
    typo = contributions.record_payment(ben, amount=2_000, method="transfer", reference="VIR-TYPO", period=PERIOD)
    approvals.approve(contributions.request_correction(typo, by=first, reason="virement d'un autre"), by=second)
    # Purchases, a refund, and a settlement paid by the bank.
    member = make_member("F-1", balance=20_000)
    grocer = shop()
    purchase = pay(member, grocer, 3_000)
    refund(grocer, purchase["id"], 500)
    run_and_pay(first, second)
    pay(member, grocer, 1_200)  # owed, not yet settled

    position = fund_position()
    dashboard = reports.position()
    trends = reports.monthly_trends()
    totals = books.year_totals(books.current_year())

    # Euros: the position, the dashboard's months and the books.
    assert position.grants_received == sum(r.grants for r in trends) == -balance(totals, "740000") == 1_000_000
    assert position.contributions_received == sum(r.contributions for r in trends) == -balance(totals, "756000") == 700
    assert sum(r.contributions_returned for r in trends) == 1_500 + 2_000  # returns apart
    assert position.reimbursements_paid == sum(r.reimbursed for r in trends) == 2_500
    assert position.treasury == balance(totals, "512000") == 1_000_000 + 700 - 2_500
    assert books.treasury_at_end_of(timezone.localdate()) == position.treasury
    # Units: spent = the aid expensed in the books; owed to the shop = 401's balance.
    assert sum(r.spent for r in trends) == balance(totals, "657000") == 3_000 - 500 + 1_200
    assert dashboard.owed_to_vendors == -balance(totals, "401100") == 1_200
    # The dashboard's page shows the same figures.
    log_in_staff(client, first)
    page = client.get("/coordination/").content.decode()
    assert 'data-testid="returned"' in page and "35,00" in page
    ledger_is_clean()


def test_the_per_grant_report_downloads_as_csv_and_printable_html(client):
    first, _second = coordinators()
    grant = grants.create_grant(funder_type="region", funder_name="Région Occitanie", reference="REG-2026-01",
                                promised_on=date(2026, 1, 5), amount=500_000, earmark="aide alimentaire")
    grants.record_receipt(grant, amount=250_000, received_on=timezone.localdate(), bank_reference="VIR-R1")
    log_in_staff(client, first)
    csv = client.get(f"/coordination/grants/{grant.pk}/report.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    body = csv.content.decode("utf-8-sig")
    assert "REG-2026-01" in body and "2500,00" in body and "VIR-R1" in body
    printable = client.get(f"/coordination/grants/{grant.pk}/print/").content.decode()
    assert "Région Occitanie" in printable and "coordination-nav" not in printable and "VIR-R1" in printable
