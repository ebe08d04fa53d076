"""The ledger: accounts and the transfers between them, in integer cents.

The ledger knows accounts, not people or shops: `members` and `vendors` hold a
one-to-one link to the accounts they own. Every movement of money is a `Transfer`;
the balance stored on an account changes in the same database transaction (see
`allocations.ledger`).
"""

from django.conf import settings
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
    # Cash taken at the desks, until it is deposited at the bank (530, apart from 512).
    CASH = "cash", _("cash (taken at the desks, not yet at the bank)")
    GRANTS = "grants", _("grants received")
    CONTRIBUTIONS = "contributions", _("contributions received")
    REIMBURSEMENTS = "reimbursements", _("reimbursements paid out")
    # What the bank charged the fund (its fees, 627): an expense paid from the treasury.
    BANK_FEES = "bank_fees", _("bank fees paid")
    # Fund-unit accounts
    ISSUANCE = "issuance", _("units issued")
    EXPIRY = "expiry", _("units expired")
    WALLET = "wallet", _("household wallet")
    VENDOR = "vendor", _("vendor (owed by the fund)")


EURO_KINDS = (AccountKind.TREASURY, AccountKind.GRANTS, AccountKind.CONTRIBUTIONS, AccountKind.REIMBURSEMENTS,
              AccountKind.CASH, AccountKind.BANK_FEES)
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
    AccountKind.CASH,
    AccountKind.BANK_FEES,
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
    CASH_DEPOSIT = "cash_deposit", _("cash deposited at the bank")
    BANK_FEE = "bank_fee", _("bank fee")


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
    # The bank's value date of a euro movement it made (a settlement paid, a direct debit
    # collected, a grant received), else the fund's day of created_at: what the books date by.
    value_date = models.DateField(_("value date"), null=True, blank=True)

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


# --- Fund rules and the monthly issuance ------------------------------------------------


class RolloverPolicy(models.TextChoices):
    NONE = "none", _("none: unspent balance returns to the fund")
    CAP = "cap", _("capped: carried over up to a cap")
    FULL = "full", _("full: carried over entirely")


class ArrearsPolicy(models.TextChoices):
    # Contributions are chosen by the household; the committee decides whether missing
    # ones ever stop the allocation. Read by the contributions feature, not by issuance.
    KEEP_ALLOCATING = "keep", _("keep allocating, follow up with the household")
    PAUSE_AFTER_GRACE = "pause", _("pause the allocation after the grace period")


class FundRules(models.Model):
    """One version of the committee's rules, in force from `effective_from` (a month).

    Versions are never rewritten: a change is a new version starting at a future period
    (`allocations.rules.create_version`). Amounts are in cents.
    """

    effective_from = models.DateField(_("in force from (first day of a month)"), unique=True)
    allocation_per_household = models.PositiveIntegerField(_("allocation per household (cents)"))
    supplement_per_extra_adult = models.PositiveIntegerField(_("supplement per extra adult (cents)"), default=0)
    supplement_per_child = models.PositiveIntegerField(_("supplement per child (cents)"), default=0)
    minimum_contribution = models.PositiveIntegerField(_("minimum contribution (cents)"), default=100)
    minimum_contribution_per_extra_person = models.PositiveIntegerField(
        _("minimum contribution per extra person (cents)"), default=0
    )
    # [{"income_per_person_up_to": cents or null for the last band, "suggested": cents}, ...]
    contribution_grid = models.JSONField(_("suggested contribution grid"), default=list, blank=True)
    rollover_policy = models.CharField(
        _("rollover of unspent balance"), max_length=8, choices=RolloverPolicy.choices, default=RolloverPolicy.FULL
    )
    rollover_cap = models.PositiveIntegerField(_("rollover cap (cents)"), default=0)
    prorate_first_month = models.BooleanField(_("prorate the first month of a household joining mid-month"), default=False)
    arrears_policy = models.CharField(
        _("arrears policy"), max_length=8, choices=ArrearsPolicy.choices, default=ArrearsPolicy.KEEP_ALLOCATING
    )
    arrears_grace_months = models.PositiveSmallIntegerField(_("grace period for arrears (months)"), default=3)
    # The governance decision that adopted this version; empty for the initial setup.
    # A reference rather than a foreign key: the governance models do not exist yet.
    decision_reference = models.CharField(_("decision reference"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("fund rules version")
        verbose_name_plural = _("fund rules versions")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(rollover_policy=RolloverPolicy.CAP) | Q(rollover_cap__gt=0),
                name="fundrules_cap_policy_has_a_cap",
            ),
            models.CheckConstraint(condition=Q(allocation_per_household__gt=0), name="fundrules_allocation_positive"),
        ]

    def __str__(self):
        return f"{self.effective_from:%Y-%m}"

    @property
    def kept_balance(self) -> int | None:
        """What a wallet keeps at the end of a period; None when everything is kept."""
        return {RolloverPolicy.NONE: 0, RolloverPolicy.CAP: self.rollover_cap}.get(self.rollover_policy)


