"""The registry: identifiers, the status lifecycle, IBAN changes, keys, import."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from kernel.banking import bic_valid, iban_valid, validate_bic, validate_rna, validate_siret
from vendors import services
from vendors.models import ApiKey, IbanChange, StatusChange, Vendor

from .vendor_fixtures import adopted_decision, make_coordinator, make_user, make_vendor

pytestmark = pytest.mark.django_db
S = Vendor.Status


def test_siret_rna_iban_and_bic_are_checked_by_their_check_digits():
    validate_siret("732 829 320 00074")  # a real SIRET (Luhn)
    validate_siret("35600000000010")  # La Poste: sum of digits
    for wrong in ("73282932000075", "1234", "7328293200007A"):
        with pytest.raises(ValidationError):
            validate_siret(wrong)
    validate_rna("W343001234")
    with pytest.raises(ValidationError):
        validate_rna("343001234")
    assert iban_valid("FR76 3000 6000 0112 3456 7890 189")
    assert not iban_valid("FR76 3000 6000 0112 3456 7890 188")
    assert not iban_valid("FR76300060000112345678901")  # wrong length for France
    assert iban_valid("DE89370400440532013000")
    validate_bic("AGRIFRPP")
    validate_bic("AGRIFRPP882")
    with pytest.raises(ValidationError):
        validate_bic("AGRI-FR")


def test_bank_numbers_of_every_country_are_checked_by_a_maintained_library():
    # Norway was not in the hand-written table of 13 lengths: one digit too many, with
    # check digits that agree, used to pass.
    assert iban_valid("NO93 8601 1117 947")
    assert not iban_valid("NO37860111179470")
    assert not bic_valid("AGRIZZPP")  # no country ZZ


def test_every_status_change_is_recorded_with_who_why_and_the_decision():
    coordinator = make_coordinator()
    vendor = make_vendor(status=S.APPLIED)
    services.change_status(vendor, S.UNDER_REVIEW, by=coordinator, reason="dossier complet")
    decision = adopted_decision(vendor, S.APPROVED)
    services.change_status(vendor, S.APPROVED, by=coordinator, reason="vote du comité", decision=decision)
    vendor.refresh_from_db()
    assert vendor.status == S.APPROVED
    last = vendor.status_changes.first()
    assert (last.from_status, last.to_status, last.by, last.reason, last.decision_reference) == (
        S.UNDER_REVIEW, S.APPROVED, coordinator, "vote du comité", decision)
    assert [c.to_status for c in vendor.status_changes.order_by("at", "id")] == [S.APPLIED, S.UNDER_REVIEW, S.APPROVED]


def test_impossible_steps_are_refused_and_a_revoked_vendor_may_apply_again():
    coordinator = make_coordinator()
    vendor = make_vendor(status=S.APPLIED)
    with pytest.raises(ValidationError):
        services.change_status(vendor, S.PAUSED, by=coordinator, reason="x")
    services.change_status(vendor, S.REVOKED, by=coordinator, reason="refus",
                           decision=adopted_decision(vendor, S.REVOKED))
    services.change_status(vendor, S.APPLIED, by=None, reason="nouvelle candidature")
    vendor.refresh_from_db()
    assert vendor.status == S.APPLIED


def test_a_coordinator_suspends_at_once_with_a_reason_the_committee_sees():
    coordinator = make_coordinator()
    vendor = make_vendor()
    with pytest.raises(ValidationError):
        services.suspend_now(vendor, by=coordinator, reason="  ")
    with pytest.raises(ValidationError):
        services.suspend_now(vendor, by=make_user("someone"), reason="fraude")
    change = services.suspend_now(vendor, by=coordinator, reason="Paiements suspects signalés")
    vendor.refresh_from_db()
    assert vendor.status == S.SUSPENDED and change.emergency and change.reason == "Paiements suspects signalés"


def test_the_vendor_pauses_and_resumes_itself():
    vendor = make_vendor()
    services.pause_or_resume(vendor, by=None)
    vendor.refresh_from_db()
    assert vendor.status == S.PAUSED
    services.pause_or_resume(vendor, by=None)
    vendor.refresh_from_db()
    assert vendor.status == S.APPROVED


def test_an_iban_change_takes_effect_only_when_a_second_coordinator_confirms():
    first, second = make_coordinator("coord-a"), make_coordinator("coord-b")
    vendor = make_vendor(iban="FR7630006000011234567890189", bic="AGRIFRPP")
    change = services.request_iban_change(vendor, iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX", by=first)
    vendor.refresh_from_db()
    assert vendor.iban == "FR7630006000011234567890189"  # nothing yet

    with pytest.raises(PermissionDenied):  # the same coordinator cannot confirm
        services.confirm_iban_change(change, by=first)
    with pytest.raises(PermissionDenied):  # nor can someone who is not a coordinator
        services.confirm_iban_change(change, by=make_user("vendeur"))
    with pytest.raises(ValidationError):  # one pending change at a time
        services.request_iban_change(vendor, iban="FR7630006000011234567890189", bic="AGRIFRPP", by=second)
    vendor.refresh_from_db()
    assert vendor.iban == "FR7630006000011234567890189"

    services.confirm_iban_change(change, by=second)
    vendor.refresh_from_db()
    assert (vendor.iban, vendor.bic) == ("DE89370400440532013000", "COBADEFFXXX")
    change.refresh_from_db()
    assert change.status == IbanChange.Status.CONFIRMED and change.decided_by == second


def test_an_iban_change_waits_on_the_approvals_page_like_every_four_eyes_step(client):
    from allocations import approvals
    from allocations.models import Approval
    from tests.staff import log_in_staff

    first, second = make_coordinator("coord-a"), make_coordinator("coord-b")
    vendor = make_vendor(iban="FR7630006000011234567890189", bic="AGRIFRPP")
    change = services.request_iban_change(vendor, iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX", by=first,
                                          reason="Nouvelle banque")
    approval = approvals.pending(services.IBAN_CHANGE, change.pk)
    assert (approval.requested_by, approval.reason) == (first, "Nouvelle banque")

    log_in_staff(client, second)
    page = client.get("/coordination/approvals/").content.decode()
    assert "IBAN" in page and "Nouvelle banque" in page  # the step's label, registered by vendors
    client.post(f"/coordination/approvals/{approval.pk}/", {"decision": "approve"})

    vendor.refresh_from_db()
    change.refresh_from_db()
    assert vendor.iban == "DE89370400440532013000" and change.status == IbanChange.Status.CONFIRMED
    assert Approval.objects.get(pk=approval.pk).status == Approval.Status.EXECUTED


def test_a_refused_iban_change_frees_the_vendor_for_another():
    from allocations import approvals

    first, second = make_coordinator("coord-a"), make_coordinator("coord-b")
    vendor = make_vendor(iban="FR7630006000011234567890189", bic="AGRIFRPP")
    change = services.request_iban_change(vendor, iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX", by=first)
    approvals.refuse(approvals.pending(services.IBAN_CHANGE, change.pk), by=second, reason="Appel du commerce : non")
    change.refresh_from_db()
    assert change.status == IbanChange.Status.CANCELLED
    services.request_iban_change(vendor, iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX", by=first)


def test_an_invalid_iban_is_refused_before_it_waits():
    with pytest.raises(ValidationError):
        services.request_iban_change(make_vendor(), iban="FR7630006000011234567890188", bic="AGRIFRPP",
                                     by=make_coordinator())


def test_keys_are_stored_hashed_and_shown_once_by_the_command():
    vendor = make_vendor()
    out, err = io.StringIO(), io.StringIO()
    call_command("create_vendor_key", vendor.slug, "--label", "Caisse 2", stdout=out, stderr=err)
    key = out.getvalue().strip()
    api_key = ApiKey.objects.get()
    assert key.startswith("csk_") and len(key) > 40
    assert api_key.label == "Caisse 2" and api_key.key_hash == services.hash_key(key) and key not in api_key.key_hash
    assert key.startswith(api_key.prefix)
    services.revoke_api_key(api_key)
    assert ApiKey.objects.get().revoked_at is not None


CSV = """display_name,kind,district,siret,iban,bic
Boulangerie du Marché,bakery,Centre,73282932000074,FR7630006000011234567890189,AGRIFRPP
La Ferme des Garrigues,farm,Mosson,,,
"""


def test_csv_import_dry_run_writes_nothing_then_imports():
    report = services.import_vendors(CSV, dry_run=True)
    assert report.created == ["boulangerie-du-marche", "la-ferme-des-garrigues"] and not report.errors
    assert not Vendor.objects.exists()

    out = io.StringIO()
    call_command("import_vendors", _write(CSV), stdout=out)
    assert set(Vendor.objects.values_list("slug", flat=True)) == {"boulangerie-du-marche", "la-ferme-des-garrigues"}
    assert StatusChange.objects.count() == 2
    # Again: nothing twice.
    report = services.import_vendors(CSV, dry_run=False)
    assert report.skipped == ["boulangerie-du-marche", "la-ferme-des-garrigues"] and not report.created


def test_csv_import_with_one_bad_line_imports_nothing_and_says_where():
    bad = CSV + "Épicerie Sans Siret,grocery,Centre,12345678901234,,\n"
    report = services.import_vendors(bad, dry_run=False)
    assert report.errors and report.errors[0][0] == 4 and "siret" in report.errors[0][1]
    assert not Vendor.objects.exists()


def _write(text):
    import tempfile

    handle = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8")
    handle.write(text)
    handle.close()
    return handle.name
