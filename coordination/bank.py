"""Bank statements in: camt.053 (`camt.053.001.02`, what most French banks send, and
`camt.053.001.08`), validated against the official ISO 20022 schema (coordination/schemas/)
before anything is read, then matched line by line through the owning apps' services.

Why here: matching pays settlements (vendors), confirms and returns direct debits
(members), records grant receipts (allocations); only the back office sits above all of
them (docs/architecture.md).

Idempotent: a statement is stored once (unique account + statement id); a second import
of it changes nothing and says so. Each match is itself idempotent (a settlement is paid
once, a receipt is found by its bank reference, a return is recorded once), so a line
seen again in another statement (a monthly one overlapping the dailies) moves no money
twice.

What is matched automatically:
- a settlement run's file booked as one debit, by its PmtInfId (vendors.sepa.payment_info_id);
- settlements booked line by line, by their EndToEndId (vendors.sepa.end_to_end_id);
- a settlement transfer returned by the shop's bank (a credit carrying its EndToEndId);
- a direct-debit collection credited (its message id as MsgId/PmtInfId, or its debits'
  EndToEndIds), and a direct debit returned (a debit carrying its EndToEndId and reason);
- a grant received (a credit whose remittance information names the grant's reference);
- cash from the desks deposited (the bank's code for a cash deposit): cash (530) to bank (512).
Everything else is listed for a person; bank fees are recognised by the bank's
transaction code and listed with that hint (the fund's ledger has no expense account).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from xml.etree.ElementTree import Element

import xmlschema
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from allocations import fund, ledger
from allocations import grants as grant_services
from allocations.models import Grant
from allocations.selectors import fund_position
from kernel.banking import compact
from kernel.errors import DomainError
from members import direct_debits
from members.models import DirectDebit, DirectDebitCollection
from vendors import settlements
from vendors.models import Settlement, SettlementRun

from . import books
from .models import BankStatement, BankStatementLine

VERSIONS = ("camt.053.001.02", "camt.053.001.08")
SCHEMAS = Path(__file__).resolve().parent / "schemas"
MAX_BYTES = 10 * 1024 * 1024
_RUN_ID = re.compile(r"^CAISSE-RUN-(\d+)$")
_SETTLEMENT_ID = re.compile(r"^CAISSE-(\d{4}-\d{5})$")
M = BankStatementLine.Match


class StatementError(DomainError):
    code = "bank_statement_refused"


@cache
def _schema(version: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / f"{version}.xsd"))


# --- Reading ----------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(node: Element | None, path: str) -> Element | None:
    """The first descendant along `path` (local names, '/'-separated), namespaces ignored."""
    for name in path.split("/"):
        if node is None:
            return None
        node = next((child for child in node if _local(child.tag) == name), None)
    return node


def _all(node: Element | None, name: str) -> list[Element]:
    return [] if node is None else [child for child in node if _local(child.tag) == name]


def _text(node: Element | None, path: str) -> str:
    found = _find(node, path)
    return (found.text or "").strip() if found is not None else ""


def _cents(text: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise StatementError(_("An amount of the statement is not a number: %(value)s") % {"value": text})
    return int((value * 100).to_integral_value())


def _date(node: Element | None, path: str) -> date | None:
    choice = _find(node, path)
    if choice is None:
        return None
    day, moment = _text(choice, "Dt"), _text(choice, "DtTm")
    if day:
        return date.fromisoformat(day[:10])
    if moment:
        return date.fromisoformat(moment[:10])
    return None


@dataclass
class Line:
    index: int
    reference: str
    amount: int
    credit: bool
    reversal: bool
    booking_date: date | None
    value_date: date | None
    bank_code: str
    payment_info_id: str = ""
    message_id: str = ""
    end_to_end_ids: list[str] = field(default_factory=list)
    return_reason: str = ""
    remittance: str = ""


@dataclass
class Parsed:
    version: str
    statement_id: str
    account_iban: str
    created_at: datetime | None
    opening_balance: int | None
    closing_balance: int | None
    closing_date: date | None
    lines: list[Line]


def _aware(moment: datetime | None) -> datetime | None:
    # A bank's time without an offset is the fund's local time.
    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment)
    return moment


def _balance(statement: Element, code: str) -> tuple[int | None, date | None]:
    for balance in _all(statement, "Bal"):
        if _text(balance, "Tp/CdOrPrtry/Cd") == code:
            amount = _cents(_text(balance, "Amt"))
            if _text(balance, "CdtDbtInd") == "DBIT":
                amount = -amount
            return amount, _date(balance, "Dt")
    return None, None


def _line(index: int, entry: Element, statement_id: str) -> Line:
    codes = _find(entry, "BkTxCd/Domn")
    bank_code = "/".join(part for part in (
        _text(codes, "Cd"), _text(codes, "Fmly/Cd"), _text(codes, "Fmly/SubFmlyCd")) if part)
    details = _find(entry, "NtryDtls")
    batch = _find(details, "Btch")
    transactions = [tx for block in _all(entry, "NtryDtls") for tx in _all(block, "TxDtls")]
    payment_info_id = _text(batch, "PmtInfId") or next(
        (_text(tx, "Refs/PmtInfId") for tx in transactions if _text(tx, "Refs/PmtInfId")), "")
    message_id = _text(batch, "MsgId") or next(
        (_text(tx, "Refs/MsgId") for tx in transactions if _text(tx, "Refs/MsgId")), "")
    end_to_end = [_text(tx, "Refs/EndToEndId") for tx in transactions]
    reason = next((_text(tx, "RtrInf/Rsn/Cd") for tx in transactions if _text(tx, "RtrInf/Rsn/Cd")), "")
    remittance = " ".join(
        (node.text or "").strip() for tx in transactions for info in _all(tx, "RmtInf") for node in _all(info, "Ustrd"))
    remittance = " ".join(filter(None, [remittance, _text(entry, "AddtlNtryInf")]))
    return Line(
        index=index,
        reference=_text(entry, "AcctSvcrRef") or _text(entry, "NtryRef") or f"{statement_id}/{index}",
        amount=_cents(_text(entry, "Amt")),
        credit=_text(entry, "CdtDbtInd") == "CRDT",
        reversal=_text(entry, "RvslInd").lower() == "true",
        booking_date=_date(entry, "BookgDt"),
        value_date=_date(entry, "ValDt"),
        bank_code=bank_code,
        payment_info_id=payment_info_id,
        message_id=message_id,
        end_to_end_ids=[e2e for e2e in end_to_end if e2e and e2e != "NOTPROVIDED"],
        return_reason=reason,
        remittance=remittance[:500],
    )


def parse(content: bytes) -> list[Parsed]:
    """The statements of a camt.053 document; StatementError (nothing read) unless it is
    one of VERSIONS and valid against its official schema."""
    if len(content) > MAX_BYTES:
        raise StatementError(_("This file is too large for a bank statement."))
    text = content.decode("utf-8", errors="replace")
    namespace = re.search(r'xmlns(?::\w+)?="urn:iso:std:iso:20022:tech:xsd:(camt\.\d{3}\.\d{3}\.\d{2})"', text[:2000])
    version = namespace.group(1) if namespace else ""
    if version not in VERSIONS:
        raise StatementError(
            _("This is not a camt.053 statement the fund reads (%(versions)s): found %(found)s.")
            % {"versions": ", ".join(VERSIONS), "found": version or _("no ISO 20022 namespace")})
    try:
        # Defused: no entity, no external resource is ever loaded from a statement.
        resource = xmlschema.XMLResource(text, defuse="always", allow="none")
        _schema(version).validate(resource)
    except (xmlschema.XMLSchemaException, SyntaxError, ValueError) as error:
        raise StatementError(_("This statement does not follow the %(version)s schema: %(error)s")
                             % {"version": version, "error": str(error).splitlines()[0][:300]})
    root = resource.root
    statements = []
    for statement in _all(_find(root, "BkToCstmrStmt"), "Stmt"):
        statement_id = _text(statement, "Id")
        opening, _day = _balance(statement, "OPBD")
        closing, closing_date = _balance(statement, "CLBD")
        created = _text(statement, "CreDtTm")
        statements.append(Parsed(
            version=version,
            statement_id=statement_id,
            account_iban=compact(_text(statement, "Acct/Id/IBAN")),
            created_at=_aware(parse_datetime(created)) if created else None,
            opening_balance=opening,
            closing_balance=closing,
            closing_date=closing_date,
            lines=[_line(index, entry, statement_id)
                   for index, entry in enumerate(_all(statement, "Ntry"), start=1)
                   if _text(entry, "Sts") in ("BOOK", "") or _text(entry, "Sts/Cd") == "BOOK"],
        ))
    return statements


# --- Matching ---------------------------------------------------------------------------


def _hint(line: Line) -> str:
    parts = line.bank_code.split("/")
    family, sub = (parts[1] if len(parts) > 1 else ""), (parts[2] if len(parts) > 2 else "")
    if line.credit and family == "CNTR" and sub in ("CDPT", "BCDP"):
        return BankStatementLine.Hint.CASH_DEPOSIT
    if not line.credit and (sub in ("CHRG", "COMM", "FEES") or family == "CHRG"):
        return BankStatementLine.Hint.BANK_FEE
    return BankStatementLine.Hint.NONE


def _match_settlements(line: Line, day: date) -> tuple[str, str] | None:
    if not line.credit:
        run_id = _RUN_ID.match(line.payment_info_id)
        if run_id:
            run = SettlementRun.objects.filter(pk=int(run_id.group(1))).first()
            if run is not None:
                settlements.confirm_paid(run, value_date=day, bank_reference=line.reference)
                return M.SETTLEMENT_RUN, f"run {run.pk}"
    numbers = [found.group(1) for e2e in line.end_to_end_ids if (found := _SETTLEMENT_ID.match(e2e))]
    if not numbers:
        return None
    lines = list(Settlement.objects.filter(number__in=numbers))
    if not lines:
        return None
    if line.credit:  # the shop's bank sent it back
        for settlement in lines:
            settlements.record_return(settlement, returned_on=day, reason=line.return_reason or line.remittance[:60],
                                      bank_reference=line.reference)
        return M.SETTLEMENT_RETURN, ", ".join(s.number for s in lines)
    for run_id in sorted({settlement.run_id for settlement in lines}):
        settlements.confirm_paid(SettlementRun.objects.get(pk=run_id), value_date=day, bank_reference=line.reference,
                                 numbers=[s.number for s in lines if s.run_id == run_id])
    return M.SETTLEMENT, ", ".join(s.number for s in lines)


def _match_direct_debits(line: Line) -> tuple[str, str] | None:
    debits = list(DirectDebit.objects.filter(end_to_end_id__in=line.end_to_end_ids)
                  .select_related("mandate", "collection"))
    if not line.credit and debits:  # a debit on the fund's account: the payer's bank took it back
        if not line.return_reason:
            return None
        for debit in debits:
            direct_debits.record_rejection(debit.mandate.reference, debit.collection.period, line.return_reason,
                                           presentation=debit.collection.presentation)
        return M.DIRECT_DEBIT_RETURN, ", ".join(debit.end_to_end_id for debit in debits)
    if not line.credit:
        return None
    collection = None
    ids = [value for value in (line.message_id, line.payment_info_id) if value]
    if ids:
        collection = DirectDebitCollection.objects.filter(message_id__in=ids).first()
    if collection is None and debits:
        collection = debits[0].collection
    if collection is None:
        return None
    direct_debits.confirm_collection(collection)
    return M.COLLECTION, collection.period


def _match_grant(line: Line, day: date) -> tuple[str, str] | None:
    if not line.credit or not line.remittance:
        return None
    text = line.remittance.upper()
    for grant in Grant.objects.exclude(reference="").order_by("-id"):
        if grant.reference.upper() in text:
            receipt = grant_services.record_receipt(grant, amount=line.amount, received_on=day,
                                                    bank_reference=line.reference)
            return M.GRANT, f"{grant.reference} #{receipt.pk}"
    return None


def _match_cash_deposit(line: Line, day: date) -> tuple[str, str] | None:
    if _hint(line) != BankStatementLine.Hint.CASH_DEPOSIT:
        return None
    try:
        posted = ledger.deposit_cash(amount=line.amount, deposited_on=day, bank_reference=line.reference)
    except ledger.InsufficientFunds:
        raise StatementError(_("More cash deposited than the desks took: to check by hand."))
    return M.CASH_DEPOSIT, f"T{posted.transfer.pk}"


def _match(line: Line) -> tuple[str, str, str]:
    """(match, object, note) for one line; a refusal by the owning service leaves it to a person."""
    if line.reversal:
        return M.UNMATCHED, "", _("A reversal by the bank: to check by hand.")
    day = line.value_date or line.booking_date
    if day is None:
        return M.UNMATCHED, "", _("No date on this line.")
    try:
        with transaction.atomic():
            found = (_match_settlements(line, day) or _match_direct_debits(line) or _match_grant(line, day)
                     or _match_cash_deposit(line, day))
    except (DomainError, ValidationError) as error:
        return M.UNMATCHED, "", " ".join(getattr(error, "messages", [str(error)]))[:255]
    if found is None:
        return M.UNMATCHED, "", ""
    return found[0], found[1][:140], ""


def _store(statement: Parsed, *, by, result: ImportResult) -> tuple[BankStatement, bool]:
    """The statement and its lines, matched, in one transaction; or the one imported before."""
    known = {"account_iban": statement.account_iban, "statement_id": statement.statement_id}
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = BankStatement.objects.create(
                    **known, version=statement.version, created_at=statement.created_at,
                    opening_balance=statement.opening_balance, closing_balance=statement.closing_balance,
                    closing_date=statement.closing_date, imported_by=by,
                )
        except IntegrityError:
            # Imported before (or by a concurrent import, committed first): nothing changes.
            return BankStatement.objects.get(**known), False
        lines = []
        for line in statement.lines:
            match, matched_object, note = _match(line)
            lines.append(BankStatementLine(
                statement=row, index=line.index, reference=line.reference[:140], amount=line.amount,
                credit=line.credit, reversal=line.reversal, booking_date=line.booking_date,
                value_date=line.value_date, bank_code=line.bank_code[:40],
                payment_info_id=line.payment_info_id[:35], message_id=line.message_id[:35],
                end_to_end_ids=line.end_to_end_ids, return_reason=line.return_reason[:8],
                remittance=line.remittance, match=match, matched_object=matched_object,
                hint=_hint(line) if match == M.UNMATCHED else "", note=note,
            ))
            if match == M.UNMATCHED:
                result.unmatched += 1
            else:
                result.matched += 1
        BankStatementLine.objects.bulk_create(lines)
        # The books' bank balance at the end of the statement's day (value dates), after
        # its lines were matched: what its closing balance should say.
        row.treasury_at_import = (books.treasury_at_end_of(statement.closing_date) if statement.closing_date
                                  else fund_position().treasury)
        row.save(update_fields=["treasury_at_import"])
    return row, True


@dataclass
class ImportResult:
    statements: list[BankStatement]
    created: int  # statements imported now; the others had been imported before
    matched: int
    unmatched: int


def import_statement(content: bytes, *, by=None) -> ImportResult:
    """Read, store and match a camt.053 document. The same statement twice changes nothing."""
    parsed = parse(content)
    if not parsed:
        raise StatementError(_("This file holds no statement."))
    try:
        account = fund.bank_account()
    except fund.BankNotConfigured as error:
        raise StatementError(error.message)
    for statement in parsed:
        if statement.account_iban != account.iban:
            raise StatementError(
                _("This statement is for the account %(theirs)s, not the fund's (%(ours)s).")
                % {"theirs": statement.account_iban, "ours": account.iban})
    result = ImportResult(statements=[], created=0, matched=0, unmatched=0)
    for statement in parsed:
        row, created = _store(statement, by=by, result=result)
        result.statements.append(row)
        result.created += created
    return result


def handle_by_hand(line: BankStatementLine, *, by, note: str) -> BankStatementLine:
    """A person dealt with an unmatched line: what they did is in the note. Moves no money:
    the movement itself is recorded through its own page (a grant receipt, a return)."""
    note = (note or "").strip()
    if not note:
        raise StatementError(_("Say what this line is and where you recorded it."))
    with transaction.atomic():
        line = BankStatementLine.objects.select_for_update().get(pk=line.pk)
        if line.match != M.UNMATCHED:
            raise StatementError(_("This line is already matched."))
        line.match, line.note, line.handled_by = M.BY_HAND, note[:255], by
        line.save(update_fields=["match", "note", "handled_by"])
    return line


# --- Reads ------------------------------------------------------------------------------


def unmatched_lines(limit: int = 200):
    return list(BankStatementLine.objects.filter(match=M.UNMATCHED).select_related("statement")
                .order_by("-statement__imported_at", "index")[:limit])
