"""Contributions by SEPA direct debit: mandates, the pain.008 collection file (validated
against the official XSD), its confirmation, and the bank's returns (arrears again)."""

import os
from datetime import date, datetime, time, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
import sepaxml
import time_machine
import xmlschema
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from allocations import ledger, periods
from allocations.models import AccountKind, Transfer, TransferKind
from members import contributions, direct_debits, privacy
from members.models import ContributionPayment, DirectDebit, DirectDebitCollection, DirectDebitMandate, Household
from tests.test_households import active_household, user_with
from users import roles

from .staff import log_in_staff

pytestmark = pytest.mark.django_db
SCHEMAS = Path(os.path.dirname(sepaxml.__file__)) / "schemas"
NS = {"p": f"urn:iso:std:iso:20022:tech:xsd:{direct_debits.SCHEMA}"}
PERIOD = periods.shift(periods.current(), -1)  # last month: its contribution is due


def collected_on():
    """A collection date already past: a collection is confirmed only from that day."""
    return timezone.localdate() - timedelta(days=3)


@pytest.fixture(autouse=True)
def fund_bank(settings):
    settings.FUND_BANK_IBAN = "FR7630006000011234567890189"
    settings.FUND_BANK_BIC = "AGRIFRPPXXX"
    settings.FUND_SEPA_CREDITOR_ID = "FR12ZZZ123456"


def with_mandate(name="Ana", reference=None, amount=1500, iban="FR1420041010050500013M02606", bic="PSSTFRPPMON"):
    household = active_household(first_name=name)
    Household.objects.filter(pk=household.pk).update(
        monthly_contribution=amount, joined_on=periods.parse(PERIOD)
    )
    household.refresh_from_db()
    direct_debits.record_mandate(
        household,
        reference=reference or f"RUM-{household.reference}",
        signed_on=date(2024, 1, 15),
        debtor_name=f"{name} Test",
        iban=iban,
        bic=bic,
    )
    return household


def parse(content: bytes):
    xmlschema.XMLSchema(str(SCHEMAS / f"{direct_debits.SCHEMA}.xsd")).validate(content.decode())
    return ElementTree.fromstring(content)


def test_a_mandate_needs_a_valid_iban_and_bic_and_replaces_the_one_in_force():
    household = active_household()
    with pytest.raises(ValidationError):
        direct_debits.record_mandate(
            household, reference="RUM-1", signed_on=date(2024, 1, 1), debtor_name="Ana", iban="FR7630006000011234567890188"
        )
    with pytest.raises(ValidationError):
        direct_debits.record_mandate(
            household, reference="RUM-1", signed_on=date(2024, 1, 1), debtor_name="Ana",
            iban="FR1420041010050500013M02606", bic="NOPE",
        )
    first = direct_debits.record_mandate(
        household, reference="RUM-1", signed_on=date(2024, 1, 1), debtor_name="Ana",
        iban="fr14 2004 1010 0505 0001 3M02 606",
    )
    assert first.iban == "FR1420041010050500013M02606"
    second = direct_debits.record_mandate(
        household, reference="RUM-2", signed_on=date(2024, 2, 1), debtor_name="Ana", iban="FR7630006000011234567890189"
    )
    first.refresh_from_db()
    assert first.revoked_on is not None and second.revoked_on is None


