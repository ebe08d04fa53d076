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
- a bank fee, when the bank's transaction code says so (family/sub-family CHRG, COMM,
  FEES; or a proprietary code of settings.BANK_FEE_CODES): treasury (512) to bank fees (627).
A direct debit returned later than the rulebook allows (members.direct_debits.return_deadline)
is refused by the members' service and listed with its reason.

Everything else is listed for a person, who picks what it is among the candidates the fund
expects (`candidates`, `pick`): the same `_record_*` function as the automatic matcher
records it. A person linking a line to a settlement (paid or returned) asks a second
coordinator, as the settlements' own paper path does (four eyes, BANK_MATCH).
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
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from allocations import approvals, fund, ledger
from allocations import grants as grant_services
from allocations import keys as contribution_keys
from allocations.models import Approval, Grant, GrantReceipt
from allocations.selectors import fund_position
from kernel.banking import compact
from kernel.errors import DomainError
from kernel.money import format_cents as euros
from members import direct_debits
from members.models import ContributionPayment, DirectDebit, DirectDebitCollection
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
    # The bank's own code (BkTxCd/Prtry/Cd), after a space: "ACMT/MDOP/CHRG FRAIS".
    proprietary = _text(entry, "BkTxCd/Prtry/Cd").replace(" ", "")
    if proprietary:
        bank_code = f"{bank_code} {proprietary}".strip()
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
#
# One function records each kind of match (`_record_*`), through the owning app's service,
# dated at the line's value date: the automatic matcher (`_match_*`) and a person's pick
# (`pick`) both call it, so a person's match moves money exactly as the bank's references
# would have, with the same refusals, and at most once.

# The bank's family and sub-family codes (ISO 20022 BkTxCd) that say "fees", and the
# proprietary codes (BkTxCd/Prtry/Cd) the fund's bank uses for them (settings.BANK_FEE_CODES).
FEE_FAMILIES = ("CHRG",)
FEE_SUB_FAMILIES = ("CHRG", "COMM", "FEES")
DEFAULT_FEE_PROPRIETARY_CODES = ("CHRG", "FEES", "COMM", "FRAIS", "COMMISSION")


def _fee_proprietary_codes() -> set[str]:
    return {code.upper() for code in getattr(settings, "BANK_FEE_CODES", DEFAULT_FEE_PROPRIETARY_CODES)}


def _hint(line) -> str:
    # "DOMN/FMLY/SUB", "DOMN/FMLY/SUB PRTRY" or "PRTRY" (see _line).
    first, _space, rest = line.bank_code.partition(" ")
    standard, proprietary = (first, rest) if "/" in first else ("", first)
    parts = standard.split("/")
    family, sub = (parts[1] if len(parts) > 1 else ""), (parts[2] if len(parts) > 2 else "")
    if line.credit and family == "CNTR" and sub in ("CDPT", "BCDP"):
        return BankStatementLine.Hint.CASH_DEPOSIT
    if not line.credit and (sub in FEE_SUB_FAMILIES or family in FEE_FAMILIES
                            or (proprietary and proprietary.upper() in _fee_proprietary_codes())):
        return BankStatementLine.Hint.BANK_FEE
    return BankStatementLine.Hint.NONE


def _record_run_paid(run: SettlementRun, line, day: date) -> tuple[str, str]:
    settlements.confirm_paid(run, value_date=day, bank_reference=line.reference)
    return M.SETTLEMENT_RUN, f"run {run.pk}"


def _record_settlements_paid(paid: list[Settlement], line, day: date) -> tuple[str, str]:
    for run_id in sorted({settlement.run_id for settlement in paid}):
        settlements.confirm_paid(SettlementRun.objects.get(pk=run_id), value_date=day, bank_reference=line.reference,
                                 numbers=[s.number for s in paid if s.run_id == run_id])
    return M.SETTLEMENT, ", ".join(s.number for s in paid)


def _record_settlement_returns(returned: list[Settlement], line, day: date) -> tuple[str, str]:
    for settlement in returned:
        settlements.record_return(settlement, returned_on=day, reason=line.return_reason or line.remittance[:60],
                                  bank_reference=line.reference)
    return M.SETTLEMENT_RETURN, ", ".join(s.number for s in returned)


def _record_debit_returns(debits: list[DirectDebit], reason: str, day: date) -> tuple[str, str]:
    for debit in debits:
        direct_debits.record_rejection(debit.mandate.reference, debit.collection.period, reason,
                                       presentation=debit.collection.presentation, returned_on=day)
    return M.DIRECT_DEBIT_RETURN, ", ".join(debit.end_to_end_id for debit in debits)


