"""The association's books: the ledger's movements of a financial year as double-entry
accounting entries, exported as a FEC (Fichier des Écritures Comptables) and a plain CSV,
and the reconciliation figures of the bank account.

What becomes an entry, and why (the defaults of a French association, ANC 2018-06):

- Euros move only on grants, contributions, vendor reimbursements, cash deposits and the
  bank's fees; the treasury account of the ledger *is* the bank account (512); cash taken
  at the desks is in its own account (530, journal CA) until the bank's statement shows
  it deposited.

  =================  =========================================  ==========================
  transfer kind      debit                                      credit
  =================  =========================================  ==========================
  grant              512 Banque                                 740 Subventions d'exploitation
  contribution       512 Banque (530 Caisse when paid in cash)   756 Cotisations
  cash_deposit       512 Banque                                 530 Caisse
  bank_fee           627 Services bancaires et assimilés        512 Banque
  purchase           657 Aides financières (allocations         401 Fournisseurs, the vendor
                     alimentaires dépensées)                    as auxiliary account
  refund             401 Fournisseurs, the vendor               657 Aides financières
  reimbursement      401 Fournisseurs, the vendor               512 Banque
  reversal           the entry of the transfer it reverses, debit and credit swapped
                     (a contre-passation)
  =================  =========================================  ==========================

- A unit issued to a wallet is a promise, not yet an expense: the household may never
  spend it (expiry, exit), and no euro leaves the bank. The fund's expense — the food
  aid it gives — is recognised when a member *spends* units at an approved shop: the
  goods are delivered, and from then on the fund owes the shop euros (401). Paying the
  shop settles that debt from the bank. So allocations, expiry, exits and the units side
  of a settlement (vendor → issuance) make no entry; the units in circulation at the
  year's end are an off-balance commitment (engagement donné), given beside the books
  (`year_totals().commitments`) for the notes to the accounts. An accountant who prefers
  to book the year-end commitment as dedicated funds (689/19) does it by hand from there.
- 401's balance is then what the ledger's vendor accounts say the fund owes the shops
  (a refund after a settlement leaves a vendor's auxiliary account debit, as it does in
  the ledger); 512's balance is the treasury's.
- Vendors are auxiliary accounts (CompAuxNum F000012) of 401. No household is named
  anywhere: a contribution is booked as "Cotisation" with its ledger reference only.

The chart is configurable: `settings.ACCOUNTING_CHART` maps a key — an account kind
("treasury", "vendor") or a transfer kind ("grant", "contribution", "purchase") — to an
(account number, label) pair and overrides the defaults key by key (658 or a 60x account
for "purchase", for instance). Which transfer kind makes which entry is the accounting
logic itself, fixed here.

Dates: an entry is dated by its transfer's value date — the bank's date for a movement
the bank made (a settlement paid, a grant received, a direct debit collected), else the
fund's day of the transfer's creation (Transfer.value_date, issue 16).

Numbering: one entry per transfer, numbered per journal in the order of the ledger
(value date, created_at, id) over the financial year, so that the numbers are continuous as the FEC
asks. A movement dated back into a year after it was exported (a late grant receipt)
renumbers the later entries of that year: export a year's FEC once it is over.

Scale: the entries are read with a server-side cursor and written line by line; a year
of a million transfers is never in memory (views stream them).
"""

from __future__ import annotations

import gzip
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import chain

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allocations import approvals
from allocations.ledger import system_account
from allocations.models import AccountKind, Transfer, TransferKind
from kernel import csv as kernel_csv
from kernel import locks
from kernel.errors import DomainError

DEFAULT_CHART: dict[str, tuple[str, str]] = {
    AccountKind.TREASURY.value: ("512000", "Banque"),
    AccountKind.CASH.value: ("530000", "Caisse"),
    TransferKind.GRANT.value: ("740000", "Subventions d'exploitation"),
    TransferKind.CONTRIBUTION.value: ("756000", "Cotisations"),
    AccountKind.VENDOR.value: ("401100", "Fournisseurs - commerçants conventionnés"),
    TransferKind.PURCHASE.value: ("657000", "Aides financières - allocations alimentaires"),
    TransferKind.BANK_FEE.value: ("627000", "Services bancaires et assimilés"),
}

