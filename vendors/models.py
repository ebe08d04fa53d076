from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allocations.models import Account, Transfer
from kernel.banking import validate_bic, validate_iban, validate_rna, validate_siret


class Vendor(models.Model):
    """A shop, market stall or farm; only an approved one takes payments."""

    class Kind(models.TextChoices):
        MARKET = "market", _("market stall")
        FARM = "farm", _("farm / producer")
        GROCERY = "grocery", _("grocery shop")
        COOPERATIVE = "cooperative", _("cooperative supermarket")
        BAKERY = "bakery", _("bakery")
        BUTCHER = "butcher", _("butcher")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        APPLIED = "applied", _("applied")
        UNDER_REVIEW = "under_review", _("under review")
        APPROVED = "approved", _("approved")
        PAUSED = "paused", _("paused")
        SUSPENDED = "suspended", _("suspended")
        REVOKED = "revoked", _("revoked")

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    display_name = models.CharField(_("name"), max_length=120)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.APPLIED)
    address = models.CharField(_("address"), max_length=255, blank=True)
    district = models.CharField(_("district"), max_length=64, blank=True)
    opening_hours = models.TextField(_("opening hours"), blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    # A company has a SIRET, an association an RNA number: one of the two.
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, validators=[validate_siret])
    rna = models.CharField(_("RNA number"), max_length=10, blank=True, validators=[validate_rna])
    # Where reimbursements go. Changed only through an IbanChange confirmed by a second
    # coordinator (vendors.services.request_iban_change / confirm_iban_change).
    iban = models.CharField(_("IBAN"), max_length=34, blank=True, validators=[validate_iban])
    bic = models.CharField(_("BIC"), max_length=11, blank=True, validators=[validate_bic])
    contact_name = models.CharField(_("contact person"), max_length=120, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    charter_signed_on = models.DateField(_("charter signed on"), null=True, blank=True)
    charter_version = models.CharField(_("charter version"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)
    # What the fund owes the vendor, in fund units.
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="vendor", verbose_name=_("account"))

    class Meta:
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")

    def __str__(self):
        return self.display_name

    @property
    def takes_payments(self) -> bool:
        return self.status == self.Status.APPROVED


class VendorStaff(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_staff")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="staff")

    class Meta:
        verbose_name = _("vendor staff member")
        verbose_name_plural = _("vendor staff")

    def __str__(self):
        return f"{self.user} @ {self.vendor}"


class StatusChange(models.Model):
    """One step of a vendor's lifecycle: who, when, why, and the decision behind it."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=16, choices=Vendor.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Vendor.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    reason = models.TextField(_("reason"), blank=True)
    # The committee decision that made it, once governance links it; a reference rather
    # than a foreign key so that this table does not wait for the governance models.
    decision_reference = models.CharField(_("decision reference"), max_length=64, blank=True)
    emergency = models.BooleanField(_("emergency suspension"), default=False)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.vendor}: {self.from_status or '-'} → {self.to_status}"


class IbanChange(models.Model):
    """A new IBAN waits for a second coordinator: payment diversion is the classic fraud."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for a second coordinator")
        CONFIRMED = "confirmed", _("confirmed")
        CANCELLED = "cancelled", _("cancelled")

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="iban_changes")
    iban = models.CharField(_("new IBAN"), max_length=34, validators=[validate_iban])
    bic = models.CharField(_("new BIC"), max_length=11, validators=[validate_bic])
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(_("reason"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("confirmed or cancelled by"),
    )
    decided_at = models.DateTimeField(_("confirmed or cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("IBAN change")
        verbose_name_plural = _("IBAN changes")
        ordering = ["-requested_at"]
        constraints = [
            # One pending change at a time, so that nobody confirms a stale one.
            models.UniqueConstraint(fields=["vendor"], condition=Q(status="pending"), name="one_pending_iban_change"),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")) | Q(status="cancelled"),
                name="iban_change_confirmed_by_another",
            ),
        ]

    def __str__(self):
        return f"{self.vendor}: {self.iban[:4]}…{self.iban[-4:]} ({self.status})"


class ApiKey(models.Model):
    """A till's key. Only its SHA-256 is stored: the key itself is shown once.

    The key carries 256 random bits, so a plain hash is enough (no slow KDF needed: there
    is nothing to brute-force) and the lookup is one indexed equality.
    """

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="api_keys")
    label = models.CharField(_("till"), max_length=64)
    prefix = models.CharField(_("key starts with"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.vendor} / {self.label} ({self.prefix}…)"


class Purchase(models.Model):
    """A payment at a vendor. The wallet and card are kept for refunds and for the
    member's history; nothing of them but the card's last four digits ever goes to the
    vendor."""

    # No index of its own: purchase_vendor_newest starts with the vendor (one index less
    # to write on every payment).
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="purchases", db_index=False)
    till = models.CharField(_("till"), max_length=64, blank=True)
    card_id = models.BigIntegerField(_("card"))
    card_last4 = models.CharField(_("card (last 4 digits)"), max_length=4)
    wallet_id = models.BigIntegerField(_("wallet account"))
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(_("captured (cents)"))
    requested = models.BigIntegerField(_("requested (cents)"))
    refunded = models.BigIntegerField(_("refunded (cents)"), default=0)
    reference = models.CharField(_("reference"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        indexes = [models.Index(fields=["vendor", "-id"], name="purchase_vendor_newest")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(amount__lte=models.F("requested")),
                                   name="purchase_amount_within_requested"),
            models.CheckConstraint(condition=Q(refunded__gte=0) & Q(refunded__lte=models.F("amount")),
                                   name="purchase_refunds_within_captured"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.vendor} {self.amount}"

    @property
    def paid_with(self) -> str:
        """What the shop may see of how it was paid: the card's last digits, or that the
        member confirmed on their own phone (nothing of the card then: issue 22)."""
        return f"•••• {self.card_last4}" if self.card_last4 else str(_("phone"))

    @property
    def status(self) -> str:
        if self.refunded == 0:
            return "captured"
        return "refunded" if self.refunded >= self.amount else "partially_refunded"


class Refund(models.Model):
    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, related_name="refunds")
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(_("amount (cents)"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # A coordinator's correction of the purchase; None: the shop refunded it from its till.
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by (coordinator)"))

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")

    def __str__(self):
        return f"refund #{self.pk} of purchase #{self.purchase_id}"


class IdempotencyRecord(models.Model):
    """The stored outcome of a request that moved money, replayed for the same key.

    `fingerprint` hashes what the request asked (never the PIN), so that the same key
    with another body is told apart from a retry.
    """

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="+", db_index=False)  # see Meta
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vendor", "key"], name="idempotency_vendor_key")]


# --- Settlements: reimbursing vendors in euros -------------------------------------------


class SettlementRun(models.Model):
    """One settlement run: every vendor's amount owed at `cutoff`, paid together.

    A run is created by the weekly task or on demand. Its life: waiting → approved (a
    second coordinator; the SEPA credit transfer file may now be made) → file issued →
    paid, once the bank confirms it (an imported statement, or the bank's date entered
    under four eyes). Until then no money has moved: the amounts are committed, neither
    available nor paid (vendors.selectors.committed_total).
    """

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting", _("waiting for a second coordinator")
        APPROVED = "approved", _("approved: payment file to issue")
        FILE_ISSUED = "issued", _("payment file issued: waiting for the bank")
        PAID = "paid", _("paid (confirmed by the bank)")
        EMPTY = "empty", _("nothing to pay")

    # One run per cut-off: a second run at the same cut-off (twice, or concurrently) finds
    # the first instead of paying again.
    cutoff = models.DateTimeField(_("cut-off"), unique=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.AWAITING_APPROVAL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    file_issued_at = models.DateTimeField(_("payment file issued at"), null=True, blank=True)
    # Identifies the payment file at the bank (MsgId / PmtInfId): fixed once, so that a
    # file downloaded twice is recognised as the same by the bank.
    message_id = models.CharField(_("payment file id"), max_length=35, blank=True)

    class Meta:
        verbose_name = _("settlement run")
        verbose_name_plural = _("settlement runs")
        ordering = ["-cutoff"]

    def __str__(self):
        return f"{self.cutoff:%Y-%m-%d %H:%M} ({self.status})"


class Settlement(models.Model):
    """What the fund pays one vendor for its units at a run's cut-off, with its statement."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for payment")
        # In an approved run's payment file: committed, not paid until the bank says so.
        COMMITTED = "committed", _("in the payment file, waiting for the bank")
        PAID = "paid", _("paid")
        # No valid IBAN when the run was approved: not paid, its amount comes back in the next run.
        CARRIED = "carried", _("not paid (no valid IBAN), carried to the next run")
        # The bank returned the transfer (closed account, wrong IBAN): owed again.
        RETURNED = "returned", _("returned by the bank: owed again, in the next run")

    run = models.ForeignKey(SettlementRun, on_delete=models.PROTECT, related_name="settlements")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="settlements")
    number = models.CharField(_("number"), max_length=16, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    period_start = models.DateTimeField(_("from"), null=True, blank=True)
    cutoff = models.DateTimeField(_("to (cut-off)"))
    purchases_count = models.PositiveIntegerField(_("purchases"), default=0)
    purchases_total = models.BigIntegerField(_("purchases (cents)"), default=0)
    refunds_total = models.BigIntegerField(_("refunds (cents)"), default=0)
    # What earlier periods add or take: a refund after the last settlement (negative), or
    # an amount carried from a run that could not pay it.
    carried_over = models.BigIntegerField(_("carried over (cents)"), default=0)
    amount = models.BigIntegerField(_("amount paid (cents)"))
    # Totals per day and per till, fixed when the run was made.
    statement = models.JSONField(_("statement"), default=dict)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    units_transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("units retired")
    )
    euros_transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("euros paid")
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    # The bank's dates, from its statement (or entered from it under four eyes).
    value_date = models.DateField(_("value date (bank)"), null=True, blank=True)
    returned_on = models.DateField(_("returned on (bank)"), null=True, blank=True)
    return_reason = models.CharField(_("reason of the return"), max_length=255, blank=True)
    # The bank's reference of the statement line that confirmed or returned it.
    bank_reference = models.CharField(_("bank reference"), max_length=140, blank=True)

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["-cutoff", "vendor_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "vendor"], name="settlement_one_per_vendor_and_run"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="settlement_amount_positive"),
        ]
        indexes = [models.Index(fields=["vendor", "-cutoff"], name="settlement_vendor_newest")]

    def __str__(self):
        return f"{self.number} {self.vendor} {self.amount}"


# --- Paying from one's own phone ----------------------------------------------------------


class PaymentRequest(models.Model):
    """What a shop asks a member to pay, shown as a QR code and a short code, confirmed on
    the member's own phone (vendors.payment_requests): single use, short lived. Once paid
    it points to an ordinary Purchase; `expired` is not stored, it is `pending` past
    `expires_at`."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for the member")
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", _("cancelled")

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="payment_requests")
    till = models.CharField(_("till"), max_length=64, blank=True)
    code = models.CharField(_("code"), max_length=8, unique=True)
    amount = models.BigIntegerField(_("amount (cents)"))
    reference = models.CharField(_("reference"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # The purchase's Idempotency-Key: random, never shown to the shop, so that no till
    # key can ever collide with it.
    capture_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    decided_at = models.DateTimeField(_("paid or cancelled at"), null=True, blank=True)
    purchase = models.OneToOneField(Purchase, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("payment request")
        verbose_name_plural = _("payment requests")
        indexes = [models.Index(fields=["vendor", "-id"], name="payment_request_vendor_newest")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_request_amount_positive"),
            models.CheckConstraint(condition=Q(status="paid", purchase__isnull=False) | (~Q(status="paid") & Q(purchase__isnull=True)),
                                   name="payment_request_paid_has_purchase"),
        ]

    def __str__(self):
        return f"{self.code} {self.vendor} {self.amount} ({self.status})"