def _record_collection(collection: DirectDebitCollection) -> tuple[str, str]:
    direct_debits.confirm_collection(collection)
    return M.COLLECTION, collection.period


def _record_grant(grant: Grant, line, day: date) -> tuple[str, str]:
    receipt = grant_services.record_receipt(grant, amount=line.amount, received_on=day, bank_reference=line.reference)
    return M.GRANT, f"{grant.reference} #{receipt.pk}"


def _record_cash_deposit(line, day: date) -> tuple[str, str]:
    try:
        posted = ledger.deposit_cash(amount=line.amount, deposited_on=day, bank_reference=line.reference)
    except ledger.InsufficientFunds:
        raise StatementError(_("More cash deposited than the desks took: to check by hand."))
    return M.CASH_DEPOSIT, f"T{posted.transfer.pk}"


def _record_bank_fee(line, day: date) -> tuple[str, str]:
    try:
        posted = ledger.pay_bank_fee(amount=line.amount, charged_on=day, bank_reference=line.reference)
    except ledger.InsufficientFunds:
        raise StatementError(_("The treasury does not hold this fee: to check by hand."))
    return M.BANK_FEE, f"T{posted.transfer.pk}"


def _match_settlements(line: Line, day: date) -> tuple[str, str] | None:
    if not line.credit:
        run_id = _RUN_ID.match(line.payment_info_id)
        if run_id:
            run = SettlementRun.objects.filter(pk=int(run_id.group(1))).first()
            if run is not None:
                return _record_run_paid(run, line, day)
    numbers = [found.group(1) for e2e in line.end_to_end_ids if (found := _SETTLEMENT_ID.match(e2e))]
    if not numbers:
        return None
    lines = list(Settlement.objects.filter(number__in=numbers))
    if not lines:
        return None
    if line.credit:  # the shop's bank sent it back
        return _record_settlement_returns(lines, line, day)
    return _record_settlements_paid(lines, line, day)


def _match_direct_debits(line: Line, day: date) -> tuple[str, str] | None:
    debits = list(DirectDebit.objects.filter(end_to_end_id__in=line.end_to_end_ids)
                  .select_related("mandate", "collection"))
    if not line.credit and debits:  # a debit on the fund's account: the payer's bank took it back
        if not line.return_reason:
            return None
        return _record_debit_returns(debits, line.return_reason, day)
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
    return _record_collection(collection)


def _match_grant(line: Line, day: date) -> tuple[str, str] | None:
    if not line.credit or not line.remittance:
        return None
    text = line.remittance.upper()
    for grant in Grant.objects.exclude(reference="").order_by("-id"):
        if grant.reference.upper() in text:
            return _record_grant(grant, line, day)
    return None


def _match_cash_deposit(line: Line, day: date) -> tuple[str, str] | None:
    if _hint(line) != BankStatementLine.Hint.CASH_DEPOSIT:
        return None
    return _record_cash_deposit(line, day)


def _match_bank_fee(line: Line, day: date) -> tuple[str, str] | None:
    """The bank's own codes say fees (FEE_FAMILIES, FEE_SUB_FAMILIES, BANK_FEE_CODES)."""
    if _hint(line) != BankStatementLine.Hint.BANK_FEE:
        return None
    return _record_bank_fee(line, day)


def _match(line: Line) -> tuple[str, str, str]:
    """(match, object, note) for one line; a refusal by the owning service leaves it to a person."""
    if line.reversal:
        return M.UNMATCHED, "", _("A reversal by the bank: to check by hand.")
    day = line.value_date or line.booking_date
    if day is None:
        return M.UNMATCHED, "", _("No date on this line.")
    try:
        with transaction.atomic():
            found = (_match_settlements(line, day) or _match_direct_debits(line, day) or _match_grant(line, day)
                     or _match_cash_deposit(line, day) or _match_bank_fee(line, day))
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


# --- A person's pick -------------------------------------------------------------------

