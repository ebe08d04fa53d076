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
    client.force_login(make_user("someone"))
    assert client.get(f"/coordination/grants/{grant.pk}/").status_code == 403
    client.force_login(with_totp(make_coordinator()))
    response = client.post(f"/coordination/grants/{grant.pk}/", {
        "amount_euros": "1000", "received_on": "2026-03-01", "bank_reference": "VIR-9"})
    assert response.status_code == 302
    page = client.get(f"/coordination/grants/{grant.pk}/").content.decode()
    assert "allocations alimentaires 2026" in page and "VIR-9" in page