JOURNALS = {"BQ": "Banque", "CA": "Caisse", "AL": "Allocations alimentaires"}

# transfer kind → (journal, chart key debited, chart key credited)
RULES: dict[str, tuple[str, str, str]] = {
    TransferKind.GRANT: ("BQ", AccountKind.TREASURY, TransferKind.GRANT),
    TransferKind.CONTRIBUTION: ("BQ", AccountKind.TREASURY, TransferKind.CONTRIBUTION),
    TransferKind.REIMBURSEMENT: ("BQ", AccountKind.VENDOR, AccountKind.TREASURY),
    TransferKind.PURCHASE: ("AL", TransferKind.PURCHASE, AccountKind.VENDOR),
    TransferKind.REFUND: ("AL", AccountKind.VENDOR, TransferKind.PURCHASE),
    TransferKind.CASH_DEPOSIT: ("BQ", AccountKind.TREASURY, AccountKind.CASH),
    TransferKind.BANK_FEE: ("BQ", TransferKind.BANK_FEE, AccountKind.TREASURY),
}
# A contribution taken in cash is booked in the cash journal, to the cash account (530).
CASH_CONTRIBUTION = ("CA", AccountKind.CASH, TransferKind.CONTRIBUTION)


def _rule(effective: str, in_cash: bool) -> tuple[str, str, str]:
    return CASH_CONTRIBUTION if in_cash and effective == TransferKind.CONTRIBUTION else RULES[effective]

LABELS = {
    TransferKind.GRANT: "Subvention reçue",
    TransferKind.CONTRIBUTION: "Cotisation",
    TransferKind.REIMBURSEMENT: "Remboursement commerçant",
    TransferKind.PURCHASE: "Achats en MonA",
    TransferKind.REFUND: "Remboursement d'achat",
    TransferKind.CASH_DEPOSIT: "Remise d'espèces en banque",
    TransferKind.BANK_FEE: "Frais bancaires",
}

FEC_COLUMNS = [
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum",
    "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet",
    "ValidDate", "Montantdevise", "Idevise",
]
CSV_COLUMNS = ["journal", "entry", "date", "account", "account_label", "auxiliary", "auxiliary_label", "piece",
               "label", "debit", "credit"]
FETCH = 2000


def chart() -> dict[str, tuple[str, str]]:
    return {**DEFAULT_CHART, **{str(k): tuple(v) for k, v in getattr(settings, "ACCOUNTING_CHART", {}).items()}}


# --- Financial years --------------------------------------------------------------------


def year_bounds(year: int) -> tuple[date, date]:
    """First day of financial year `year` (the year it starts in) and first day of the next."""
    month = getattr(settings, "FINANCIAL_YEAR_START_MONTH", 1)
    return date(year, month, 1), date(year + 1, month, 1)


def current_year(today: date | None = None) -> int:
    today = today or timezone.localdate()
    return today.year if today.month >= getattr(settings, "FINANCIAL_YEAR_START_MONTH", 1) else today.year - 1


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def year_label(year: int) -> str:
    start, end = year_bounds(year)
    return str(year) if start.month == 1 else f"{year}-{end.year}"


# --- Entries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    account: str
    account_label: str
    auxiliary: str
    auxiliary_label: str
    debit: int  # cents
    credit: int


@dataclass(frozen=True)
class Entry:
    journal: str
    number: str
    day: date
    piece: str
    label: str
    lines: tuple[Line, Line]


