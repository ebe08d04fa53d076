"""A settlement run's life (issue 16): approved → file issued → paid when the bank says so,
or returned line by line; the fund's settings, bank details under four eyes."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from allocations import approvals, fund
from allocations.models import Account, FundSettings, Transfer, TransferKind
from allocations.selectors import fund_position
from tests.settlement_fixtures import (
    coordinators,
    fund_treasury,
    make_member,
    pay,
    run_and_approve,
    run_and_pay,
    shop,
)
from tests.staff import log_in_staff
from tests.vendor_fixtures import make_staff
from vendors import selectors, settlements
from vendors.models import Settlement, SettlementRun

pytestmark = pytest.mark.django_db


def balance(account_id):
    return Account.objects.get(pk=account_id).balance


def test_an_approved_run_is_committed_not_paid_until_the_bank_confirms(ledger_is_clean):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=20_000)
    vendor = shop()
    pay(member, vendor, 2_500)
    before = fund_position()
    run = run_and_approve(first, second)
    assert run.status == SettlementRun.Status.APPROVED
    assert run.settlements.get().status == Settlement.Status.COMMITTED
    # Neither available nor paid: still in the treasury and owed to the shop, counted committed.
    assert fund_position() == before
    assert selectors.committed_total() == 2_500
    assert not Transfer.objects.filter(kind=TransferKind.REIMBURSEMENT).exists()
    # A run made meanwhile does not owe it again.
    assert settlements.create_run().run.status == SettlementRun.Status.EMPTY
    settlements.mark_file_issued(run)
    bank_day = timezone.localdate()
    assert settlements.confirm_paid(run, value_date=bank_day, bank_reference="STMT-1") == 1
    run.refresh_from_db()
    settlement = run.settlements.get()
    assert run.status == SettlementRun.Status.PAID and settlement.status == Settlement.Status.PAID
    assert settlement.value_date == bank_day and settlement.euros_transfer.value_date == bank_day
    assert selectors.committed_total() == 0
    assert fund_position().treasury == before.treasury - 2_500
    ledger_is_clean()


def test_the_bank_date_cannot_be_in_the_future_nor_before_the_approval():
    fund_treasury()
    first, second = coordinators()
    pay(make_member("F-1", balance=20_000), shop(), 1_000)
    run = run_and_approve(first, second)
    settlements.mark_file_issued(run)
    with pytest.raises(settlements.SettlementError):
        settlements.request_bank_confirmation(run, value_date=timezone.localdate() + timedelta(days=1), by=first,
                                              reason="relevé")
    with pytest.raises(settlements.SettlementError):
        settlements.confirm_paid(run, value_date=timezone.localdate() - timedelta(days=30), bank_reference="X")
    assert run.settlements.get().status == Settlement.Status.COMMITTED


@pytest.mark.parametrize("when", ["after payment", "before confirmation"])
def test_a_returned_transfer_makes_the_shop_owed_again(client, when, ledger_is_clean):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=20_000)
    vendor, other = shop("epicerie"), shop("boulangerie")
    pay(member, vendor, 1_800)
    pay(member, other, 700)
    before = fund_position()
    if when == "after payment":
        run = run_and_pay(first, second)
        assert balance(vendor.account_id) == 0
    else:
        run = run_and_approve(first, second)
        settlements.mark_file_issued(run)
    returned = run.settlements.get(vendor=vendor)
    approval = settlements.request_return(returned, returned_on=timezone.localdate(), by=first,
                                          reason="AC04 compte clos")
    approvals.approve(approval, by=second)
    returned.refresh_from_db()
    assert returned.status == Settlement.Status.RETURNED and returned.return_reason == "AC04 compte clos"
    # Owed again: the units back on its account, the euros back in the treasury.
    assert balance(vendor.account_id) == 1_800
    if when == "before confirmation":
        settlements.confirm_paid(run, value_date=timezone.localdate(), bank_reference="STMT-2")
    assert fund_position().treasury == before.treasury - 700
    run.refresh_from_db()
    assert run.status == SettlementRun.Status.PAID
    # Recording it again changes nothing.
    assert settlements.record_return(returned, returned_on=timezone.localdate(), reason="x", bank_reference="y") is False
    ledger_is_clean()
    # Shown to the shop and to the coordinators.
    client.force_login(make_staff(vendor))
    page = client.get("/vendor/").content.decode()
    assert "AC04 compte clos" in page and returned.number in page
    coordinator_page = log_in_staff(client, first).get("/coordination/settlements/").content.decode()
    assert 'data-testid="returned"' in coordinator_page and "AC04 compte clos" in coordinator_page
    # The next run pays it (once the shop's IBAN is right).
    later = run_and_pay(first, second)
    again = later.settlements.get()
    assert (again.vendor_id, again.amount, again.carried_over) == (vendor.pk, 1_800, 1_800)
    assert balance(vendor.account_id) == 0
    ledger_is_clean()


def test_check_ledger_finds_a_paid_settlement_without_its_transfers(ledger_is_clean):
    from allocations.integrity import check_ledger

    fund_treasury()
    first, second = coordinators()
    pay(make_member("F-1", balance=20_000), shop(), 1_000)
    run = run_and_approve(first, second)
    Settlement.objects.filter(run=run).update(status=Settlement.Status.PAID)
    report = check_ledger()
    assert [mismatch.label for mismatch in report.objects] == [f"settlement {run.settlements.get().number}"]


def test_the_run_page_walks_the_life_of_a_run(client):
    fund_treasury()
    first, second = coordinators()
    pay(make_member("F-1", balance=20_000), shop(), 1_000)
    run = run_and_approve(first, second)
    log_in_staff(client, first)
    page = client.get(f"/coordination/settlements/{run.pk}/").content.decode()
    assert "pain.001.001.09" in page and "settlement_confirm" not in page
    file = client.get(f"/coordination/settlements/{run.pk}/sepa/")
    assert file.status_code == 200
    run.refresh_from_db()
    assert run.status == SettlementRun.Status.FILE_ISSUED
    response = client.post(f"/coordination/settlements/{run.pk}/confirm/", {"value_date": "pas une date", "reason": "r"})
    assert response.status_code == 302 and settlements.pending_confirmation(run) is None
    client.post(f"/coordination/settlements/{run.pk}/confirm/",
                {"value_date": timezone.localdate().isoformat(), "reason": "relevé du 30"})
    confirmation = settlements.pending_confirmation(run)
    assert confirmation is not None and 'data-testid="confirmation-pending"' in client.get(
        f"/coordination/settlements/{run.pk}/").content.decode()
    log_in_staff(client, second)
    client.post(f"/coordination/approvals/{confirmation.pk}/", {"decision": "approve"})
    run.refresh_from_db()
    assert run.status == SettlementRun.Status.PAID


def test_no_approval_while_the_funds_bank_account_is_not_configured(client):
    FundSettings.objects.update_or_create(pk=1, defaults={"name": "Caisse", "unit_label": "MonA", "bank_iban": ""})
    fund_treasury()
    first, second = coordinators()
    pay(make_member("F-1", balance=20_000), shop(), 1_000)
    run = settlements.create_run().run
    log_in_staff(client, first)
    page = client.get(f"/coordination/settlements/{run.pk}/").content.decode()
    assert 'data-testid="no-fund-bank"' in page
    response = client.post(f"/coordination/settlements/{run.pk}/pay/", {"reason": "paiement"}, follow=True)
    assert "bank account is not configured" in response.content.decode() or "compte bancaire" in response.content.decode()
    assert settlements.pending_confirmation(run) is None
    assert not approvals.pending(settlements.SETTLEMENT_PAYMENT, run.pk)


# --- The fund's settings ----------------------------------------------------------------


def test_settings_start_from_the_environment_and_are_edited_by_coordinators(settings):
    settings.FUND_NAME, settings.FUND_UNIT_LABEL = "Caisse de Montpellier", "MonA"
    row = fund.current()
    assert (row.name, row.unit_label, row.bank_iban) == ("Caisse de Montpellier", "MonA", settings.FUND_BANK_IBAN)
    first, _second = coordinators()
    fund.update_settings(by=first, name="Caisse commune", collection_day=10)
    row = fund.current()
    assert (row.name, row.collection_day) == ("Caisse commune", 10)
    with pytest.raises(ValidationError):
        fund.update_settings(by=first, collection_day=31)
    with pytest.raises(fund.FundSettingsError):
        fund.update_settings(by=first, bank_iban="FR76...")  # bank details: only under four eyes


def test_bank_details_change_under_four_eyes_and_are_audited(client):
    from django.apps import apps

    first, second = coordinators()
    old = fund.current().bank_iban
    with pytest.raises(ValidationError):
        fund.request_bank_change(iban="FR76 0000", bic="AGRIFRPP", creditor_id="", by=first, reason="nouveau compte")
    log_in_staff(client, first)
    response = client.post("/coordination/fund/", {"bank-iban": "FR14 2004 1010 0505 0001 3M02 606",
                                                   "bank-bic": "PSSTFRPPMON", "bank-creditor_id": "FR12ZZZ123456",
                                                   "bank-reason": "changement de banque"})
    assert response.status_code == 302
    assert fund.current().bank_iban == old  # not yet
    approval = fund.pending_bank_change()
    page = client.get("/coordination/fund/").content.decode()
    assert 'data-testid="bank-pending"' in page and "FR1420041010050500013M02606" in page
    with pytest.raises(approvals.ApprovalRequired):
        approvals.approve(approval, by=first)
    approvals.approve(approval, by=second)
    row = fund.current()
    assert (row.bank_iban, row.bank_bic, row.proposed_bank_iban) == ("FR1420041010050500013M02606", "PSSTFRPPMON", "")
    events = apps.get_model("audit.FundSettingsEvent").objects.filter(pgh_label="update")
    assert any(event.bank_iban == "FR1420041010050500013M02606" for event in events)


def test_the_settings_page_saves_the_plain_settings_with_a_clear_error(client):
    first, _second = coordinators()
    log_in_staff(client, first)
    data = {"settings-name": "Caisse", "settings-unit_label": "MonA", "settings-collection_day": "40",
            "settings-max_purchase_cents": "500", "settings-daily_cap_per_card_cents": "0",
            "settings-phone_pin_above_cents": "20", "settings-refund_four_eyes_above_cents": "50",
            "settings-desk_cash_ceiling_cents": "200"}
    response = client.post("/coordination/fund/", data)
    assert response.status_code == 400 and fund.current().collection_day != 40
    data["settings-collection_day"] = "7"
    data["settings-unit_label"] = "Sol"
    assert client.post("/coordination/fund/", data).status_code == 302
    row = fund.current()
    assert (row.collection_day, row.unit_label) == (7, "Sol")
