"""Issue 15: one correction per object, check_ledger that reads what each object says,
nobody above the rules (admin, commands), desk cash under a ceiling, solvency everywhere."""

import datetime
import io
import json
import threading
import uuid

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import Client
from django.utils import translation

from allocations import approvals, issuance, ledger
from allocations.models import Account, AccountKind, Approval, FundRules, IssuanceRun
from members import contributions, desk, enrolment
from members.models import ContributionPayment, Desk, HeldCash, Household
from users import roles
from vendors import payments, services
from vendors.models import Purchase, Refund, Settlement, Vendor

from .conftest import set_fund_settings
from .member_fixtures import make_member
from .settlement_fixtures import coordinators, fund_treasury, pay, refund, run_and_pay, shop
from .test_issuance import NOV_2026, PARIS, fund, households, no_notices, rules_from  # noqa: F401
from .vendor_fixtures import adopted_decision, make_key, make_user, make_vendor

S = Vendor.Status


def balance(account_id) -> int:
    return Account.objects.get(pk=account_id).balance


def shop_refund(key, purchase_id, amount):
    try:
        return Client().post(f"/api/v1/purchases/{purchase_id}/refunds", json.dumps({"amount": amount}),
                             content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
                             HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    finally:
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()


# --- 1. One correction per object ----------------------------------------------------


@pytest.mark.django_db
def test_a_purchase_corrected_by_a_coordinator_then_refunded_by_the_shop_is_credited_once(ledger_is_clean):
    first, _second = coordinators()
    vendor = shop()
    key = make_key(vendor)
    member = make_member("F-1", balance=5_000)
    purchase = pay(member, vendor, 1_000)
    correction = payments.coordinator_refund(purchase_id=purchase["id"], amount=1_000, reason="saisie en double",
                                             by=first)
    assert isinstance(correction, Refund) and correction.recorded_by == first
    assert Purchase.objects.get(pk=purchase["id"]).refunded == 1_000
    response = shop_refund(key, purchase["id"], 1_000)
    assert response.status_code == 400 and response.json()["error"]["code"] == "refund_exceeds_captured"
    assert balance(member.household.wallet_id) == 5_000  # credited once
    assert balance(vendor.account_id) == 0
    ledger_is_clean()


@pytest.mark.django_db
def test_a_coordinator_refund_above_the_fund_amount_waits_for_a_second_coordinator(ledger_is_clean):
    set_fund_settings(refund_four_eyes_above_cents=5_000)
    first, second = coordinators()
    vendor = shop()
    member = make_member("F-1", balance=10_000)
    purchase = pay(member, vendor, 8_000)
    asked = payments.coordinator_refund(purchase_id=purchase["id"], amount=8_000, reason="erreur", by=first)
    assert isinstance(asked, Approval) and asked.status == Approval.Status.PENDING
    assert balance(member.household.wallet_id) == 2_000  # nothing moved yet
    with pytest.raises(approvals.ApprovalRequired):
        approvals.approve(asked, by=first)
    approvals.approve(asked, by=second)
    assert Purchase.objects.get(pk=purchase["id"]).refunded == 8_000
    assert balance(member.household.wallet_id) == 10_000
    with pytest.raises(payments.RefundExceedsCaptured):
        refund(vendor, purchase["id"], 1)
    ledger_is_clean()


@pytest.mark.django_db
def test_a_coordinator_refund_needs_a_coordinator_and_a_reason():
    first, _second = coordinators()
    member = make_member("F-1", balance=5_000)
    purchase = pay(member, shop(), 1_000)
    with pytest.raises(PermissionDenied):
        payments.coordinator_refund(purchase_id=purchase["id"], amount=100, reason="x", by=make_user("benevole"))
    with pytest.raises(payments.InvalidRequest):
        payments.coordinator_refund(purchase_id=purchase["id"], amount=100, reason=" ", by=first)
    with pytest.raises(payments.RefundExceedsCaptured):
        payments.coordinator_refund(purchase_id=purchase["id"], amount=1_001, reason="trop", by=first)


def refund_from_both_sides_at_once(purchase_id, *, coordinator, key) -> dict:
    start, outcomes = threading.Barrier(2), {}

    def by_coordinator():
        try:
            start.wait()
            payments.coordinator_refund(purchase_id=purchase_id, amount=1_000, reason="correction", by=coordinator)
            outcomes["coordinator"] = "refunded"
        except payments.RefundExceedsCaptured as refused:
            outcomes["coordinator"] = refused.code
        finally:
            connections.close_all()

    def by_shop():
        start.wait()
        response = shop_refund(key, purchase_id, 1_000)
        outcomes["shop"] = "refunded" if response.status_code == 201 else response.json()["error"]["code"]

    workers = [threading.Thread(target=by_coordinator), threading.Thread(target=by_shop)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_a_coordinator_and_the_shop_refunding_at_once_credit_the_member_once():
    FundRules.objects.exists() or rules_from("2020-01")
    first, _second = coordinators()
    vendor = shop()
    key = make_key(vendor)
    member = make_member("F-1", balance=5_000)
    for round_ in range(3):
        purchase = pay(member, vendor, 1_000)
        outcomes = refund_from_both_sides_at_once(purchase["id"], coordinator=first, key=key)
        assert sorted(outcomes.values()) == ["refund_exceeds_captured", "refunded"], (round_, outcomes)
        assert Purchase.objects.get(pk=purchase["id"]).refunded == 1_000
        assert balance(member.household.wallet_id) == 5_000
    call_command("check_ledger")


@pytest.mark.django_db
def test_the_generic_reversal_refuses_a_contribution_and_its_own_correction_undoes_it(ledger_is_clean):
    first, second = coordinators()
    member = make_member("F-1")
    payment = contributions.record_payment(member.household, amount=999_999, method="transfer", reference="VIR-1")
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        approvals.request_reversal(payment.transfer_id, by=first, reason="faute de frappe")
    assert refused.value.code == "owned"
    treasury = ledger.system_account(AccountKind.TREASURY)
    before = balance(treasury.pk)
    asked = contributions.request_correction(payment, by=first, reason="9 999,99 € au lieu de 9,99 €")
    assert balance(treasury.pk) == before
    approvals.approve(asked, by=second)
    payment.refresh_from_db()
    assert payment.reversal_id and payment.corrected_at and "9,99" in payment.correction_reason
    assert balance(treasury.pk) == before - 999_999
    with pytest.raises(ValidationError):
        contributions.request_correction(payment, by=first, reason="encore")
    ledger_is_clean()


@pytest.mark.django_db
def test_a_refund_after_the_household_left_goes_back_to_the_fund_at_once(ledger_is_clean):
    vendor = shop()
    member = make_member("F-1", balance=5_000)
    purchase = pay(member, vendor, 1_000)
    enrolment.exit_household(member.household, note="départ")
    assert balance(member.household.wallet_id) == 0
    expiry = ledger.system_account(AccountKind.EXPIRY)
    before = balance(expiry.pk)
    refund(vendor, purchase["id"], 400)
    assert balance(member.household.wallet_id) == 0
    assert balance(expiry.pk) == before + 400
    ledger_is_clean()


# --- 2. check_ledger reads what each object says --------------------------------------


def check_ledger_fails_naming(label: str):
    errors = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("check_ledger", stderr=errors)
    assert failed.value.returncode == 1
    assert label in errors.getvalue(), errors.getvalue()
    return errors.getvalue()


@pytest.mark.django_db
def test_check_ledger_names_a_purchase_whose_refunds_were_changed_behind_its_back(ledger_is_clean):
    vendor = shop()
    member = make_member("F-1", balance=5_000)
    purchase = pay(member, vendor, 1_000)
    refund(vendor, purchase["id"], 300)
    ledger_is_clean()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Purchase._meta.db_table} SET refunded = 0 WHERE id = %s", [purchase["id"]])
    check_ledger_fails_naming(f"purchase #{purchase['id']}")


@pytest.mark.django_db
def test_check_ledger_names_a_purchase_undone_by_a_bare_reversal():
    vendor = shop()
    member = make_member("F-1", balance=5_000)
    purchase = pay(member, vendor, 1_000)
    ledger.reverse(Purchase.objects.get(pk=purchase["id"]).transfer_id)  # what the generic reversal did on main
    check_ledger_fails_naming(f"purchase #{purchase['id']}")


@pytest.mark.django_db
def test_check_ledger_names_a_settlement_changed_behind_its_back(ledger_is_clean):
    fund_treasury()
    first, second = coordinators()
    vendor = shop()
    pay(make_member("F-1", balance=5_000), vendor, 1_000)
    run_and_pay(first, second)
    settlement = Settlement.objects.get(vendor=vendor)
    ledger_is_clean()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Settlement._meta.db_table} SET amount = amount + 100 WHERE id = %s", [settlement.pk])
    check_ledger_fails_naming(f"settlement {settlement.number}")