# A person linking a line to a settlement (paid, or returned by the shop's bank): a second
# coordinator approves, as the settlements' own paper path asks (request_bank_confirmation,
# request_return); the approval carries the pick out through the same `_record_*`.
BANK_MATCH = "bank_line_match"
FOUR_EYES_KINDS = (M.SETTLEMENT_RUN, M.SETTLEMENT, M.SETTLEMENT_RETURN)
_TOKEN = re.compile(r"^(run|settlement|settlement_return|debit_return|collection|grant):(\d{1,12})$|^(cash_deposit|bank_fee)$")
# Runs whose payment the bank may still confirm, settlements it may still pay.
_RUNS_AWAITING_BANK = (SettlementRun.Status.APPROVED, SettlementRun.Status.FILE_ISSUED)
MAX_CANDIDATES = 20


def _token(kind: str, pk: int) -> str:
    """A candidate's name in the pick-a-match form (and in its four-eyes approval): what
    was picked, never a ledger key (those come from allocations.keys)."""
    return f"{kind}:{pk}"


@dataclass
class Candidate:
    """Something the fund expects on its account that a line could be."""

    token: str  # "run:12", "grant:3", "bank_fee"...: what the form posts
    kind: str  # the Match it becomes
    label: str
    amount: int | None  # cents; None when it is the line's own (a fee, a cash deposit)
    expected_on: date | None
    reference: str = ""
    four_eyes: bool = False
    # Closeness, for the order: the reference named by the line, the amount, the days apart.
    rank: tuple = field(default=(), repr=False)
    target: object = field(default=None, repr=False)


def _line_day(line: BankStatementLine) -> date | None:
    return line.value_date or line.booking_date


def _line_text(line: BankStatementLine) -> str:
    return " ".join([line.reference, line.remittance, line.payment_info_id, line.message_id,
                     *line.end_to_end_ids]).upper()


def _ranked(line: BankStatementLine, found: list[Candidate]) -> list[Candidate]:
    day, text = _line_day(line), _line_text(line)
    for candidate in found:
        named = bool(candidate.reference) and candidate.reference.upper() in text
        amount_gap = 0 if candidate.amount is None else abs(candidate.amount - line.amount)
        days = abs((day - candidate.expected_on).days) if day and candidate.expected_on else 9_999
        generic = candidate.kind in (M.BANK_FEE, M.CASH_DEPOSIT) and _hint(line) != candidate.kind
        candidate.rank = (not named, amount_gap, generic, days, candidate.token)
    return sorted(found, key=lambda candidate: candidate.rank)


def _money_out(line: BankStatementLine) -> list[Candidate]:
    found = []
    runs = (Settlement.objects.filter(status=Settlement.Status.COMMITTED, run__status__in=_RUNS_AWAITING_BANK)
            .values("run_id").annotate(total=Sum("amount")).filter(total=line.amount).values_list("run_id", flat=True))
    for run in SettlementRun.objects.filter(pk__in=list(runs[:MAX_CANDIDATES])):
        found.append(Candidate(
            token=_token("run", run.pk), kind=M.SETTLEMENT_RUN, amount=line.amount, four_eyes=True, target=run,
            expected_on=timezone.localdate(run.file_issued_at or run.approved_at or run.created_at),
            reference=f"CAISSE-RUN-{run.pk}",
            label=_("Settlement run of %(cutoff)s paid (the whole payment file)")
            % {"cutoff": timezone.localtime(run.cutoff).strftime("%d/%m/%Y")}))
    for settlement in (Settlement.objects.filter(status=Settlement.Status.COMMITTED, amount=line.amount,
                                                 run__status__in=_RUNS_AWAITING_BANK)
                       .select_related("vendor", "run").order_by("-id")[:MAX_CANDIDATES]):
        run = settlement.run
        found.append(Candidate(
            token=_token("settlement", settlement.pk), kind=M.SETTLEMENT, amount=settlement.amount, four_eyes=True,
            target=settlement, expected_on=timezone.localdate(run.file_issued_at or run.approved_at or run.created_at),
            reference=settlement.number,
            label=_("Settlement %(number)s to %(vendor)s paid")
            % {"number": settlement.number, "vendor": settlement.vendor.display_name}))
    # Debits collected and not returned: their payment's key (members.contributions).
    collected = set(ContributionPayment.objects.filter(
        method=ContributionPayment.Method.DIRECT_DEBIT, amount=line.amount, rejected_at__isnull=True,
        reversal__isnull=True).values_list("transfer__idempotency_key", flat=True))
    for debit in (DirectDebit.objects.filter(amount=line.amount, collection__confirmed_at__isnull=False)
                  .select_related("mandate", "collection", "household").order_by("-id")[:MAX_CANDIDATES * 5]):
        collection = debit.collection
        key = contribution_keys.contribution_direct_debit(debit.mandate.reference, collection.period,
                                                          collection.presentation)
        if key not in collected:
            continue  # not collected, or already returned
        found.append(Candidate(
            token=_token("debit_return", debit.pk), kind=M.DIRECT_DEBIT_RETURN, amount=debit.amount, target=debit,
            expected_on=collection.collection_date, reference=debit.end_to_end_id,
            label=_("Direct debit of %(household)s for %(period)s returned by the bank")
            % {"household": debit.household.reference, "period": collection.period}))
    if not line.return_reason:  # a line the bank sent back with a reason is a return, never a fee
        found.append(Candidate(token="bank_fee", kind=M.BANK_FEE, amount=None, expected_on=None,
                               label=_("Bank fee (627)")))
    return found