def test_the_collection_file_validates_with_frst_then_rcur(ledger_is_clean):
    ana = with_mandate("Ana", amount=1500)
    ben = with_mandate("Ben", amount=300, bic="")
    paused = with_mandate("Cleo", amount=700)
    Household.objects.filter(pk=paused.pk).update(status=Household.Status.EXITED)
    contributions.choose(ana, 2000, period=PERIOD)  # what the household chose for the period wins

    collection = direct_debits.prepare_collection(PERIOD, collection_date=collected_on())
    assert {(d.household_id, d.amount, d.sequence) for d in collection.debits.all()} == {
        (ana.pk, 2000, "FRST"), (ben.pk, 300, "FRST")
    }
    payment_file = direct_debits.collection_file(collection)
    root = parse(payment_file.content)
    assert root.find(".//p:GrpHdr/p:MsgId", NS).text == collection.message_id
    assert root.find(".//p:GrpHdr/p:CtrlSum", NS).text == "23.00"
    assert root.find(".//p:PmtTpInf/p:SeqTp", NS).text == "FRST"
    assert root.find(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", NS).text == "FR12ZZZ123456"
    assert {n.text for n in root.iterfind(".//p:MndtId", NS)} == {f"RUM-{ana.reference}", f"RUM-{ben.reference}"}
    assert (payment_file.count, payment_file.total) == (2, 2300)

    assert direct_debits.confirm_collection(collection) == 2
    assert direct_debits.confirm_collection(collection) == 2  # a repeat records nothing twice
    assert ContributionPayment.objects.filter(method="sepa").count() == 2
    assert contributions.arrears(ana, periods.current()).months == 0
    with pytest.raises(ValidationError):
        direct_debits.prepare_collection(PERIOD)  # confirmed: frozen

    # The next month, the same mandates are recurring.
    following = direct_debits.prepare_collection(periods.current())
    assert {d.sequence for d in following.debits.all()} == {"RCUR"}
    root = parse(direct_debits.collection_file(following).content)
    assert {n.text for n in root.iterfind(".//p:PmtTpInf/p:SeqTp", NS)} == {"RCUR"}
    ledger_is_clean()


def test_the_collection_date_follows_the_setting_or_the_earliest_the_bank_accepts(settings):
    from allocations import fund

    settings.SEPA_DD_COLLECTION_DAY = 5  # the environment's value: the setting's default, read once
    assert direct_debits.collection_date_for("2030-03", today=date(2030, 2, 20)) == date(2030, 3, 5)
    assert direct_debits.collection_date_for("2030-03", today=date(2030, 3, 10)) == date(2030, 3, 12)
    fund.update_settings(by=None, collection_day=28)  # then the coordinators' setting
    assert direct_debits.collection_date_for("2030-02", today=date(2030, 1, 1)) == date(2030, 2, 28)


def test_a_household_that_already_paid_the_month_is_not_debited_again():
    ana = with_mandate("Ana", amount=1500)
    contributions.record_payment(ana, amount=1000, method="transfer", reference="VIR-1", period=PERIOD)
    collection = direct_debits.prepare_collection(PERIOD)
    assert [d.amount for d in collection.debits.all()] == [500]


def test_no_file_without_the_funds_creditor_identifier(settings):
    with_mandate("Ana")
    settings.FUND_SEPA_CREDITOR_ID = ""
    with pytest.raises(ValidationError):
        direct_debits.collection_file(direct_debits.prepare_collection(PERIOD))


def test_a_rejected_debit_is_reversed_and_the_month_is_owed_again(ledger_is_clean):
    ana = with_mandate("Ana", amount=1500)
    collection = direct_debits.prepare_collection(PERIOD, collection_date=collected_on())
    direct_debits.confirm_collection(collection)
    treasury = ledger.system_account(AccountKind.TREASURY)
    assert contributions.arrears(ana, periods.current()).months == 0
    coordinator = user_with(roles.COORDINATOR)

    payment = direct_debits.record_rejection(f"RUM-{ana.reference}", PERIOD, "am04", by=coordinator)
    assert payment.rejected_at is not None and payment.rejection_reason == "AM04"
    assert payment.rejection_recorded_by == coordinator
    reversal = Transfer.objects.get(pk=payment.reversal_id)
    assert (reversal.kind, reversal.reverses_id, reversal.amount) == (TransferKind.REVERSAL, payment.transfer_id, 1500)
    treasury_after = ledger.system_account(AccountKind.TREASURY).balance
    assert treasury_after == treasury.balance - 1500
    # Recorded twice (the bank's file read again): reversed once.
    direct_debits.record_rejection(f"RUM-{ana.reference}", PERIOD, "AM04")
    assert Transfer.objects.filter(reverses_id=payment.transfer_id).count() == 1

    owed = contributions.arrears(ana, periods.current())
    assert (owed.amount, owed.months, owed.unpaid_periods) == (1500, 1, [PERIOD])
    assert contributions.monthly_statement(ana, PERIOD)["paid"] == 0
    # After a return the mandate's next debit is a first one again.
    assert direct_debits.sequence_for(DirectDebitMandate.objects.get(household=ana)) == DirectDebit.Sequence.FIRST
    ledger_is_clean()


def test_a_rejection_needs_a_collected_debit_and_a_reason_code():
    ana = with_mandate("Ana")
    with pytest.raises(ValidationError):
        direct_debits.record_rejection(f"RUM-{ana.reference}", PERIOD, "AM04")
    direct_debits.confirm_collection(direct_debits.prepare_collection(PERIOD, collection_date=collected_on()))
    with pytest.raises(ValidationError):
        direct_debits.record_rejection(f"RUM-{ana.reference}", PERIOD, "insufficient")


def test_erasure_blanks_the_debtors_bank_details_and_keeps_the_money_records():
    ana = with_mandate("Ana")
    direct_debits.confirm_collection(direct_debits.prepare_collection(PERIOD, collection_date=collected_on()))
    privacy.erase(ana)
    mandate = DirectDebitMandate.objects.get(household=ana)
    assert (mandate.debtor_name, mandate.iban, mandate.bic) == ("", "", "")
    assert mandate.revoked_on is not None
    assert ContributionPayment.objects.filter(household=ana, method="sepa").count() == 1


def test_the_coordinators_page_prepares_downloads_confirms_and_records_a_return(client):
    ana = with_mandate("Ana", amount=1500)
    coordinator = user_with(roles.COORDINATOR)
    volunteer = user_with(roles.VOLUNTEER)
    log_in_staff(client, volunteer)
    assert client.get(reverse("coordination:direct_debits")).status_code == 403

    log_in_staff(client, coordinator)
    url = reverse("coordination:direct_debits")
    assert client.get(url).status_code == 200
    response = client.post(url, {"period": PERIOD})
    collection = ana.direct_debits.get().collection
    assert response.status_code == 302
    detail = reverse("coordination:direct_debit", args=[collection.pk])
    page = client.get(detail)
    assert page.status_code == 200 and f"RUM-{ana.reference}".encode() in page.content
    download = client.get(reverse("coordination:direct_debit_file", args=[collection.pk]))
    assert download.status_code == 200
    parse(download.content)
    client.post(reverse("coordination:direct_debit_confirm", args=[collection.pk]))
    assert not ContributionPayment.objects.filter(household=ana, method="sepa").exists()  # not before its date
    collection.refresh_from_db()
    with time_machine.travel(timezone.make_aware(datetime.combine(collection.collection_date, time(12)))):
        log_in_staff(client, coordinator)
        client.post(reverse("coordination:direct_debit_confirm", args=[collection.pk]))
    assert ContributionPayment.objects.filter(household=ana, method="sepa").exists()
    client.post(reverse("coordination:direct_debit_reject"), {"mandate": f"RUM-{ana.reference}", "period": PERIOD, "reason": "MS02"})
    assert ContributionPayment.objects.get(household=ana, method="sepa").rejection_reason == "MS02"


def test_the_management_command_writes_the_file(tmp_path):
    with_mandate("Ana")
    out = tmp_path / "dd.xml"
    call_command("direct_debits", "prepare", PERIOD, "--output", str(out))
    parse(out.read_bytes())
    with pytest.raises(CommandError):
        call_command("direct_debits", "confirm", PERIOD)  # before its collection date
    day = DirectDebitCollection.objects.get(period=PERIOD).collection_date
    with time_machine.travel(timezone.make_aware(datetime.combine(day, time(12)))):
        call_command("direct_debits", "confirm", PERIOD)
    assert ContributionPayment.objects.filter(method="sepa", period=PERIOD).count() == 1



def test_a_household_paused_when_the_month_began_is_not_debited():
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from members import enrolment

    ana, ben = with_mandate("Ana"), with_mandate("Ben")
    enrolment.pause(ben, reason="health")
    # Dated the day before the month began, as if paused then: contributions suspended.
    began = timezone.make_aware(datetime.combine(periods.parse(PERIOD), time.min))
    ben.status_changes.filter(status_to=Household.Status.PAUSED).update(at=began - timedelta(days=1))
    collection = direct_debits.prepare_collection(PERIOD)
    assert [debit.household_id for debit in collection.debits.all()] == [ana.pk]
    assert contributions.arrears(ben).months == 0 and contributions.arrears(ana).months == 1


def test_a_collection_is_not_confirmed_before_its_collection_date():
    ana = with_mandate("Ana", amount=1500)
    collection = direct_debits.prepare_collection(PERIOD, collection_date=timezone.localdate() + timedelta(days=2))
    with pytest.raises(ValidationError):
        direct_debits.confirm_collection(collection)
    assert not ContributionPayment.objects.filter(household=ana).exists()
    with time_machine.travel(timezone.make_aware(datetime.combine(collection.collection_date, time(9)))):
        assert direct_debits.confirm_collection(collection) == 1
    payment = ContributionPayment.objects.get(household=ana)
    assert payment.transfer.value_date == collection.collection_date  # the books date it at the bank's day


def test_a_returned_debit_six_weeks_later_is_reversed_and_the_month_presented_again(ledger_is_clean):
    ana = with_mandate("Ana", amount=1500)
    ben = with_mandate("Ben", amount=700)
    collection = direct_debits.prepare_collection(PERIOD, collection_date=timezone.localdate() - timedelta(weeks=6))
    direct_debits.confirm_collection(collection)
    with pytest.raises(ValidationError):
        direct_debits.prepare_representation(PERIOD)  # nothing returned yet
    direct_debits.record_rejection(f"RUM-{ana.reference}", PERIOD, "AM04")
    assert contributions.arrears(ana, periods.current()).unpaid_periods == [PERIOD]

    again = direct_debits.prepare_representation(PERIOD, collection_date=collected_on())
    assert again.presentation == 2 and again.period == PERIOD
    assert direct_debits.prepare_representation(PERIOD).pk == again.pk  # made once
    debit = again.debits.get()
    assert (debit.household_id, debit.amount, debit.sequence) == (ana.pk, 1500, DirectDebit.Sequence.FIRST)
    assert debit.end_to_end_id != collection.debits.get(household=ana).end_to_end_id
    parse(direct_debits.collection_file(again).content)
    assert direct_debits.confirm_collection(again) == 1
    assert contributions.arrears(ana, periods.current()).months == 0
    assert ContributionPayment.objects.filter(household=ben).count() == 1
    # Returned again: the second presentation's payment, its own key.
    direct_debits.record_rejection(f"RUM-{ana.reference}", PERIOD, "AM04", presentation=2)
    assert contributions.arrears(ana, periods.current()).unpaid_periods == [PERIOD]
    assert ContributionPayment.objects.filter(household=ana, rejected_at__isnull=False).count() == 2
    ledger_is_clean()