@pytest.mark.django_db
def test_check_ledger_names_a_contribution_payment_changed_behind_its_back(ledger_is_clean):
    member = make_member("F-1")
    payment = contributions.record_payment(member.household, amount=1_000, method="transfer", reference="VIR-2")
    ledger_is_clean()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {ContributionPayment._meta.db_table} SET amount = 100 WHERE id = %s", [payment.pk])
    check_ledger_fails_naming(f"contribution payment #{payment.pk}")


@pytest.mark.django_db
def test_check_ledger_names_an_exited_household_whose_wallet_still_holds_units():
    member = make_member("F-9", balance=2_000)
    with connection.cursor() as cursor:  # the admin of main set the status without the service
        cursor.execute(f"UPDATE {Household._meta.db_table} SET status = 'exited' WHERE id = %s", [member.household.pk])
    check_ledger_fails_naming(f"household {member.household.reference}")


# --- 3. No one above the rules --------------------------------------------------------


@pytest.mark.django_db
def test_a_vendor_status_changes_only_by_a_committee_decision_or_the_emergency_suspension(
        mailoutbox, django_capture_on_commit_callbacks):
    from governance.models import CommitteeMembership

    coordinator = make_coordinator_with_email()
    seat = make_user("siege", email="siege@example.org")
    CommitteeMembership.objects.create(user=seat, starts_on=datetime.date(2020, 1, 1))
    vendor = make_vendor("primeur", status=S.APPROVED)
    with pytest.raises(services.DecisionRequired):
        services.change_status(vendor, S.SUSPENDED, by=coordinator, reason="plainte")
    with pytest.raises(services.DecisionRequired):  # a reference that no adopted decision has
        services.change_status(vendor, S.SUSPENDED, by=coordinator, reason="plainte", decision="CC-99999")
    with pytest.raises(services.DecisionRequired):  # a decision about another vendor
        other = make_vendor("boulangerie")
        services.change_status(vendor, S.SUSPENDED, by=coordinator, reason="x",
                               decision=adopted_decision(other, S.SUSPENDED))
    with django_capture_on_commit_callbacks(execute=True):
        services.suspend_now(vendor, by=coordinator, reason="fraude suspectée")
    vendor.refresh_from_db()
    assert vendor.status == S.SUSPENDED
    assert any("siege@example.org" in message.to for message in mailoutbox)  # the committee is told
    with pytest.raises(services.DecisionRequired):  # reinstated by one coordinator alone: no
        services.change_status(vendor, S.APPROVED, by=coordinator, reason="c'est réglé")
    services.change_status(vendor, S.APPROVED, by=coordinator, reason="vote",
                           decision=adopted_decision(vendor, S.APPROVED))
    vendor.refresh_from_db()
    assert vendor.status == S.APPROVED