def _entries_sql() -> str:
    transfer = Transfer._meta.db_table
    from vendors.models import Settlement, Vendor

    vendor, settlement = Vendor._meta.db_table, Settlement._meta.db_table
    journal_case = (
        f"CASE WHEN COALESCE(o.kind, t.kind) = '{TransferKind.CONTRIBUTION}' AND {_IN_CASH} THEN '{CASH_CONTRIBUTION[0]}' "
        "ELSE CASE COALESCE(o.kind, t.kind) " + " ".join(
            f"WHEN '{kind}' THEN '{journal}'" for kind, (journal, _d, _c) in RULES.items()) + " END END")
    return f"""
        SELECT t.id, t.kind, COALESCE(o.kind, t.kind), t.amount,
               t.day,
               COALESCE(vd.id, vc.id, sv.id), COALESCE(vd.display_name, vc.display_name, sv.display_name),
               s.number, CASE WHEN COALESCE(o.kind, t.kind) = 'grant' THEN COALESCE(o.memo, t.memo) ELSE '' END,
               t.reverses_id, {journal_case}, {_IN_CASH},
               ROW_NUMBER() OVER (PARTITION BY {journal_case} ORDER BY t.day, t.created_at, t.id)
        FROM ({_dated(transfer)}) t
        LEFT JOIN {transfer} o ON o.id = t.reverses_id
        LEFT JOIN {vendor} vd ON vd.account_id = t.debit_id
        LEFT JOIN {vendor} vc ON vc.account_id = t.credit_id
        LEFT JOIN {settlement} s ON s.euros_transfer_id = COALESCE(t.reverses_id, t.id)
        LEFT JOIN {vendor} sv ON sv.id = s.vendor_id
        WHERE {_OF_THE_YEAR}
        ORDER BY t.day, t.created_at, t.id
    """


# Which transfers are the year's entries (%s: its first day, the next year's, RULES' kinds):
# the entries' filter, and what the closing counts (`_entry_count`).
_OF_THE_YEAR = "t.day >= %s AND t.day < %s AND COALESCE(o.kind, t.kind) = ANY(%s)"


# Whether a transfer moves the cash box (%s: its account id, twice).
_IN_CASH = "(t.debit_id = %s OR t.credit_id = %s)"


def _cash_params() -> list:
    cash = system_account(AccountKind.CASH).pk
    return [cash, cash]


def _dated(transfer: str) -> str:
    """The transfers with their day in the books: the bank's value date where the bank
    gave one, else the fund's day of their creation — moved to the first open day when it
    falls in a year that was already closed when the transfer was posted (the one rule for
    every late movement: a correction, a settlement the bank confirms, a statement's line,
    a direct debit's return; a closed year's FEC never changes).

    "Already closed when posted": the transfer's id is above the `last_transfer_id` of that
    closing, which is sound because the closing takes the books' lock (`close_year`): no
    transfer is under way while it reads that id. Each closing counts (the first day open
    *then*), not only the last. Three %s: `_dated_params()`."""
    return (
        "SELECT *, GREATEST(raw_day, (%s::date[])[width_bucket(id, %s::bigint[])]) AS day FROM ("
        f"SELECT *, COALESCE(value_date, (created_at AT TIME ZONE %s)::date) AS raw_day FROM {transfer}) dated"
    )


def _dated_params() -> list:
    """The closings in order: the first open day after each, and the first id posted after
    it (width_bucket counts the closings a transfer came after; no closing, no move)."""
    from .models import ClosedYear

    closings = list(ClosedYear.objects.order_by("ends_on").values_list("ends_on", "last_transfer_id"))
    return [[ends_on for ends_on, _last in closings], [last + 1 for _ends_on, last in closings], settings.TIME_ZONE]


def _stream(sql: str, params: list) -> Iterator[tuple]:
    """Rows from a server-side cursor, FETCH at a time: memory does not grow with the year."""
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH):
            yield from rows
    finally:
        cursor.close()