class IssuanceRun(models.Model):
    """The issuance of one period (YYYY-MM): planned once, worked chunk by chunk, resumable."""

    class Status(models.TextChoices):
        REFUSED = "refused", _("refused (insufficient reserve)")
        RUNNING = "running", _("running")
        FAILED = "failed", _("failed (will resume)")
        DONE = "done", _("done")

    period = models.CharField(_("period"), max_length=7, unique=True)
    rules = models.ForeignKey(FundRules, on_delete=models.PROTECT, related_name="runs", verbose_name=_("rules applied"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.RUNNING)
    # What planning expected, then what the rows written say (added per chunk, in the
    # chunk's own transaction, so a chunk delivered twice cannot count twice).
    planned_households = models.PositiveIntegerField(_("households planned"), default=0)
    planned_total = models.BigIntegerField(_("total planned (cents)"), default=0)
    households_credited = models.PositiveIntegerField(_("households credited"), default=0)
    total_issued = models.BigIntegerField(_("total issued (cents)"), default=0)
    households_expired = models.PositiveIntegerField(_("wallets with an expiry"), default=0)
    total_expired = models.BigIntegerField(_("total expired (cents)"), default=0)
    first_household_id = models.BigIntegerField(_("first household id"), default=0)
    last_household_id = models.BigIntegerField(_("last household id"), default=0)
    chunk_size = models.PositiveIntegerField(_("households per chunk"), default=5000)
    chunks_total = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    last_chunk_done = models.IntegerField(_("last chunk done"), null=True, blank=True)
    reserve_before = models.BigIntegerField(_("available reserve before (cents)"), null=True, blank=True)
    reserve_after = models.BigIntegerField(_("available reserve after (cents)"), null=True, blank=True)
    forced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("forced by"),
    )
    force_reason = models.TextField(_("reason for forcing"), blank=True)
    message = models.TextField(_("message"), blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("issuance run")
        verbose_name_plural = _("issuance runs")
        ordering = ["-period"]

    def __str__(self):
        return f"{self.period} ({self.status})"


class IssuanceChunk(models.Model):
    """Households [lo, hi) of a run. Its row is locked while it is worked and marked done
    in the same transaction as its transfers: a duplicate delivery finds it done."""

    run = models.ForeignKey(IssuanceRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    lo = models.BigIntegerField()
    hi = models.BigIntegerField()
    done = models.BooleanField(default=False)
    households_credited = models.PositiveIntegerField(default=0)
    total_issued = models.BigIntegerField(default=0)
    households_expired = models.PositiveIntegerField(default=0)
    total_expired = models.BigIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("issuance chunk")
        verbose_name_plural = _("issuance chunks")
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="issuancechunk_run_index_unique")]


# --- Four eyes: a second coordinator's approval ------------------------------------------


class Approval(models.Model):
    """A sensitive step asked by one coordinator, taking effect only once another approves.

    Generic on purpose: `action` names the step, `target` what it applies to (a settlement
    run, a period, a transfer), and the step's service refuses to act without an executed
    approval for that pair (allocations.approvals).
    """

    class Action(models.TextChoices):
        SETTLEMENT_PAYMENT = "settlement_payment", _("payment of a settlement run")
        FORCED_ISSUANCE = "forced_issuance", _("issuance forced beyond the reserve")
        REVERSAL = "reversal", _("reversal of a transfer")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for a second coordinator")
        EXECUTED = "executed", _("approved and carried out")
        REFUSED = "refused", _("refused")

    # Any step registered with kernel.four_eyes; `Action` names the ledger's own.
    action = models.CharField(_("action"), max_length=32)
    target = models.CharField(_("applies to"), max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("asked by")
    )
    requested_at = models.DateTimeField(_("asked at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("approved or refused by"),
    )
    decided_at = models.DateTimeField(_("approved or refused at"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "target"], condition=Q(status="pending"), name="approval_one_pending_per_target"
            ),
            # The database itself refuses one person approving their own request.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")) | Q(status="refused"),
                name="approval_by_another_coordinator",
            ),
        ]

    def __str__(self):
        return f"{self.action_label} {self.target} ({self.status})"

    @property
    def action_label(self) -> str:
        from kernel import four_eyes

        return four_eyes.label(self.action)
# --- Grants ---------------------------------------------------------------------------


