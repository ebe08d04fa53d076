"""The ledger: accounts and the transfers between them, in integer cents.

The ledger knows accounts, not people or shops: `members` and `vendors` hold a
one-to-one link to the accounts they own. Every movement of money is a `Transfer`;
the balance stored on an account changes in the same database transaction (see
`allocations.ledger`).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Unit(models.TextChoices):
    EURO = "EUR", _("euro")
    FUND_UNIT = "UNIT", _("fund unit")


class AccountKind(models.TextChoices):
    # Euro accounts
    TREASURY = "treasury", _("treasury (the fund's bank balance)")
    GRANTS = "grants", _("grants received")
    CONTRIBUTIONS = "contributions", _("contributions received")
    REIMBURSEMENTS = "reimbursements", _("reimbursements paid out")
    # Fund-unit accounts
    ISSUANCE = "issuance", _("units issued")
    EXPIRY = "expiry", _("units expired")
    WALLET = "wallet", _("household wallet")
    VENDOR = "vendor", _("vendor (owed by the fund)")


EURO_KINDS = (AccountKind.TREASURY, AccountKind.GRANTS, AccountKind.CONTRIBUTIONS, AccountKind.REIMBURSEMENTS)
UNIT_KINDS = (AccountKind.ISSUANCE, AccountKind.EXPIRY, AccountKind.WALLET, AccountKind.VENDOR)

# Sources are debited to bring money into the ledger, so their balance is negative by
# construction. A vendor account may go negative through a refund after its
# reimbursement: the difference is taken from its next one. Everything else, wallets
# first, never goes below zero.
MAY_GO_NEGATIVE = (AccountKind.GRANTS, AccountKind.CONTRIBUTIONS, AccountKind.ISSUANCE, AccountKind.VENDOR)

# The fund's own accounts, one of each, created by migration and found by code.
SYSTEM_KINDS = (
    AccountKind.TREASURY,
    AccountKind.GRANTS,
    AccountKind.CONTRIBUTIONS,
    AccountKind.REIMBURSEMENTS,
    AccountKind.ISSUANCE,
    AccountKind.EXPIRY,
)


class Account(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    unit = models.CharField(_("unit"), max_length=4, choices=Unit.choices)
    # Set for the fund's system accounts (their kind), empty for wallets and vendors.
    code = models.CharField(_("code"), max_length=32, unique=True, null=True, blank=True)
    balance = models.BigIntegerField(_("balance (cents)"), default=0)
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0) | Q(kind__in=MAY_GO_NEGATIVE),
                name="account_balance_not_negative",
                violation_error_message=_("This account's balance cannot go below zero."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=EURO_KINDS, unit=Unit.EURO) | Q(kind__in=UNIT_KINDS, unit=Unit.FUND_UNIT),
                name="account_unit_matches_kind",
            ),
            # Target of the (account, unit) foreign keys that keep both sides of a
            # transfer in the same unit (added in SQL by migration 0002).
            models.UniqueConstraint(fields=["id", "unit"], name="account_id_unit_unique"),
        ]

    def __str__(self):
        label = self.code or f"{self.get_kind_display()} #{self.pk}"
        return f"{label} ({self.unit})"


class TransferKind(models.TextChoices):
    GRANT = "grant", _("grant received")
    CONTRIBUTION = "contribution", _("contribution paid")
    ALLOCATION = "allocation", _("monthly allocation")
    EXPIRY = "expiry", _("unspent balance expired")
    PURCHASE = "purchase", _("purchase")
    REFUND = "refund", _("refund")
    SETTLEMENT = "settlement", _("vendor settlement (units retired)")
    REIMBURSEMENT = "reimbursement", _("vendor reimbursement (euros paid)")
    EXIT = "exit", _("balance returned on exit")
    REVERSAL = "reversal", _("reversal")


class Transfer(models.Model):
    """An immutable movement of `amount` cents from `debit` to `credit`.

    Immutability is enforced by the database (a trigger rejects UPDATE and DELETE);
    a mistake is corrected by a new transfer that `reverses` the first.
    """

    debit = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="debits", db_index=False, verbose_name=_("debited account")
    )
    credit = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="credits", db_index=False, verbose_name=_("credited account")
    )
    unit = models.CharField(_("unit"), max_length=4, choices=Unit.choices)
    amount = models.BigIntegerField(_("amount (cents)"))
    kind = models.CharField(_("kind"), max_length=16, choices=TransferKind.choices)
    # Anything a retry could repeat carries a key: a repeat finds it and moves nothing.
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, unique=True, null=True, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by", verbose_name=_("reverses")
    )
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(debit=models.F("credit")), name="transfer_distinct_accounts"),
        ]
        indexes = [
            # An account's history, newest first.
            models.Index(fields=["debit", "-id"], name="transfer_debit_history"),
            models.Index(fields=["credit", "-id"], name="transfer_credit_history"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.kind} {self.amount} {self.unit} {self.debit_id}→{self.credit_id}"
