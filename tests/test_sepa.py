"""SEPA files valid against the official schemas: pain.001 (.09 and .03) for vendors'
reimbursements, pain.008 for contributions by direct debit."""

import os
from pathlib import Path
from xml.etree import ElementTree

import pytest
import sepaxml
import xmlschema

from tests.settlement_fixtures import coordinators, fund_treasury, make_member, pay, run_and_pay, shop
from vendors import sepa

pytestmark = pytest.mark.django_db
SCHEMAS = Path(os.path.dirname(sepaxml.__file__)) / "schemas"


@pytest.fixture(autouse=True)
def fund_bank(settings):
    settings.FUND_BANK_IBAN = "FR7630006000011234567890189"
    settings.FUND_BANK_BIC = "AGRIFRPPXXX"
    settings.FUND_SEPA_CREDITOR_ID = "FR12ZZZ123456"


def validate(content: bytes, schema: str):
    xmlschema.XMLSchema(str(SCHEMAS / f"{schema}.xsd")).validate(content.decode())
    return ElementTree.fromstring(content)


@pytest.fixture
def paid_run():
    fund_treasury()
    member = make_member("F-1", balance=20_000)
    a, b, missing = shop("a"), shop("b", legal_name="SARL Épicerie Été"), shop("c", iban="", bic="")
    pay(member, a, 1_250)
    pay(member, b, 3_000)
    pay(member, missing, 500)
    return run_and_pay(*coordinators())


@pytest.mark.parametrize("schema", sepa.SCHEMAS)
def test_the_credit_transfer_file_validates_and_carries_the_paid_settlements(paid_run, schema, ledger_is_clean):
    payment_file = sepa.credit_transfer_file(paid_run, schema=schema)
    root = validate(payment_file.content, schema)
    ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:{schema}"}
    assert root.find(".//p:GrpHdr/p:NbOfTxs", ns).text == "2"
    assert root.find(".//p:GrpHdr/p:CtrlSum", ns).text == "42.50"
    assert root.find(".//p:GrpHdr/p:MsgId", ns).text == paid_run.message_id
    amounts = sorted(node.text for node in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", ns))
    assert amounts == ["12.50", "30.00"]
    ibans = {node.text for node in root.iterfind(".//p:CdtrAcct/p:Id/p:IBAN", ns)}
    assert ibans == {"FR1420041010050500013M02606"}
    assert (payment_file.count, payment_file.total) == (2, 4_250)
    # The vendor without an IBAN is not in the file, and is listed for the coordinators.
    assert [s.vendor.slug for s in sepa.unpayable(paid_run)] == ["c"]
    # Downloaded twice, the same message id: the bank refuses the duplicate.
    assert sepa.credit_transfer_file(paid_run, schema=schema).content.count(paid_run.message_id.encode()) == 1
    ledger_is_clean()


def test_no_file_before_the_second_approval_and_no_approval_without_the_funds_account(settings):
    from allocations import approvals, fund
    from allocations.models import FundSettings
    from vendors import settlements
    from vendors.models import SettlementRun

    fund_treasury()
    member = make_member("F-1", balance=20_000)
    pay(member, shop("a"), 1_000)
    run = settlements.create_run().run
    with pytest.raises(sepa.SepaError):
        sepa.credit_transfer_file(run)
    settings.FUND_BANK_IBAN = ""  # the environment's default, read once: no bank account
    first, second = coordinators()
    with pytest.raises(fund.BankNotConfigured):
        settlements.request_payment(run, by=first)
    FundSettings.objects.filter(pk=1).update(bank_iban="FR7630006000011234567890189")
    approval = settlements.request_payment(run, by=first)
    # Cleared between the request and the approval: the approval is refused, nothing changes.
    FundSettings.objects.filter(pk=1).update(bank_iban="")
    with pytest.raises(fund.BankNotConfigured):
        approvals.approve(approval, by=second)
    run.refresh_from_db()
    approval.refresh_from_db()
    assert run.status == SettlementRun.Status.AWAITING_APPROVAL and approval.status == approval.Status.PENDING
    assert run.settlements.get().status == "pending"
