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


def test_a_settlement_payment_s_outcome_is_a_french_sentence():
    from django.utils import timezone

    from allocations.models import Approval
    from vendors import settlements

    from .settlement_fixtures import coordinators, pay, shop

    fund_treasury()
    first, second = coordinators()
    pay(make_member("F-1", balance=20_000), shop(), 1_000)
    run = settlements.create_run(timezone.now()).run
    approval = settlements.request_payment(run, by=first)
    approvals.approve(approval, by=second)
    assert Approval.objects.get(pk=approval.pk).outcome == (
        "1 commerce dans le fichier de paiement ; 0 reporté au prochain paiement (pas d'IBAN valide).")