@pytest.mark.django_db
def test_an_emergency_suspension_lapses_unless_the_committee_confirms_it():
    coordinator = make_coordinator_with_email()
    with time_machine.travel(datetime.datetime(2026, 11, 1, 10, tzinfo=PARIS)):
        lapsing, confirmed = make_vendor("primeur"), make_vendor("fromager")
        services.suspend_now(lapsing, by=coordinator, reason="fraude suspectée")
        services.suspend_now(confirmed, by=coordinator, reason="fraude avérée")
        services.change_status(confirmed, S.SUSPENDED, by=None, reason="le comité confirme",
                               decision=adopted_decision(confirmed, S.SUSPENDED))
    with time_machine.travel(datetime.datetime(2026, 11, 10, 10, tzinfo=PARIS)):
        assert services.lapse_emergency_suspensions() == 0
    with time_machine.travel(datetime.datetime(2026, 11, 16, 10, tzinfo=PARIS)):
        assert services.lapse_emergency_suspensions() == 1
    lapsing.refresh_from_db(), confirmed.refresh_from_db()
    assert (lapsing.status, confirmed.status) == (S.APPROVED, S.SUSPENDED)


def make_coordinator_with_email():
    return make_user("coord", roles.COORDINATOR, is_staff=True, email="coord@example.org")