def _money_in(line: BankStatementLine) -> list[Candidate]:
    found = []
    totals = (DirectDebit.objects.filter(collection__confirmed_at__isnull=True).values("collection_id")
              .annotate(total=Sum("amount")).filter(total=line.amount).values_list("collection_id", flat=True))
    for collection in DirectDebitCollection.objects.filter(pk__in=list(totals[:MAX_CANDIDATES])):
        found.append(Candidate(
            token=_token("collection", collection.pk), kind=M.COLLECTION, amount=line.amount, target=collection,
            expected_on=collection.collection_date, reference=collection.message_id,
            label=_("Direct debit collection of %(period)s (presentation %(n)s)")
            % {"period": collection.period, "n": collection.presentation}))
    for settlement in (Settlement.objects.filter(status__in=[Settlement.Status.COMMITTED, Settlement.Status.PAID],
                                                 amount=line.amount)
                       .select_related("vendor").order_by("-id")[:MAX_CANDIDATES]):
        found.append(Candidate(
            token=_token("settlement_return", settlement.pk), kind=M.SETTLEMENT_RETURN, amount=settlement.amount,
            four_eyes=True, target=settlement, expected_on=settlement.value_date, reference=settlement.number,
            label=_("Settlement %(number)s to %(vendor)s returned by the shop's bank")
            % {"number": settlement.number, "vendor": settlement.vendor.display_name}))
    received = dict(GrantReceipt.objects.filter(transfer__reversed_by__isnull=True).values("grant_id")
                    .annotate(total=Sum("amount")).values_list("grant_id", "total"))
    for grant in Grant.objects.order_by("-promised_on", "-id")[:200]:
        outstanding = grant.amount - (received.get(grant.pk) or 0)
        if outstanding < line.amount:
            continue
        found.append(Candidate(
            token=_token("grant", grant.pk), kind=M.GRANT, amount=outstanding, target=grant, expected_on=grant.promised_on,
            reference=grant.reference,
            label=_("Grant %(reference)s from %(funder)s (%(outstanding)s still expected)")
            % {"reference": grant.reference, "funder": grant.funder_name, "outstanding": euros(outstanding)}))
    if fund_position().cash >= line.amount:
        found.append(Candidate(token="cash_deposit", kind=M.CASH_DEPOSIT, amount=None, expected_on=None,
                               label=_("Cash from the desks deposited")))
    return found


def candidates(line: BankStatementLine) -> list[Candidate]:
    """What the fund expects that this line could be, closest first: the reference the
    line names, then the amount, then the days between the line and what was expected."""
    if line.match != M.UNMATCHED or line.reversal:
        return []
    found = _money_in(line) if line.credit else _money_out(line)
    return _ranked(line, found)[:MAX_CANDIDATES]


def _chosen(line: BankStatementLine, token: str) -> Candidate:
    token = (token or "").strip()
    if not _TOKEN.match(token):
        raise StatementError(_("Choose what this line is among the proposed matches."))
    for candidate in candidates(line):
        if candidate.token == token:
            return candidate
    raise StatementError(_("This match is not one the fund expects for this line (its amount, its direction or "
                           "its state do not fit): choose among the proposed matches."))


def _record(line: BankStatementLine, candidate: Candidate, *, reason: str) -> tuple[str, str]:
    day = _line_day(line)
    kind, target = candidate.kind, candidate.target
    if kind == M.SETTLEMENT_RUN:
        return _record_run_paid(target, line, day)
    if kind == M.SETTLEMENT:
        return _record_settlements_paid([target], line, day)
    if kind == M.SETTLEMENT_RETURN:
        return _record_settlement_returns([target], line, day)
    if kind == M.DIRECT_DEBIT_RETURN:
        return _record_debit_returns([target], reason, day)
    if kind == M.COLLECTION:
        return _record_collection(target)
    if kind == M.GRANT:
        return _record_grant(target, line, day)
    if kind == M.CASH_DEPOSIT:
        return _record_cash_deposit(line, day)
    return _record_bank_fee(line, day)


