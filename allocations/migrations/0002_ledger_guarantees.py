"""What the database itself guarantees about the ledger, beyond Django's constraints.

- Transfers are immutable: a trigger rejects UPDATE and DELETE.
- Both sides of a transfer hold its unit: (account, unit) foreign keys.
- The fund's system accounts, one per kind.
"""

from django.db import migrations

PG_FORWARD = """
CREATE FUNCTION allocations_transfer_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'ledger transfers are immutable: ' || TG_OP || ' of transfer ' || OLD.id
                  || ' refused; post a reversal instead',
        ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER allocations_transfer_immutable
    BEFORE UPDATE OR DELETE ON allocations_transfer
    FOR EACH ROW EXECUTE FUNCTION allocations_transfer_immutable();
ALTER TABLE allocations_transfer
    ADD CONSTRAINT transfer_debit_unit_fk FOREIGN KEY (debit_id, unit)
        REFERENCES allocations_account (id, unit) DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT transfer_credit_unit_fk FOREIGN KEY (credit_id, unit)
        REFERENCES allocations_account (id, unit) DEFERRABLE INITIALLY DEFERRED;
"""
PG_BACKWARD = """
ALTER TABLE allocations_transfer DROP CONSTRAINT transfer_debit_unit_fk, DROP CONSTRAINT transfer_credit_unit_fk;
DROP TRIGGER allocations_transfer_immutable ON allocations_transfer;
DROP FUNCTION allocations_transfer_immutable();
"""
SYSTEM_ACCOUNTS = {
    "treasury": "EUR",
    "grants": "EUR",
    "contributions": "EUR",
    "reimbursements": "EUR",
    "issuance": "UNIT",
    "expiry": "UNIT",
}


def forward(apps, schema_editor):
    schema_editor.execute(PG_FORWARD)
    Account = apps.get_model("allocations", "Account")
    for code, unit in SYSTEM_ACCOUNTS.items():
        Account.objects.get_or_create(code=code, defaults={"kind": code, "unit": unit})


def backward(apps, schema_editor):
    schema_editor.execute(PG_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("allocations", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
