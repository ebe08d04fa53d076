"""camt.053 statements built for the tests, in both versions the fund reads, each checked
against the official schema (coordination/schemas/) before a test uses it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import xmlschema

SCHEMAS = Path(__file__).resolve().parent.parent / "coordination" / "schemas"
FUND_IBAN = "FR7630006000011234567890189"


@dataclass
class Entry:
    amount: int  # cents, positive
    credit: bool
    day: date
    reference: str = ""
    bank_code: tuple[str, str, str] | None = ("PMNT", "ICDT", "ESCT")
    proprietary_code: str = ""  # the bank's own code (BkTxCd/Prtry/Cd)
    payment_info_id: str = ""
    message_id: str = ""
    end_to_end_ids: list[str] = field(default_factory=list)
    return_reason: str = ""
    remittance: str = ""
    booked: bool = True


def _euros(cents: int) -> str:
    return f"{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _entry(entry: Entry, version: str) -> str:
    status = "BOOK" if entry.booked else "PDNG"
    status_xml = f"<Sts>{status}</Sts>" if version.endswith("02") else f"<Sts><Cd>{status}</Cd></Sts>"
    batch = ""
    if entry.payment_info_id or entry.message_id:
        batch = "<Btch>" + (f"<MsgId>{entry.message_id}</MsgId>" if entry.message_id else "") + (
            f"<PmtInfId>{entry.payment_info_id}</PmtInfId>" if entry.payment_info_id else "") + "</Btch>"
    transactions = ""
    for e2e in entry.end_to_end_ids or ([""] if entry.remittance or entry.return_reason else []):
        refs = f"<Refs><EndToEndId>{escape(e2e or 'NOTPROVIDED')}</EndToEndId></Refs>"
        remittance = f"<RmtInf><Ustrd>{escape(entry.remittance)}</Ustrd></RmtInf>" if entry.remittance else ""
        returned = f"<RtrInf><Rsn><Cd>{entry.return_reason}</Cd></Rsn></RtrInf>" if entry.return_reason else ""
        transactions += f"<TxDtls>{refs}{remittance}{returned}</TxDtls>"
    details = f"<NtryDtls>{batch}{transactions}</NtryDtls>" if batch or transactions else ""
    codes = ""
    if entry.bank_code:
        domain, family, sub = entry.bank_code
        codes = f"<Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn>"
    if entry.proprietary_code:
        codes += f"<Prtry><Cd>{escape(entry.proprietary_code)}</Cd></Prtry>"
    return (
        f'<Ntry><Amt Ccy="EUR">{_euros(entry.amount)}</Amt><CdtDbtInd>{"CRDT" if entry.credit else "DBIT"}</CdtDbtInd>'
        f"{status_xml}<BookgDt><Dt>{entry.day.isoformat()}</Dt></BookgDt><ValDt><Dt>{entry.day.isoformat()}</Dt></ValDt>"
        + (f"<AcctSvcrRef>{escape(entry.reference)}</AcctSvcrRef>" if entry.reference else "")
        + f"<BkTxCd>{codes}</BkTxCd>"
        f"{details}</Ntry>"
    )


def _balance(code: str, cents: int, day: date) -> str:
    return (f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{_euros(cents)}</Amt>'
            f"<CdtDbtInd>{'CRDT' if cents >= 0 else 'DBIT'}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>")


def statement(entries: list[Entry], *, statement_id: str = "STMT-2026-11-30", version: str = "camt.053.001.02",
              iban: str = FUND_IBAN, opening: int = 0, closing: int | None = None,
              day: date = date(2026, 11, 30)) -> bytes:
    """A camt.053 document of one statement, valid against the official schema (checked)."""
    closing = opening + sum(e.amount if e.credit else -e.amount for e in entries if e.booked) if closing is None else closing
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}">'
        f"<BkToCstmrStmt><GrpHdr><MsgId>MSG-{escape(statement_id)}</MsgId><CreDtTm>{day.isoformat()}T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{escape(statement_id)}</Id><CreDtTm>{day.isoformat()}T18:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{_balance('OPBD', opening, day)}{_balance('CLBD', closing, day)}"
        + "".join(_entry(entry, version) for entry in entries)
        + "</Stmt></BkToCstmrStmt></Document>"
    )
    xmlschema.XMLSchema(str(SCHEMAS / f"{version}.xsd")).validate(xml)
    return xml.encode()
