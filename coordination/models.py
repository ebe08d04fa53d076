"""Bank statements imported by coordinators (camt.053, coordination.bank): the statement
once (its id is unique: importing it twice changes nothing), each of its lines with what
it was matched to, or listed for a person to match."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BankStatement(models.Model):
    # The bank's id of the statement (Stmt/Id) and the account's IBAN: one import each.
    statement_id = models.CharField(_("statement id"), max_length=35)
    account_iban = models.CharField(_("account IBAN"), max_length=34)
    version = models.CharField(_("camt version"), max_length=20)
    created_at = models.DateTimeField(_("made by the bank at"), null=True, blank=True)
    opening_balance = models.BigIntegerField(_("opening balance (cents)"), null=True, blank=True)
    closing_balance = models.BigIntegerField(_("closing balance (cents)"), null=True, blank=True)
    closing_date = models.DateField(_("closing balance date"), null=True, blank=True)
    # The books' bank balance at the closing balance's date, when it was imported (its
    # lines matched), and again each time a person matches one of its lines: the
    # difference is shown.
    treasury_at_import = models.BigIntegerField(_("treasury at import (cents)"), default=0)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("imported by"),
    )

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-imported_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account_iban", "statement_id"], name="bank_statement_once"),
        ]

    def __str__(self):
        return self.statement_id

    @property
    def difference(self) -> int | None:
        if self.closing_balance is None:
            return None
        return self.closing_balance - self.treasury_at_import


class BankStatementLine(models.Model):
    class Match(models.TextChoices):
        UNMATCHED = "unmatched", _("to match by a person")
        SETTLEMENT_RUN = "settlement_run", _("settlement run paid (one line for the file)")
        SETTLEMENT = "settlement", _("settlement paid")
        SETTLEMENT_RETURN = "settlement_return", _("settlement returned by the shop's bank")
        COLLECTION = "collection", _("direct debit collection")
        DIRECT_DEBIT_RETURN = "direct_debit_return", _("direct debit returned")
        GRANT = "grant", _("grant received")
        CASH_DEPOSIT = "cash_deposit", _("cash deposited from the desks")
        BANK_FEE = "bank_fee", _("bank fee")
        # A person found what it is and recorded it where it belongs, or found nothing to
        # record: the note says. (A person's pick among the candidates is stored as the
        # match it is, handled_by naming them.)
        BY_HAND = "by_hand", _("handled by a person")

    class Hint(models.TextChoices):
        NONE = "", _("—")
        CASH_DEPOSIT = "cash_deposit", _("cash deposit")
        BANK_FEE = "bank_fee", _("bank fee")

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="lines")
    index = models.PositiveIntegerField(_("line"))
    reference = models.CharField(_("bank reference"), max_length=140, blank=True)
    amount = models.BigIntegerField(_("amount (cents)"))
    credit = models.BooleanField(_("credit"))
    reversal = models.BooleanField(_("reversal"), default=False)
    booking_date = models.DateField(_("booking date"), null=True, blank=True)
    value_date = models.DateField(_("value date"), null=True, blank=True)
    bank_code = models.CharField(_("bank transaction code"), max_length=40, blank=True)
    payment_info_id = models.CharField(_("payment information id"), max_length=35, blank=True)
    message_id = models.CharField(_("message id"), max_length=35, blank=True)
    end_to_end_ids = models.JSONField(_("end-to-end ids"), default=list, blank=True)
    return_reason = models.CharField(_("return reason"), max_length=8, blank=True)
    remittance = models.CharField(_("remittance information"), max_length=500, blank=True)
    match = models.CharField(_("matched to"), max_length=20, choices=Match.choices, default=Match.UNMATCHED)
    matched_object = models.CharField(_("matched object"), max_length=140, blank=True)
    hint = models.CharField(_("looks like"), max_length=16, choices=Hint.choices, blank=True, default="")
    note = models.CharField(_("note"), max_length=255, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("handled by"),
    )

    class Meta:
        verbose_name = _("bank statement line")
        verbose_name_plural = _("bank statement lines")
        ordering = ["statement", "index"]
        constraints = [models.UniqueConstraint(fields=["statement", "index"], name="bank_statement_line_once")]
        indexes = [models.Index(fields=["match"], name="bank_line_match")]

    def __str__(self):
        return f"{self.statement_id}:{self.index}"


class ClosedYear(models.Model):
    """A financial year closed by a coordinator: its FEC, as it was at the closing, kept
    (compressed) and served from then on, byte for byte. Later corrections are dated in
    the first open year (coordination.books)."""

    year = models.PositiveSmallIntegerField(_("financial year"), unique=True)
    # First day after the year: what a later correction of it is dated.
    ends_on = models.DateField(_("first day after the year"))
    closed_at = models.DateTimeField(_("closed at"), default=timezone.now)
    # The last transfer in the books when it was closed: any later one (even dated back
    # into the year) is booked in the open year.
    last_transfer_id = models.BigIntegerField(_("last transfer at the closing"), default=0)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("closed by"),
    )
    fec_tab = models.BinaryField(_("FEC (tab-separated, gzip)"))
    fec_pipe = models.BinaryField(_("FEC (pipe-separated, gzip)"))
    sha256 = models.CharField(_("SHA-256 of the FEC (tab-separated)"), max_length=64)

    class Meta:
        verbose_name = _("closed financial year")
        verbose_name_plural = _("closed financial years")
        ordering = ["-year"]

    def __str__(self):
        return str(self.year)
