"""IBAN changes now wait through the one four-eyes mechanism (allocations.Approval): a change
that was waiting when this migration runs gets its approval request, so that a second
coordinator can still confirm it."""

from django.db import migrations


def forwards(apps, schema_editor):
    Approval = apps.get_model("allocations", "Approval")
    IbanChange = apps.get_model("vendors", "IbanChange")
    for change in IbanChange.objects.filter(status="pending"):
        Approval.objects.get_or_create(
            action="iban_change", target=str(change.pk), status="pending",
            defaults={"requested_by_id": change.requested_by_id, "requested_at": change.requested_at,
                      "reason": change.reason or f"New IBAN for vendor #{change.vendor_id}: {change.iban}"},
        )


def backwards(apps, schema_editor):
    apps.get_model("allocations", "Approval").objects.filter(action="iban_change", status="pending").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("allocations", "0011_approval_steps_registered_by_apps"),
        ("vendors", "0007_bank_numbers_checked_by_kernel"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