def entries(year: int) -> Iterator[Entry]:
    """The year's entries, in the ledger's order; each balanced by construction (two lines
    of the same amount) — and tested."""
    start, end = year_bounds(year)
    accounts = chart()
    label = year_label(year)
    # The SELECT's cash tests (journal twice: its column and its numbering; the flag), then FROM.
    params = [*_cash_params(), *_cash_params(), *_cash_params(), *_dated_params(), start, end,
              [str(kind) for kind in RULES]]
    for (transfer_id, kind, effective, amount, day, vendor_id, vendor_name, settlement_number, memo,
         reverses_id, journal, in_cash, n) in _stream(_entries_sql(), params):
        _journal, debit_key, credit_key = _rule(effective, in_cash)
        reversal = kind == TransferKind.REVERSAL
        if reversal:
            debit_key, credit_key = credit_key, debit_key

        def line(key, debit, credit):
            number, title = accounts[str(key)]
            # Called within this iteration only: the loop's variables are this entry's.
            aux = key == AccountKind.VENDOR and vendor_id is not None  # noqa: B023
            return Line(number, title, f"F{vendor_id:06d}" if aux else "", (vendor_name or "") if aux else "",  # noqa: B023
                        debit, credit)

        text = LABELS[effective]
        if settlement_number:
            text = f"{text} {settlement_number}"
        if vendor_name and effective != TransferKind.GRANT:
            text = f"{text} - {vendor_name}"
        if memo:
            text = f"{text} - {memo}"
        if reversal:
            text = f"Contre-passation T{reverses_id} - {text}"
        yield Entry(
            journal=journal, number=f"{journal}{label}-{n:06d}", day=day, piece=f"T{transfer_id}",
            label=text[:200], lines=(line(debit_key, amount, 0), line(credit_key, 0, amount)),
        )


def _amount(cents: int) -> str:
    """FEC amounts: a comma decimal, no thousands separator."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100},{cents % 100:02d}"


def _clean(text: str, separator: str) -> str:
    return " ".join(str(text).replace(separator, " ").split())


def fec_lines(year: int, separator: str = "\t") -> Iterator[str]:
    """The FEC of the year, line by line (header first): the 18 columns of article
    A. 47 A-1 of the Livre des procédures fiscales, dates YYYYMMDD, amounts with a comma.
    A closed year's is the one kept at its closing, unchanged."""
    from .models import ClosedYear

    closed = ClosedYear.objects.filter(year=year).first()
    if closed is not None:
        content = gzip.decompress(bytes(closed.fec_pipe if separator == "|" else closed.fec_tab)).decode()
        yield from content.splitlines(keepends=True)
        return
    yield from _live_fec_lines(year, separator)


def _live_fec_lines(year: int, separator: str) -> Iterator[str]:
    yield separator.join(FEC_COLUMNS) + "\r\n"
    for values in _fec_values(year):
        yield _fec_line(values, separator)


def _live_fec_pairs(year: int) -> Iterator[tuple[str, str]]:
    """Each FEC line tab- and pipe-separated, from one pass over the entries."""
    yield "\t".join(FEC_COLUMNS) + "\r\n", "|".join(FEC_COLUMNS) + "\r\n"
    for values in _fec_values(year):
        yield _fec_line(values, "\t"), _fec_line(values, "|")


def _fec_values(year: int) -> Iterator[list[str]]:
    for entry in entries(year):
        day = entry.day.strftime("%Y%m%d")
        for line in entry.lines:
            yield [entry.journal, JOURNALS[entry.journal], entry.number, day, line.account, line.account_label,
                   line.auxiliary, line.auxiliary_label, entry.piece, day, entry.label, _amount(line.debit),
                   _amount(line.credit), "", "", day, "", ""]


def _fec_line(values: list[str], separator: str) -> str:
    return separator.join(_clean(value, separator) for value in values) + "\r\n"


class BooksError(DomainError):
    code = "books_refused"


YEAR_CLOSING = "year_closing"


def _check_closable(year: int) -> tuple[date, str]:
    from .models import ClosedYear

    _start, end = year_bounds(year)
    if timezone.localdate() < end:
        raise BooksError(_("A financial year is closed once it has ended (after %(day)s).")
                         % {"day": date.fromordinal(end.toordinal() - 1).isoformat()})
    already = _("The financial year %(year)s is already closed.") % {"year": year_label(year)}
    if ClosedYear.objects.filter(year=year).exists():
        raise BooksError(already)
    if ClosedYear.objects.filter(year__gt=year).exists():
        raise BooksError(_("A later financial year is already closed."))
    return end, already


