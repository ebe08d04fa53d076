"""Advisory locks: their names, their ids, and the order in which they are taken.

Every advisory lock of Caisse is named here by a namespace and the parts that make it
unique ("ledger", key), and its id is computed by PostgreSQL from that name:
`hashtextextended('<namespace>:<parts joined by :>', 0)`, a 64-bit hash. One formula
for every lock, so two locks can only collide by hash, never because two modules chose
numbers the same way; and the ledger's SQL function (allocations migrations 0009 and
0014, `ledger_transfer`) spells the ledger's locks the same way (`LEDGER_KEY`, `BOOKS`),
which a test checks against the function in the database.

All are transaction-scoped (`pg_advisory_xact_lock`): released at commit or rollback,
never leaked by an exception.

Lock order
----------
A transaction that takes several locks takes them in this order, never the reverse;
a deadlock needs two transactions taking the same two locks in opposite orders:

1. `SETTLEMENT_RUNS`: one settlement run at a time (vendors.settlements).
2. Rows of the domain objects a service changes, each kind in primary-key order, with
   `select_for_update()`: an approval first, then what it carries out (a settlement run,
   then its settlements; an IBAN change, then its vendor); a card (PIN attempts, in
   their own transaction); an issuance run, then its chunk.
3. `CARD_DAILY_CAP` (vendor, card): one card's purchases at one shop, while the day's
   total is checked against the fund's cap (vendors.payments).
4. `LEDGER_KEY` (idempotency key): one transfer with this key at a time; a payment
   only tries it (`wait=False`) and answers `request_in_progress` when it is taken.
5. `BOOKS` (no parts), the books' closing: every transfer posted by ledger_transfer holds
   it *shared* (`pg_advisory_xact_lock_shared`, after its key, before its accounts), so
   that the closing of a financial year (coordination.books.close_year), which takes it
   alone (`shared=False`) after its approval's row and takes nothing after it, waits for
   the transfers under way to commit, and the next ones wait for the closing (briefly:
   the closing builds its FEC before it takes the lock, and only counts under it).
6. Ledger accounts, last and briefly: the debit and credit rows `FOR UPDATE` in id order
   (ledger_transfer, and the issuance's `FOR UPDATE OF a` on wallets in id order).

Keep atomic blocks short: a lock is held to the end of its transaction.
"""

from __future__ import annotations

LEDGER_KEY = "ledger"
CARD_DAILY_CAP = "card-daily-cap"
SETTLEMENT_RUNS = "settlement-runs"
BOOKS = "books"


def name(namespace: str, *parts) -> str:
    return ":".join([namespace, *map(str, parts)])


def id_sql(name_sql: str = "%s") -> str:
    """The SQL expression of a lock's id, from the SQL expression of its name."""
    return f"hashtextextended({name_sql}, 0)"


def name_sql(namespace: str, parts_sql: str) -> str:
    """The SQL expression of a lock's name, its parts an SQL text expression (a column,
    a parameter of a function): how SQL code names the same lock as `name`."""
    return f"'{namespace}:' || {parts_sql}"


def lock(cursor, namespace: str, *parts, wait: bool = True, shared: bool = False) -> bool:
    """Take the lock for the rest of the transaction; without `wait`, only if it is free
    (False when another transaction holds it). `shared`: alongside other shared holders,
    never with an exclusive one (BOOKS)."""
    function = ("pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock") + ("_shared" if shared else "")
    cursor.execute(f"SELECT {function}({id_sql()})", [name(namespace, *parts)])
    row = cursor.fetchone()
    return True if wait else bool(row[0])
