"""`ledger_transfer()`: on PostgreSQL, a transfer is one round trip (allocations.ledger).

It does what ledger.transfer() does statement by statement on SQLite, in the same order:
the key's lock (or, for a till, a try at it) and look-up, both accounts locked in ascending id order and read, every
check, and only then the two balance updates and the transfer row. A refusal writes
nothing, so no savepoint is needed around it.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION ledger_transfer(
    p_debit bigint, p_credit bigint, p_amount bigint, p_kind text, p_key text, p_reverses bigint,
    p_memo text, p_at timestamptz, p_may_go_negative text[], p_wait boolean, p_up_to boolean,
    OUT transfer_id bigint, OUT outcome text, OUT unit text, OUT debit_balance bigint, OUT moved bigint
) LANGUAGE plpgsql AS $$
DECLARE
    account record;
    debit_kind text;
    credit_unit text;
BEGIN
    IF p_debit = p_credit THEN
        RAISE check_violation USING MESSAGE = 'a transfer needs two distinct accounts',
            CONSTRAINT = 'transfer_distinct_accounts';
    END IF;
    IF p_key IS NOT NULL THEN
        -- Same-key transfers queue here, so the look-up below sees a finished first one;
        -- or, without p_wait, the second is told at once that the first is under way.
        IF p_wait THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('ledger:' || p_key, 0));
        ELSIF NOT pg_try_advisory_xact_lock(hashtextextended('ledger:' || p_key, 0)) THEN
            outcome := 'busy';
            RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM allocations_transfer t WHERE t.idempotency_key = p_key) THEN
            outcome := 'replayed';
            RETURN;
        END IF;
    END IF;
    FOR account IN
        SELECT a.id, a.unit, a.kind, a.balance FROM allocations_account a
        WHERE a.id IN (p_debit, p_credit) ORDER BY a.id FOR UPDATE
    LOOP
        IF account.id = p_debit THEN
            unit := account.unit; debit_kind := account.kind; debit_balance := account.balance;
        ELSE
            credit_unit := account.unit;
        END IF;
    END LOOP;
    IF unit IS NULL THEN
        outcome := 'no_debit_account';
    ELSIF credit_unit IS NULL THEN
        outcome := 'no_credit_account';
    ELSIF unit <> credit_unit THEN
        outcome := 'unit_mismatch';
    ELSE
        moved := p_amount;
        IF debit_balance < p_amount AND NOT debit_kind = ANY (p_may_go_negative) THEN
            -- Short: with p_up_to, what the account holds moves (a partial payment).
            IF p_up_to AND debit_balance > 0 THEN
                moved := debit_balance;
            ELSE
                moved := NULL;
                outcome := 'insufficient_funds';
                RETURN;
            END IF;
        END IF;
        UPDATE allocations_account SET balance = balance - moved WHERE id = p_debit;
        UPDATE allocations_account SET balance = balance + moved WHERE id = p_credit;
        INSERT INTO allocations_transfer
            (debit_id, credit_id, unit, amount, kind, idempotency_key, reverses_id, memo, created_at)
        VALUES (p_debit, p_credit, unit, moved, p_kind, p_key, p_reverses, p_memo, p_at)
        RETURNING id INTO transfer_id;
        outcome := 'posted';
    END IF;
END;
$$;
"""
BACKWARD = """
DROP FUNCTION ledger_transfer(bigint, bigint, bigint, text, text, bigint, text, timestamptz, text[], boolean, boolean);
"""


def forward(apps, schema_editor):
    schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("allocations", "0008_grants")]
    operations = [migrations.RunPython(forward, backward)]
