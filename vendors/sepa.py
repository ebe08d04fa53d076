"""The SEPA credit transfer file of an approved settlement run, for the fund's bank.

pain.001.001.09 by default (what the EPC rulebook requires since November 2023),
pain.001.001.03 for banks that still ask for it. `sepaxml` builds the file and validates
it against the official XSD it ships; a file that does not validate is never returned.

The file carries the settlements the approval committed (their IBAN as approved);
vendors without a valid IBAN were carried over at the approval and are listed by
`unpayable()` for the run's page, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from sepaxml import SepaTransfer

from allocations import fund
from kernel.errors import DomainError

from .models import Settlement, SettlementRun

SCHEMAS = ("pain.001.001.09", "pain.001.001.03")
DEFAULT_SCHEMA = SCHEMAS[0]
FILE_STATUSES = (SettlementRun.Status.APPROVED, SettlementRun.Status.FILE_ISSUED, SettlementRun.Status.PAID)
IN_FILE = (Settlement.Status.COMMITTED, Settlement.Status.PAID, Settlement.Status.RETURNED)


class SepaError(DomainError):
    code = "sepa_refused"


def payment_info_id(run: SettlementRun) -> str:
    """The file's payment block id (PmtInfId): a bank booking the file as one line gives it back."""
    return f"CAISSE-RUN-{run.pk}"


def end_to_end_id(settlement: Settlement) -> str:
    """The line's id in the file, which the bank's statement gives back (EndToEndId)."""
    return f"CAISSE-{settlement.number}"


@dataclass(frozen=True)
class PaymentFile:
    filename: str
    content: bytes
    count: int
    total: int  # cents


def _debtor() -> dict:
    account = fund.bank_account()
    return {"name": account.name, "IBAN": account.iban, "BIC": account.bic, "batch": True, "currency": "EUR"}


def unpayable(run: SettlementRun):
    """The run's settlements that no file can carry: vendors without a valid IBAN."""
    return run.settlements.filter(status=Settlement.Status.CARRIED).select_related("vendor").order_by("number")


def credit_transfer_file(run: SettlementRun, *, schema: str = DEFAULT_SCHEMA) -> PaymentFile:
    if schema not in SCHEMAS:
        raise SepaError(_("Unknown SEPA version: %(schema)s") % {"schema": schema})
    if run.status not in FILE_STATUSES:
        raise SepaError(_("The payment file exists once a second coordinator has approved the payment."))
    # Every line the approval put in the file, whatever the bank has since said of it:
    # the same run's file is the same file.
    paid = list(run.settlements.filter(status__in=IN_FILE).exclude(iban="").select_related("vendor")
                .order_by("number"))
    if not paid:
        raise SepaError(_("No settlement of this run can be paid by transfer."))
    transfer = SepaTransfer(_debtor(), schema=schema, clean=True)
    # The same date for the whole run: one payment information block.
    execution = max(timezone.localdate(run.approved_at or timezone.now()), timezone.localdate())
    for settlement in paid:
        vendor = settlement.vendor
        transfer.add_payment({
            "name": vendor.legal_name or vendor.display_name,
            "IBAN": settlement.iban,
            "BIC": settlement.bic,
            "amount": int(settlement.amount),
            "execution_date": execution,
            "description": f"Remboursement {settlement.number} {fund.current().unit_label}",
            "endtoend_id": end_to_end_id(settlement),
        })
    # A fixed message id: the same run downloaded twice is the same file to the bank,
    # which refuses a duplicate instead of paying twice.
    transfer.msg_id = run.message_id
    transfer._xml.find("CstmrCdtTrfInitn/GrpHdr/MsgId").text = run.message_id
    # The payment information id too (made by sepaxml when it closes the batch): the bank's
    # statement books the file as one line under it, which is how an imported statement
    # finds the run (coordination.bank).
    finalize = transfer._finalize_batch

    def finalize_with_our_id():
        finalize()
        for info in transfer._xml.iter("PmtInfId"):
            info.text = payment_info_id(run)

    transfer._finalize_batch = finalize_with_our_id
    content = transfer.export(validate=True)
    return PaymentFile(
        filename=f"virements-{run.message_id}-{schema}.xml",
        content=content,
        count=len(paid),
        total=sum(settlement.amount for settlement in paid),
    )
