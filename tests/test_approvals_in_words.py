"""Issue 19 point 4: the approvals page says what a decided step did in French words —
no "transfer #12", no "issuance run 2026-11: done"."""

import pytest

from allocations import approvals, ledger
from allocations.models import AccountKind, Transfer, TransferKind

from .member_fixtures import make_member
from .settlement_fixtures import fund_treasury
from .staff import log_in_staff
from .test_roles import coordinator

pytestmark = pytest.mark.django_db


def test_a_reversal_s_outcome_reads_in_french_on_the_approvals_page(client):
    first, second = coordinator("coord-a"), coordinator("coord-b")
    fund_treasury()
    member = make_member("F-1", balance=5_000)
    transfer = ledger.transfer(debit=ledger.system_account(AccountKind.ISSUANCE), credit=member.household.wallet_id,
                               amount=1_000, kind=TransferKind.ALLOCATION).transfer
    approval = approvals.request_reversal(transfer.pk, by=first, reason="crédité deux fois")
    log_in_staff(client, second)
    client.post(f"/coordination/approvals/{approval.pk}/", {"decision": "approve"})
    reversal = Transfer.objects.get(reverses=transfer)
    body = client.get("/coordination/approvals/").content.decode()
    assert f"annulé par le virement n° {reversal.pk}" in body
    assert "transfer #" not in body