@pytest.mark.django_db
def test_the_admin_status_form_cannot_reinstate_a_suspended_vendor(admin_client):
    vendor = make_vendor("primeur", status=S.SUSPENDED)
    page = admin_client.get(f"/admin/vendors/vendor/{vendor.pk}/change/").content.decode()
    assert 'name="status"' not in page
    response = admin_client.post(f"/admin/vendors/vendor/{vendor.pk}/status/",
                                 {"status": S.APPROVED, "reason": "c'est réglé", "decision": "D-1"})
    assert response.status_code == 200  # the form again, with the refusal
    vendor.refresh_from_db()
    assert vendor.status == S.SUSPENDED
    assert admin_client.post(f"/admin/vendors/vendor/{vendor.pk}/delete/", {"post": "yes"}).status_code == 403


@pytest.mark.django_db
def test_the_admin_change_form_of_a_vendor_keeps_its_status(admin_client):
    """The whole change form posted with a status in it: the other fields are saved, the
    status is not (only a committee decision or the emergency suspension changes it)."""
    from django.forms.models import model_to_dict

    vendor = make_vendor("fromagerie", status=S.SUSPENDED)
    url = f"/admin/vendors/vendor/{vendor.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    for inline in admin_client.get(url).context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
        for row in inline.formset.initial_forms:
            for name in row.fields:
                value = row[name].value()
                data[row.add_prefix(name)] = "" if value is None else getattr(value, "pk", value)
    data.update(display_name="Fromagerie du marché", status=S.APPROVED)
    response = admin_client.post(url, data)
    assert response.status_code == 302, (response.context["adminform"].form.errors,
                                         [f.formset.errors for f in response.context["inline_admin_formsets"]], data)
    vendor.refresh_from_db()
    assert vendor.display_name == "Fromagerie du marché"
    assert vendor.status == S.SUSPENDED
    assert model_to_dict(vendor)["status"] == S.SUSPENDED