def request_year_closing(year: int, *, by, reason: str):
    """A coordinator asks to close financial year `year`; a second one approves (four eyes:
    the closing cannot be undone, and freezes what the fund hands its accountant and the
    tax office). Refused as `close_year` would be, before anyone is asked."""
    _check_closable(year)
    if approvals.pending(YEAR_CLOSING, year) is not None:
        raise BooksError(_("The closing of this financial year is already waiting for a second coordinator."))
    return approvals.request(YEAR_CLOSING, year, by=by, reason=reason)


def pending_year_closing(year: int):
    return approvals.pending(YEAR_CLOSING, year)


def execute_year_closing(approval) -> str:
    """The approved closing (kernel.four_eyes step, coordination's AppConfig.ready())."""
    try:
        closed = close_year(int(approval.target), by=approval.requested_by, approval=approval)
    except BooksError as error:  # the approvals page shows a refusal as a ValidationError
        raise ValidationError(error.message) from error
    return f"FEC {closed.year} SHA-256 {closed.sha256}"


def close_year(year: int, *, by=None, approval=None):
    """Close financial year `year`, once a second coordinator approved (`approval`): its FEC
    is kept as it is now and served from then on; a movement recorded later but dated in
    it is booked on the first day of the next year (`_dated`). Refused before the year has
    ended, and twice.

    Without a race: the closing takes the books' lock alone (kernel.locks.BOOKS, which
    every posting holds shared), so no transfer is under way — an id taken, not yet
    committed — while it reads the last transfer's id: every transfer up to it is in the
    FEC, every later one was posted after the closing, and dated in the open year. Both
    files come from one pass over the entries (one query: one snapshot), made *before* the
    lock so the tills wait for a count only; made again under it if a movement dated in
    the year was committed meanwhile."""
    from .models import ClosedYear

    end, already = _check_closable(year)
    approvals.require(approval, YEAR_CLOSING, year)
    with transaction.atomic():
        dating = _dated_params()
        tab, pipe, count = _fec_files(year)
        with connection.cursor() as cursor:
            locks.lock(cursor, locks.BOOKS)
        _check_closable(year)  # a closing that took the lock first
        last_transfer_id = Transfer.objects.order_by("-id").values_list("id", flat=True).first() or 0
        if _dated_params() != dating or _entry_count(year) != count:
            tab, pipe, count = _fec_files(year)
        try:
            with transaction.atomic():
                return ClosedYear.objects.create(
                    year=year, ends_on=end, closed_by=by, last_transfer_id=last_transfer_id,
                    fec_tab=gzip.compress(tab, mtime=0), fec_pipe=gzip.compress(pipe, mtime=0),
                    sha256=hashlib.sha256(tab).hexdigest())
        except IntegrityError:  # a concurrent closing won
            raise BooksError(already)


def _fec_files(year: int) -> tuple[bytes, bytes, int]:
    """Both FEC files of the year as they are now, and how many entries they hold."""
    tab_lines, pipe_lines = [], []
    for tab_line, pipe_line in _live_fec_pairs(year):
        tab_lines.append(tab_line)
        pipe_lines.append(pipe_line)
    return "".join(tab_lines).encode(), "".join(pipe_lines).encode(), (len(tab_lines) - 1) // 2


