"""The SEPA credit transfer file of a paid settlement run, for the fund's bank.

pain.001.001.09 by default (what the EPC rulebook requires since November 2023),
pain.001.001.03 for banks that still ask for it. `sepaxml` builds the file and validates
it against the official XSD it ships; a file that does not validate is never returned.

The file carries the settlements actually paid (status paid, their IBAN as paid);
vendors without a valid IBAN were carried over at payment and are listed by
`unpayable()` for the run's page, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from sepaxml import SepaTransfer

from kernel.banking import compact, iban_valid
from kernel.errors import DomainError

from .models import Settlement, SettlementRun

SCHEMAS = ("pain.001.001.09", "pain.001.001.03")
DEFAULT_SCHEMA = SCHEMAS[0]


class SepaError(DomainError):
    code = "sepa_refused"


@dataclass(frozen=True)
class PaymentFile:
    filename: str
    content: bytes
    count: int
    total: int  # cents


def _debtor() -> dict:
    iban, bic = compact(settings.FUND_BANK_IBAN), compact(settings.FUND_BANK_BIC)
    if not iban_valid(iban) or not bic:
        raise SepaError(_("The fund's bank account is not configured (FUND_BANK_IBAN and FUND_BANK_BIC)."))
    return {"name": settings.FUND_NAME, "IBAN": iban, "BIC": bic, "batch": True, "currency": "EUR"}


def unpayable(run: SettlementRun):
    """The run's settlements that no file can carry: vendors without a valid IBAN."""
    return run.settlements.filter(status=Settlement.Status.CARRIED).select_related("vendor").order_by("number")


def credit_transfer_file(run: SettlementRun, *, schema: str = DEFAULT_SCHEMA) -> PaymentFile:
    if schema not in SCHEMAS:
        raise SepaError(_("Unknown SEPA version: %(schema)s") % {"schema": schema})
    if run.status != SettlementRun.Status.PAID:
        raise SepaError(_("The payment file exists once a second coordinator has approved the payment."))
    paid = list(run.settlements.filter(status=Settlement.Status.PAID).select_related("vendor").order_by("number"))
    if not paid:
        raise SepaError(_("No settlement of this run can be paid by transfer."))
    transfer = SepaTransfer(_debtor(), schema=schema, clean=True)
    # The same date for the whole run: one payment information block.
    execution = max(timezone.localdate(run.paid_at or timezone.now()), timezone.localdate())
    for settlement in paid:
        vendor = settlement.vendor
        transfer.add_payment({
            "name": vendor.legal_name or vendor.display_name,
            "IBAN": settlement.iban,
            "BIC": settlement.bic,
            "amount": int(settlement.amount),
            "execution_date": execution,
            "description": f"Remboursement {settlement.number} {settings.FUND_UNIT_LABEL}",
            "endtoend_id": f"CAISSE-{settlement.number}",
        })
    # A fixed message id: the same run downloaded twice is the same file to the bank,
    # which refuses a duplicate instead of paying twice.
    transfer.msg_id = run.message_id
    transfer._xml.find("CstmrCdtTrfInitn/GrpHdr/MsgId").text = run.message_id
    content = transfer.export(validate=True)
    return PaymentFile(
        filename=f"virements-{run.message_id}-{schema}.xml",
        content=content,
        count=len(paid),
        total=sum(settlement.amount for settlement in paid),
    )
