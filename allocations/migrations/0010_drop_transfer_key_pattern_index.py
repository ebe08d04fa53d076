"""Drop the pattern-matching (LIKE) index Django adds beside the unique index of every
CharField on PostgreSQL: no query looks transfers up by a key prefix, and every transfer
paid for writing it."""

from django.db import migrations


def forward(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS allocations_transfer_idempotency_key_e5eba5d8_like")


def backward(apps, schema_editor):
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS allocations_transfer_idempotency_key_e5eba5d8_like "
        "ON allocations_transfer (idempotency_key varchar_pattern_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [("allocations", "0009_ledger_transfer_function")]
    operations = [migrations.RunPython(forward, backward)]