def _reason(line: BankStatementLine, reason: str) -> str:
    reason = compact(reason or line.return_reason).upper()
    if len(reason) != 4 or not reason.isalnum():
        raise StatementError(_("Return reason: give the bank's code of 4 letters and digits (for example AM04, MD06)."))
    return reason


def _lock_unmatched(pk: int) -> BankStatementLine:
    line = BankStatementLine.objects.select_for_update().filter(pk=pk).first()
    if line is None:
        raise StatementError(_("This statement line does not exist."))
    if line.match != M.UNMATCHED:
        who = line.handled_by.get_username() if line.handled_by_id else _("the automatic matching")
        raise StatementError(_("This line has already been matched (%(match)s, by %(who)s): nothing changed.")
                             % {"match": line.get_match_display(), "who": who})
    if _line_day(line) is None:
        raise StatementError(_("No date on this line."))
    return line


def pending_pick(line: BankStatementLine):
    return Approval.objects.filter(action=BANK_MATCH, target__startswith=f"{line.pk}:",
                                   status=Approval.Status.PENDING).first()


@dataclass
class Picked:
    line: BankStatementLine
    approval: Approval | None = None  # waiting for a second coordinator


def pick(line_id: int, token: str, *, by, reason: str = "") -> Picked:
    """A coordinator says what an unmatched line is: one of `candidates`. Recorded at once
    by the automatic matcher's own `_record_*` (dated at the line's value date), or, for a
    settlement, asked of a second coordinator (BANK_MATCH). StatementError, nothing
    changed, for an unknown line, a line already matched (by a colleague a moment ago
    too: the line is locked), or a choice that is not a candidate."""
    with transaction.atomic():
        line = _lock_unmatched(line_id)
        candidate = _chosen(line, token)
        reason = _reason(line, reason) if candidate.kind == M.DIRECT_DEBIT_RETURN else ""
        if pending_pick(line) is not None:
            raise StatementError(_("A match of this line is already waiting for a second coordinator."))
        if candidate.four_eyes:
            try:
                approval = approvals.request(
                    BANK_MATCH, f"{line.pk}:{candidate.token}", by=by,
                    reason=_("Bank line %(reference)s of %(amount)s: %(label)s")
                    % {"reference": line.reference, "amount": euros(line.amount), "label": candidate.label})
            except ValidationError as error:
                raise StatementError(" ".join(error.messages))
            return Picked(line, approval)
        _apply(line, candidate, by=by, reason=reason)
    return Picked(line)


def _apply(line: BankStatementLine, candidate: Candidate, *, by, reason: str) -> None:
    try:
        with transaction.atomic():
            match, matched_object = _record(line, candidate, reason=reason)
    except (DomainError, ValidationError) as error:
        raise StatementError(" ".join(getattr(error, "messages", [str(error)]))[:500])
    line.match, line.matched_object, line.handled_by, line.hint = match, matched_object[:140], by, ""
    line.note = _("matched by a person")
    line.save(update_fields=["match", "matched_object", "handled_by", "hint", "note"])
    # The statement's closing balance is compared with the books as they are now, this
    # line matched: the difference shown is what is still missing.
    statement = BankStatement.objects.select_for_update().get(pk=line.statement_id)
    if statement.closing_date is not None:
        statement.treasury_at_import = books.treasury_at_end_of(statement.closing_date)
        statement.save(update_fields=["treasury_at_import"])


def execute_pick(approval: Approval) -> str:
    """The second coordinator approved a person's match of a line to a settlement."""
    approvals.require(approval, BANK_MATCH, approval.target)
    line_id, token = approval.target.split(":", 1)
    try:
        line = _lock_unmatched(int(line_id))
        candidate = _chosen(line, token)
        _apply(line, candidate, by=approval.requested_by, reason="")
    except StatementError as error:  # the approvals page shows a refusal as a ValidationError
        raise ValidationError(error.message) from error
    return f"{line} → {line.matched_object}"


# --- Reads ------------------------------------------------------------------------------


def unmatched_lines(limit: int = 200):
    return list(BankStatementLine.objects.filter(match=M.UNMATCHED).select_related("statement")
                .order_by("-statement__imported_at", "index")[:limit])