class Grant(models.Model):
    """A grant or subsidy promised to the fund; each receipt is a transfer grants → treasury."""

    class Funder(models.TextChoices):
        STATE = "state", _("State")
        REGION = "region", _("region")
        DEPARTMENT = "department", _("department")
        CITY = "city", _("city")
        METROPOLE = "metropole", _("metropole")
        FOUNDATION = "foundation", _("foundation")
        OTHER = "other", _("other")

    funder_type = models.CharField(_("funder type"), max_length=16, choices=Funder.choices)
    funder_name = models.CharField(_("funder"), max_length=200)
    reference = models.CharField(_("reference"), max_length=64, unique=True)
    amount = models.BigIntegerField(_("amount promised (cents)"))
    promised_on = models.DateField(_("promised on"))
    # What the grant was given for, as the funder's agreement says (allocations, running
    # costs, a district...): repeated in its report.
    earmark = models.CharField(_("earmark"), max_length=255, blank=True)
    period_start = models.DateField(_("covers from"), null=True, blank=True)
    period_end = models.DateField(_("covers until"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        ordering = ["-promised_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="grant_amount_positive")]

    def __str__(self):
        return f"{self.funder_name} {self.reference}"


class GrantReceipt(models.Model):
    """One payment received for a grant (often in tranches), with its ledger transfer."""

    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="receipts")
    amount = models.BigIntegerField(_("amount received (cents)"))
    received_on = models.DateField(_("received on"))
    # The bank's reference of the credit: also the transfer's key, so a receipt entered
    # twice moves the money once.
    bank_reference = models.CharField(_("bank reference"), max_length=64)
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("grant receipt")
        verbose_name_plural = _("grant receipts")
        ordering = ["received_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["grant", "bank_reference"], name="grantreceipt_unique_reference"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="grantreceipt_amount_positive"),
        ]


# The highest cap or threshold the fund's settings accept: 10 000 €.
CAP_LIMIT_CENTS = 1_000_000


class FundSettings(models.Model):
    """The fund's own settings, one row (pk 1), edited by coordinators (allocations.fund).
    Read through `allocations.fund.cached()` (Redis, refreshed when a change commits); the
    till reads its caps from a copy in its process, at most a few seconds old: it reads no
    row per purchase.

    Read at first use from the environment's values (FUND_NAME, FUND_BANK_IBAN, ...), so that
    a deployment configured by environment variables keeps working; from then on the row
    is what counts. Bank details change only under four eyes.
    """

    name = models.CharField(_("fund's name"), max_length=140)
    unit_label = models.CharField(_("unit's name"), max_length=20)
    bank_iban = models.CharField(_("bank account IBAN"), max_length=34, blank=True)
    bank_bic = models.CharField(_("bank BIC"), max_length=11, blank=True)
    sepa_creditor_id = models.CharField(_("SEPA creditor identifier"), max_length=35, blank=True)
    collection_day = models.PositiveSmallIntegerField(_("direct debit collection day"), default=5)
    # New bank details asked by one coordinator, applied when a second one approves.
    proposed_bank_iban = models.CharField(_("proposed IBAN"), max_length=34, blank=True)
    proposed_bank_bic = models.CharField(_("proposed BIC"), max_length=11, blank=True)
    proposed_sepa_creditor_id = models.CharField(_("proposed SEPA creditor identifier"), max_length=35, blank=True)
    # The till's caps and the corrections' thresholds, in cents (0: none, for the daily cap).
    max_purchase_cents = models.PositiveIntegerField(_("maximum for one purchase (cents)"), default=50_000)
    daily_cap_per_card_cents = models.PositiveIntegerField(
        _("cap per card, per shop, per day (cents, 0: none)"), default=0)
    refund_four_eyes_above_cents = models.PositiveIntegerField(
        _("a coordinator's refund above this waits for a second one (cents)"), default=5_000)
    desk_cash_ceiling_cents = models.PositiveIntegerField(
        _("one cash payment at a desk above this waits for a coordinator (cents)"), default=20_000)
    phone_pin_above_cents = models.PositiveIntegerField(
        _("above this, a payment from one's phone asks for the PIN (cents)"), default=2_000)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # Higher at every change, and than any before a restore of the database (the time in
    # microseconds, or one more): the cache keeps the newest (allocations.fund.cached).
    version = models.PositiveBigIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("fund settings")
        verbose_name_plural = _("fund settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="fund_settings_single_row"),
            models.CheckConstraint(condition=Q(collection_day__gte=1, collection_day__lte=28),
                                   name="fund_settings_collection_day_in_month"),
            # Sane ranges: a purchase of at least one cent, and no cap or threshold above
            # 10 000 € (an extra zero typed is refused, not enforced at every till).
            models.CheckConstraint(condition=Q(max_purchase_cents__gte=1, max_purchase_cents__lte=CAP_LIMIT_CENTS),
                                   name="fund_settings_max_purchase_in_range"),
            models.CheckConstraint(condition=Q(daily_cap_per_card_cents__lte=CAP_LIMIT_CENTS),
                                   name="fund_settings_daily_cap_in_range"),
            models.CheckConstraint(condition=Q(refund_four_eyes_above_cents__lte=CAP_LIMIT_CENTS),
                                   name="fund_settings_refund_four_eyes_in_range"),
            models.CheckConstraint(condition=Q(desk_cash_ceiling_cents__lte=CAP_LIMIT_CENTS),
                                   name="fund_settings_desk_cash_ceiling_in_range"),
            models.CheckConstraint(condition=Q(phone_pin_above_cents__lte=CAP_LIMIT_CENTS),
                                   name="fund_settings_phone_pin_in_range"),
        ]

    def __str__(self):
        return self.name