def _entry_count(year: int) -> int:
    """How many entries the year's FEC holds now: the entries' own filter, counted. A
    transfer is never changed nor deleted, so the same count is the same entries."""
    start, end = year_bounds(year)
    transfer = Transfer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT COUNT(*) FROM ({_dated(transfer)}) t LEFT JOIN {transfer} o ON o.id = t.reverses_id
            WHERE {_OF_THE_YEAR}
        """, [*_dated_params(), start, end, [str(kind) for kind in RULES]])
        return int(cursor.fetchone()[0])


def closed_years():
    from .models import ClosedYear

    return {row.year: row for row in ClosedYear.objects.select_related("closed_by").defer("fec_tab", "fec_pipe")}


def fec_filename(year: int) -> str:
    _start, end = year_bounds(year)
    closing = date.fromordinal(end.toordinal() - 1)
    siren = getattr(settings, "FUND_SIREN", "") or "000000000"
    return f"{siren}FEC{closing:%Y%m%d}.txt"


def csv_lines(year: int) -> Iterator[str]:
    """The same entries as a plain CSV for a spreadsheet (semicolons, comma decimals)."""
    return kernel_csv.lines(chain([CSV_COLUMNS], _csv_rows(year)))


def _csv_rows(year: int) -> Iterator[list]:
    for entry in entries(year):
        for line in entry.lines:
            yield [entry.journal, entry.number, entry.day.isoformat(), line.account, line.account_label,
                   line.auxiliary, line.auxiliary_label, entry.piece, entry.label,
                   _amount(line.debit), _amount(line.credit)]


# --- The year at a glance (trial balance and commitments) -------------------------------


@dataclass
class YearTotals:
    year: int
    start: date
    end: date  # exclusive
    # account number → [label, debit, credit]
    accounts: dict = field(default_factory=dict)
    entries: int = 0
    # Off-balance: units issued and expired in the year, in circulation at its end.
    issued: int = 0
    expired: int = 0
    commitments: int = 0

    @property
    def debit(self) -> int:
        return sum(row[1] for row in self.accounts.values())

    @property
    def credit(self) -> int:
        return sum(row[2] for row in self.accounts.values())

    def rows(self) -> list[tuple[str, str, int, int, int]]:
        return [(number, label, debit, credit, debit - credit)
                for number, (label, debit, credit) in sorted(self.accounts.items())]


def year_totals(year: int) -> YearTotals:
    """Totals per account of the year (a balance générale), from one GROUP BY, and the
    off-balance figures of the units."""
    start, end = year_bounds(year)
    transfer = Transfer._meta.db_table
    sql = f"""
        SELECT t.kind, COALESCE(o.kind, t.kind), {_IN_CASH}, COUNT(*), SUM(t.amount)
        FROM ({_dated(transfer)}) t LEFT JOIN {transfer} o ON o.id = t.reverses_id
        WHERE t.day >= %s AND t.day < %s
        GROUP BY 1, 2, 3
    """
    accounts = chart()
    totals = YearTotals(year=year, start=start, end=end)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_cash_params(), *_dated_params(), start, end])
        for kind, effective, in_cash, count, amount in cursor.fetchall():
            amount = int(amount)
            sign = -1 if kind == TransferKind.REVERSAL else 1
            if effective == TransferKind.ALLOCATION:
                totals.issued += sign * amount
            elif effective in (TransferKind.EXPIRY, TransferKind.EXIT):
                totals.expired += sign * amount
            if effective not in RULES:
                continue
            totals.entries += count
            _journal, debit_key, credit_key = _rule(effective, in_cash)
            if kind == TransferKind.REVERSAL:
                debit_key, credit_key = credit_key, debit_key
            for key, column in ((debit_key, 1), (credit_key, 2)):
                number, label = accounts[str(key)]
                row = totals.accounts.setdefault(number, [label, 0, 0])
                row[column] += amount
    totals.commitments = _circulation_at(_aware(end))
    return totals


def _circulation_at(moment: datetime) -> int:
    """Units in wallets and vendor accounts at `moment`: what the issuance and expiry
    accounts gave out less what came back to them, from their own transfers."""
    ids = [system_account(AccountKind.ISSUANCE).pk, system_account(AccountKind.EXPIRY).pk]
    transfer = Transfer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT COALESCE(SUM(CASE WHEN debit_id = ANY(%s) THEN amount ELSE 0 END), 0)
                 - COALESCE(SUM(CASE WHEN credit_id = ANY(%s) THEN amount ELSE 0 END), 0)
            FROM {transfer} WHERE (debit_id = ANY(%s) OR credit_id = ANY(%s)) AND created_at < %s
        """, [ids] * 4 + [moment])
        return int(cursor.fetchone()[0])