@pytest.mark.django_db
def test_the_admin_cannot_change_a_household_status_nor_delete_it(admin_client):
    from django.forms.models import model_to_dict

    member = make_member("F-1", balance=1_000)
    household = member.household
    url = f"/admin/members/household/{household.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="status"' not in page
    data = {k: ("" if v is None else v) for k, v in model_to_dict(household).items()
            if k not in ("wallet", "id", "erased_at", "status_changed_at", "joined_on")}
    data["status"] = Household.Status.EXITED
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]  # saved: the other fields
    household.refresh_from_db()
    assert household.status == Household.Status.ACTIVE
    assert balance(household.wallet_id) == 1_000
    assert admin_client.post(f"/admin/members/household/{household.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Household.objects.filter(pk=household.pk).exists()
    assert admin_client.get("/admin/members/household/add/").status_code == 403


@pytest.mark.django_db
def test_the_admin_cannot_add_a_fund_rules_version_no_vote_adopted(admin_client):
    assert FundRules.objects.exists()
    count = FundRules.objects.count()
    assert admin_client.get("/admin/allocations/fundrules/add/").status_code == 403
    response = admin_client.post("/admin/allocations/fundrules/add/", {
        "effective_from": "2030-01-01", "allocation_per_household": 99_999, "supplement_per_extra_adult": 0,
        "supplement_per_child": 0, "minimum_contribution": 100, "minimum_contribution_per_extra_person": 0,
        "rollover_policy": "full", "contribution_grid": "[]",
    })
    assert response.status_code == 403
    assert FundRules.objects.count() == count


@pytest.mark.django_db
def test_the_admin_cannot_rewrite_the_fund_rules_in_force(admin_client):
    rules = FundRules.objects.order_by("effective_from").first()
    before = (rules.allocation_per_household, rules.effective_from)
    response = admin_client.post(f"/admin/allocations/fundrules/{rules.pk}/change/", {
        "effective_from": str(rules.effective_from), "allocation_per_household": 99_999,
        "supplement_per_extra_adult": 0, "supplement_per_child": 0, "minimum_contribution": 100,
        "minimum_contribution_per_extra_person": 0, "rollover_policy": "full", "contribution_grid": "[]",
    })
    assert response.status_code == 403
    rules.refresh_from_db()
    assert (rules.allocation_per_household, rules.effective_from) == before
    assert admin_client.post(f"/admin/allocations/fundrules/{rules.pk}/delete/", {"post": "yes"}).status_code == 403
    assert FundRules.objects.filter(pk=rules.pk).exists()


def test_no_command_approves_in_someone_elses_name():
    with pytest.raises(CommandError, match="Unknown command"):
        call_command("approve", "1", "--by", "someone")


# --- 4. Desk cash ---------------------------------------------------------------------


@pytest.mark.django_db
def test_cash_above_the_ceiling_waits_for_a_coordinator(ledger_is_clean):
    set_fund_settings(desk_cash_ceiling_cents=20_000)
    volunteer = make_user("benevole", roles.VOLUNTEER)
    coordinator = make_coordinator_with_email()
    member = make_member("F-1")
    session = desk.open_session(Desk.objects.create(code="centre", name="Centre"), by=volunteer)
    treasury = ledger.system_account(AccountKind.CASH)  # cash stays in 530 until deposited at the bank
    before = balance(treasury.pk)
    with translation.override("fr"), pytest.raises(desk.CashHeld) as held:
        desk.take_cash(session, member.household, amount=999_999, by=volunteer, token="t-1")
    assert "coordinat" in held.value.messages[0]
    assert not ContributionPayment.objects.exists() and balance(treasury.pk) == before
    desk.take_cash(session, member.household, amount=1_500, by=volunteer, token="t-2")  # under: as before
    waiting = HeldCash.objects.get()
    with pytest.raises(PermissionDenied):
        desk.confirm_held_cash(waiting, by=volunteer)
    payment = desk.confirm_held_cash(waiting, by=coordinator)
    assert payment.amount == 999_999 and payment.receipt_number
    assert balance(treasury.pk) == before + 999_999 + 1_500
    ledger_is_clean()


@pytest.mark.django_db
def test_a_desk_closed_with_a_difference_waits_for_a_coordinators_explanation(mailoutbox, mail_after_commit):
    volunteer = make_user("benevole", roles.VOLUNTEER)
    coordinator = make_coordinator_with_email()
    member = make_member("F-1")
    session = desk.open_session(Desk.objects.create(code="centre", name="Centre"), by=volunteer)
    desk.take_cash(session, member.household, amount=1_000, by=volunteer, token="t-1")
    with mail_after_commit():  # the coordinators are told by the mail task, after the commit
        desk.close_session(session, by=volunteer, counted_cash=800)
    session.refresh_from_db()
    assert session.difference == -200
    assert list(desk.unexplained_differences()) == [session]
    assert any("coord@example.org" in message.to for message in mailoutbox)
    desk.explain_difference(session, by=coordinator, explanation="rendu de monnaie erroné")
    assert not desk.unexplained_differences().exists()


# --- 5. Solvency everywhere -----------------------------------------------------------


@pytest.mark.django_db
def test_the_late_joiners_catch_up_refuses_when_the_reserve_is_short(no_notices, ledger_is_clean):  # noqa: F811
    fund(20_000)
    rules_from("2026-11")
    households(2)
    with time_machine.travel(datetime.datetime(2026, 11, 1, 0, 5, tzinfo=PARIS)):
        issuance.issue_due()
    assert IssuanceRun.objects.get(period="2026-11").status == IssuanceRun.Status.DONE
    late = households(1, joined_on=datetime.date(2026, 11, 21), prefix="L")[0]
    with time_machine.travel(datetime.datetime(2026, 11, 21, 6, 0, tzinfo=PARIS)):
        result = issuance.issue_late_joiners("2026-11")
    assert result.credited == 0 and ("réserve" in result.refused or "reserve" in result.refused)
    assert balance(late.wallet_id) == 0
    ledger_is_clean()


@pytest.mark.django_db
def test_a_period_two_months_ahead_is_refused(no_notices):  # noqa: F811
    fund(10_000_00)
    households(1)
    first, _second = coordinators()
    with time_machine.travel(NOV_2026):
        for attempt in (lambda: issuance.issue_period("2027-01"),
                        lambda: issuance.issue_period("2027-01", dry_run=True),
                        lambda: approvals.request_forced_issuance("2027-01", by=first, reason="avance")):
            with pytest.raises(issuance.PeriodTooFarAhead):
                attempt()
        with pytest.raises(CommandError, match="2027-01"):
            call_command("issue_allocations", "--period", "2027-01")
        assert not IssuanceRun.objects.filter(period="2027-01").exists()
        assert issuance.issue_period("2026-12", dry_run=True).would_be_refused == ""


@pytest.mark.django_db
def test_a_dry_run_says_plainly_that_the_real_run_would_be_refused(no_notices, capsys):  # noqa: F811
    households(3)
    with time_machine.travel(NOV_2026):
        result = issuance.issue_period("2026-12", dry_run=True)
        assert "2026-12" in result.would_be_refused
        call_command("issue_allocations", "--period", "2026-12", "--dry-run")
    out = capsys.readouterr().out
    assert "DRY RUN" in out and "WOULD BE REFUSED" in out
    assert not IssuanceRun.objects.exists()
