"""The books' lock in `ledger_transfer()` (issue 16, a closing without a race): every
transfer it posts holds the `books` advisory lock shared (kernel.locks.BOOKS), after its
key and before its accounts; the closing of a financial year takes it alone, so that no
transfer is under way (an id taken, not yet committed) while the closing reads what its
FEC holds and where it stops. Otherwise as in migration 0012: same signature, replaced.
"""

import importlib

from django.db import migrations

function_0012 = importlib.import_module("allocations.migrations.0012_bank_in_the_books")

ACCOUNTS_LOCKED = "    FOR account IN\n"
BOOKS_LOCK = (
    "    -- The books' lock, shared: a financial year's closing, which takes it alone, waits for\n"
    "    -- this transfer's commit, or this transfer for the closing's (kernel.locks.BOOKS).\n"
    "    PERFORM pg_advisory_xact_lock_shared(hashtextextended('books', 0));\n"
)
assert function_0012.NEW_FUNCTION.count(ACCOUNTS_LOCKED) == 1
OLD_FUNCTION = function_0012.NEW_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
NEW_FUNCTION = OLD_FUNCTION.replace(ACCOUNTS_LOCKED, BOOKS_LOCK + ACCOUNTS_LOCKED)


class Migration(migrations.Migration):

    dependencies = [
        ('allocations', '0013_cash_apart_from_the_bank'),
    ]

    operations = [
        migrations.RunSQL(sql=NEW_FUNCTION, reverse_sql=OLD_FUNCTION),
    ]