# --- Bank reconciliation ----------------------------------------------------------------


@dataclass
class BankMonth:
    period: str
    opening: int = 0
    grants: int = 0
    contributions: int = 0
    cash_deposits: int = 0  # cash from the desks paid in
    other_in: int = 0  # reversals of money out
    reimbursements: int = 0
    other_out: int = 0  # reversals of money in

    @property
    def money_in(self) -> int:
        return self.grants + self.contributions + self.cash_deposits + self.other_in

    @property
    def money_out(self) -> int:
        return self.reimbursements + self.other_out

    @property
    def closing(self) -> int:
        return self.opening + self.money_in - self.money_out


@dataclass
class BankReconciliation:
    year: int
    opening: int
    months: list[BankMonth]

    @property
    def closing(self) -> int:
        return self.months[-1].closing if self.months else self.opening


def _treasury_sum(where: str, params: list) -> int:
    transfer = Transfer._meta.db_table
    treasury = system_account(AccountKind.TREASURY).pk
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT COALESCE(SUM(CASE WHEN credit_id = %s THEN amount ELSE -amount END), 0)
            FROM ({_dated(transfer)}) t WHERE (debit_id = %s OR credit_id = %s) AND {where}
        """, [treasury, *_dated_params(), treasury, treasury, *params])
        return int(cursor.fetchone()[0])


def bank_reconciliation(year: int) -> BankReconciliation:
    """The treasury (the bank account as the ledger sees it) month by month over the
    financial year: opening balance, money in and out by kind, closing balance. Two queries."""
    start, end = year_bounds(year)
    opening = _treasury_sum("day < %s", [start])
    months, day = [], start
    while day < end:
        months.append(BankMonth(period=day.strftime("%Y-%m")))
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    by_period = {row.period: row for row in months}
    treasury = system_account(AccountKind.TREASURY).pk
    transfer = Transfer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT to_char(day, 'YYYY-MM'), kind, credit_id = %s, SUM(amount)
            FROM ({_dated(transfer)}) t
            WHERE (debit_id = %s OR credit_id = %s) AND day >= %s AND day < %s
            GROUP BY 1, 2, 3
        """, [treasury, *_dated_params(), treasury, treasury, start, end])
        for period, kind, incoming, amount in cursor.fetchall():
            row, amount = by_period[period], int(amount)
            if incoming:
                field_name = {TransferKind.GRANT: "grants", TransferKind.CONTRIBUTION: "contributions",
                              TransferKind.CASH_DEPOSIT: "cash_deposits"}.get(kind, "other_in")
            else:
                field_name = "reimbursements" if kind == TransferKind.REIMBURSEMENT else "other_out"
            setattr(row, field_name, getattr(row, field_name) + amount)
    balance = opening
    for row in months:
        row.opening = balance
        balance = row.closing
    return BankReconciliation(year=year, opening=opening, months=months)


def treasury_at_end_of(day: date) -> int:
    """The ledger's treasury at the end of `day`: what the bank statement of that day
    should show, once every movement of the day is recorded."""
    return _treasury_sum("day <= %s", [day])


def bank_difference(day: date, bank_balance: int) -> tuple[int, int]:
    """(ledger treasury at the end of `day`, bank balance − ledger). Shown, not stored:
    a difference is explained by movements not yet recorded, which the coordinator then
    records; keeping stale differences would only mislead."""
    ledger_balance = treasury_at_end_of(day)
    return ledger_balance, bank_balance - ledger_balance


def totals_by_account(year: int) -> dict[str, tuple[int, int]]:
    """Debit and credit per account number, summed from the streamed entries: what the
    tests compare with the GROUP BY of `year_totals` (the two paths must agree)."""
    sums = defaultdict(lambda: [0, 0])
    for entry in entries(year):
        for line in entry.lines:
            sums[line.account][0] += line.debit
            sums[line.account][1] += line.credit
    return {number: tuple(pair) for number, pair in sums.items()}
