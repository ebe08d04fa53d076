from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allocations.models import Account
from kernel.banking import compact, validate_bic, validate_iban

from .brackets import AgeBracket, IncomeBracket


class Household(models.Model):
    """A household (foyer) of the fund: it owns one wallet, shared by its cards."""

    class Status(models.TextChoices):
        APPLICANT = "applicant", _("applicant")
        DRAWN = "drawn", _("drawn")
        WAITLISTED = "waitlisted", _("waitlisted")
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("paused")
        EXITED = "exited", _("exited")

    reference = models.CharField(_("reference"), max_length=32, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.APPLICANT)
    adults = models.PositiveSmallIntegerField(_("adults"), default=1)
    children = models.PositiveSmallIntegerField(_("children"), default=0)
    district = models.CharField(_("district"), max_length=64, blank=True)
    # The amount the household chose, in euro cents per month. Seen only by the
    # household and coordinators.
    monthly_contribution = models.PositiveIntegerField(_("monthly contribution (cents)"), default=100)
    wallet = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="household", verbose_name=_("wallet"))
    joined_on = models.DateField(_("joined on"), default=timezone.localdate)
    # --- Enrolment, contact and self-declared brackets (issue 3) ---
    # Contact: what the fund needs to reach the household. E-mail is optional.
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("postal address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    # Self-declared, no proof asked. Seen only by the household and coordinators. The
    # choices give every page the words (get_income_bracket_display), never the code.
    income_bracket = models.CharField(_("income bracket"), max_length=16, blank=True, choices=IncomeBracket.choices)
    age_bracket = models.CharField(_("age bracket"), max_length=16, blank=True, choices=AgeBracket.choices)
    research_consent = models.BooleanField(_("agrees to research use"), default=False)
    applied_on = models.DateField(_("applied on"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    cohort = models.ForeignKey(
        "Draw", on_delete=models.SET_NULL, null=True, blank=True, related_name="households", verbose_name=_("cohort")
    )
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)
    # Given to the applicant on paper or screen with the application number; the draw
    # ranks with it (members.lottery), and the public rank check asks for it.
    draw_code = models.CharField(_("draw code"), max_length=16, blank=True)
    # An application that looks like another one (same phone, e-mail, or name and
    # address): a person at the desk decides; until then it enters no draw.
    duplicate_of = models.CharField(_("looks like the applications"), max_length=200, blank=True)
    duplicate_flagged_at = models.DateTimeField(_("flagged as a possible duplicate at"), null=True, blank=True)
    duplicate_cleared_at = models.DateTimeField(_("possible duplicate cleared at"), null=True, blank=True)
    duplicate_cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("possible duplicate cleared by"),
    )

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.CheckConstraint(condition=models.Q(adults__gte=1), name="household_has_an_adult"),
        ]

    def __str__(self):
        return self.reference


class Notice(models.Model):
    """A message to a household, shown in the portal (and e-mailed where it has an address).

    One per (household, kind, period): a repeated notification is a no-op.
    """

    class Kind(models.TextChoices):
        ALLOCATION_ISSUED = "allocation", _("allocation available")
        EXPIRY_REMINDER = "expiry", _("balance about to expire")
        ARREARS_REMINDER = "arrears", _("contribution reminder")
        EXITED = "exit", _("membership ended")
        # A payment refused at a till: the reason, which the shop's screen never shows.
        # One per household and month, the latest refusal's.
        PAYMENT_DECLINED = "declined", _("payment refused")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="notices", verbose_name=_("household"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    period = models.CharField(_("period"), max_length=7)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            models.UniqueConstraint(fields=["household", "kind", "period"], name="notice_once_per_household_kind_period")
        ]
        indexes = [models.Index(fields=["household", "-created_at"], name="notice_household_recent")]

    def __str__(self):
        return f"{self.household} {self.kind} {self.period}"


class Person(models.Model):
    """Someone in a household. Adults who shop hold payment cards on the household's wallet."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="persons")
    first_name = models.CharField(_("first name"), max_length=80)
    last_name = models.CharField(_("last name"), max_length=80, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    is_adult = models.BooleanField(_("adult"), default=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
        verbose_name=_("portal login"),
    )
    # Some members want to know at once when their card pays, to spot a payment they did not make.
    email_each_payment = models.BooleanField(_("e-mail me for each payment"), default=False)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()


class Card(models.Model):
    """A payment card: one per adult who shops, all drawing on the household's one wallet.

    The number (with a Luhn check digit) is typed at a till; the QR token (192 random
    bits) is scanned. The PIN is stored as a keyed hash (see members.cards).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        BLOCKED = "blocked", _("blocked (lost or stolen)")
        REPLACED = "replaced", _("replaced")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="cards", verbose_name=_("household"))
    holder = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="cards", verbose_name=_("cardholder")
    )
    number = models.CharField(_("card number"), max_length=19, unique=True)
    qr_token = models.CharField(_("QR token"), max_length=64, unique=True)
    pin_hash = models.CharField(_("PIN (keyed hash)"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Wrong PINs in a row; at three the card locks for a while that grows with each lock.
    failed_pin_attempts = models.PositiveSmallIntegerField(_("wrong PINs in a row"), default=0)
    lock_level = models.PositiveSmallIntegerField(_("locks in a row"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    locked_indefinitely = models.BooleanField(_("locked until unlocked"), default=False)
    name_printed = models.BooleanField(_("name printed on the card"), default=False)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by", verbose_name=_("replaces")
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    blocked_at = models.DateTimeField(_("blocked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")

    def __str__(self):
        return f"•••• {self.last4}"

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def display_number(self) -> str:
        return " ".join(self.number[i : i + 4] for i in range(0, len(self.number), 4))

    def is_locked(self, now=None) -> bool:
        now = now or timezone.now()
        return self.locked_indefinitely or (self.locked_until is not None and self.locked_until > now)


class CardEvent(models.Model):
    """What happened to a card, and who did it: locks, unlocks, blocks, replacements, PIN changes."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("issued")
        LOCKED_WRONG_PINS = "locked_pins", _("locked after wrong PINs")
        LOCKED_BY_HOLDER = "locked", _("locked by its holder")
        UNLOCKED = "unlocked", _("unlocked")
        BLOCKED = "blocked", _("blocked")
        REPLACED = "replaced", _("replaced")
        PIN_CHANGED = "pin_changed", _("PIN changed")
        PIN_RESET = "pin_reset", _("PIN reset")

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="events", verbose_name=_("card"))
    kind = models.CharField(_("what"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )
    until = models.DateTimeField(_("locked until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("card event")
        verbose_name_plural = _("card events")
        indexes = [models.Index(fields=["card", "-at"], name="card_event_recent")]

    def __str__(self):
        return f"{self.card} {self.kind} {self.at:%Y-%m-%d %H:%M}"


# --- Enrolment, lottery, contributions, desk, data protection (issue 3) ----------------


class PauseReason(models.TextChoices):
    """Why a household pauses its membership (a list, so that nothing personal is typed)."""

    HEALTH = "health", _("health or hospital stay")
    AWAY = "away", _("away for a while")
    MONEY = "money", _("cannot contribute for now")
    OTHER_HELP = "other_help", _("helped elsewhere for now")
    OTHER = "other", _("other reason")


class ExitReason(models.TextChoices):
    MOVED = "moved", _("moved away")
    NOT_NEEDED = "not_needed", _("no longer needs the fund")
    UNHAPPY = "unhappy", _("not satisfied with the fund")
    OTHER = "other", _("other reason")


class HouseholdStatusChange(models.Model):
    """Each change of a household's status, dated, with who made it and why."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="status_changes")
    status_from = models.CharField(_("from"), max_length=16, blank=True)
    status_to = models.CharField(_("to"), max_length=16)
    at = models.DateTimeField(_("when"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    # A code of PauseReason or ExitReason, when the change is a pause or an exit.
    reason = models.CharField(_("reason"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["at", "id"]


class Draw(models.Model):
    """The lottery draw of a cohort. Applications close and the seed is published first;
    the draw is then a pure function of the seed and the frozen list (members.lottery)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open to applications")
        CLOSED = "closed", _("closed, seed published")
        DRAWN = "drawn", _("drawn")

    cohort = models.CharField(_("cohort"), max_length=64, unique=True)
    places = models.PositiveIntegerField(_("places"))
    # [{"key": "low", "label": "...", "income_brackets": [...], "age_brackets": [...], "share": 50}, ...]
    # Shares in percent of the places; an empty bracket list means any. Households no
    # stratum matches share the places left.
    strata = models.JSONField(_("strata"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    seed = models.CharField(_("seed"), max_length=64, blank=True)
    seed_published_at = models.DateTimeField(_("seed published at"), null=True, blank=True)
    list_digest = models.CharField(_("digest of the frozen list"), max_length=64, blank=True)
    result_digest = models.CharField(_("digest of the result"), max_length=64, blank=True)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("drawn by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # When the draw is planned, if known: applicants are told.
    planned_on = models.DateField(_("planned on"), null=True, blank=True)

    class Meta:
        verbose_name = _("lottery draw")
        verbose_name_plural = _("lottery draws")
        ordering = ["-created_at"]

    def __str__(self):
        return self.cohort


class DrawEntry(models.Model):
    """One application in a draw's frozen list, and what the draw made of it."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("pending")
        DRAWN = "drawn", _("drawn")
        WAITLISTED = "waitlisted", _("waitlisted")
        DECLINED = "declined", _("declined")
        EXPIRED = "expired", _("not taken in time")
        ACCEPTED = "accepted", _("accepted")

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="entries")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="draw_entries")
    application_number = models.CharField(_("application number"), max_length=32)
    stratum = models.CharField(_("stratum"), max_length=32, blank=True)
    # Known to the fund and to the applicant only: it makes each rank impossible for
    # anyone else to compute from the public seed (see members.lottery).
    secret = models.CharField(_("draw code"), max_length=64, blank=True)
    rank = models.PositiveIntegerField(_("rank in the draw"), null=True, blank=True)
    initial_outcome = models.CharField(_("outcome of the draw"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    outcome = models.CharField(_("current outcome"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    waitlist_position = models.PositiveIntegerField(_("position on the waitlist"), null=True, blank=True)
    promoted_at = models.DateTimeField(_("offered a declined place at"), null=True, blank=True)

    class Meta:
        verbose_name = _("draw entry")
        verbose_name_plural = _("draw entries")
        constraints = [
            models.UniqueConstraint(fields=["draw", "application_number"], name="drawentry_number_once_per_draw"),
            models.UniqueConstraint(fields=["draw", "household"], name="drawentry_household_once_per_draw"),
        ]


class ContributionChoice(models.Model):
    """The monthly amount a household chose, from a period on. Seen by it and coordinators only."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="contribution_choices")
    effective_from = models.CharField(_("from the period"), max_length=7)
    amount = models.PositiveIntegerField(_("monthly amount (cents)"))
    chosen_at = models.DateTimeField(_("chosen at"), default=timezone.now)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )

    class Meta:
        verbose_name = _("contribution choice")
        verbose_name_plural = _("contribution choices")
        constraints = [
            models.UniqueConstraint(fields=["household", "effective_from"], name="contributionchoice_once_per_period")
        ]


class Desk(models.Model):
    """A place where volunteers take cash. Receipts are numbered per desk, with no gap."""

    code = models.SlugField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=80)
    # The next receipt number; taken under a row lock in the payment's own transaction.
    next_receipt = models.PositiveIntegerField(_("next receipt number"), default=1)

    class Meta:
        verbose_name = _("desk")
        verbose_name_plural = _("desks")

    def __str__(self):
        return self.name


class DeskSession(models.Model):
    """One opening of a desk: its cash book."""

    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="sessions")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by"))
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("closed by")
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    counted_cash = models.PositiveIntegerField(_("cash counted at closing (cents)"), null=True, blank=True)
    # Counted minus recorded at closing: a non-zero one waits for a coordinator's explanation.
    difference = models.BigIntegerField(_("difference at closing (cents)"), default=0)
    difference_explanation = models.TextField(_("explanation of the difference"), blank=True)
    difference_explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("difference explained by"),
    )
    difference_explained_at = models.DateTimeField(_("difference explained at"), null=True, blank=True)

    class Meta:
        verbose_name = _("desk opening (cash book)")
        verbose_name_plural = _("desk openings (cash books)")
        constraints = [
            models.UniqueConstraint(
                fields=["desk"], condition=models.Q(closed_at__isnull=True), name="desksession_one_open_per_desk"
            )
        ]

    def __str__(self):
        return f"{self.desk} {self.opened_at:%Y-%m-%d %H:%M}"


class ContributionPayment(models.Model):
    """A contribution paid, and the ledger transfer that brought it into the treasury."""

    class Method(models.TextChoices):
        CASH = "cash", _("cash at the desk")
        BANK_TRANSFER = "transfer", _("bank transfer")
        DIRECT_DEBIT = "sepa", _("SEPA direct debit")
        OTHER = "other", _("other")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="payments")
    amount = models.PositiveIntegerField(_("amount (cents)"))
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    period = models.CharField(_("for the period"), max_length=7)
    paid_on = models.DateField(_("paid on"), default=timezone.localdate)
    reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    mandate_reference = models.CharField(_("SEPA mandate reference"), max_length=35, blank=True)
    mandate_signed_on = models.DateField(_("SEPA mandate signed on"), null=True, blank=True)
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    desk_session = models.ForeignKey(DeskSession, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    receipt_number = models.PositiveIntegerField(_("receipt number"), null=True, blank=True)
    transfer = models.OneToOneField(
        "allocations.Transfer", on_delete=models.PROTECT, related_name="contribution_payment", verbose_name=_("transfer")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    # A direct debit the bank returned (rejected, refused, returned): the payment stays on
    # record, its transfer is reversed, and the month counts as unpaid again.
    rejected_at = models.DateTimeField(_("rejected by the bank at"), null=True, blank=True)
    rejection_reason = models.CharField(_("bank's reason code"), max_length=4, blank=True)
    rejection_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("rejection recorded by"),
    )
    reversal = models.OneToOneField(
        "allocations.Transfer", on_delete=models.PROTECT, null=True, blank=True, related_name="rejected_contribution",
        verbose_name=_("reversing transfer"),
    )
    # A payment recorded by mistake (a typo at the desk): corrected under four eyes, its
    # transfer reversed (`reversal`), the payment kept on record.
    corrected_at = models.DateTimeField(_("corrected at"), null=True, blank=True)
    correction_reason = models.TextField(_("reason of the correction"), blank=True)

    class Meta:
        verbose_name = _("contribution paid")
        verbose_name_plural = _("contributions paid")
        constraints = [
            models.UniqueConstraint(fields=["desk", "receipt_number"], name="contributionpayment_receipt_once_per_desk"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="contributionpayment_amount_positive"),
        ]
        indexes = [models.Index(fields=["household", "period"], name="payment_household_period")]

    @property
    def receipt_label(self) -> str:
        return f"{self.desk.code.upper()}-{self.receipt_number:06d}" if self.receipt_number else ""


class DirectDebitMandate(models.Model):
    """A SEPA direct debit mandate a household signed: the fund collects its chosen
    contribution each month from the debtor's account. One in force per household."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="mandates", verbose_name=_("household"))
    # The unique mandate reference (RUM), at most 35 characters in the SEPA files.
    reference = models.CharField(
        _("mandate reference (RUM)"), max_length=35, unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9+?/:().,' -]{1,35}$", _("Letters, digits and + ? / : ( ) . , ' - only."))],
    )
    signed_on = models.DateField(_("signed on"))
    debtor_name = models.CharField(_("account holder"), max_length=70)
    iban = models.CharField(_("IBAN"), max_length=34, validators=[validate_iban])
    bic = models.CharField(_("BIC"), max_length=11, blank=True, validators=[validate_bic])
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )

    class Meta:
        verbose_name = _("direct debit mandate")
        verbose_name_plural = _("direct debit mandates")
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=models.Q(revoked_on__isnull=True), name="mandate_one_in_force_per_household"
            )
        ]

    def __str__(self):
        return self.reference

    def save(self, *args, **kwargs):
        self.iban, self.bic = compact(self.iban), compact(self.bic)
        super().save(*args, **kwargs)


class DirectDebitCollection(models.Model):
    """A month's collection: the pain.008 file sent to the bank, then confirmed once the
    bank has collected (each debit then recorded as a contribution paid)."""

    period = models.CharField(_("period"), max_length=7)
    # 1 for the month's collection; 2, 3... for the debits the bank returned, presented again.
    presentation = models.PositiveSmallIntegerField(_("presentation"), default=1)
    collection_date = models.DateField(_("collection date"))
    message_id = models.CharField(_("message id"), max_length=35, unique=True)
    created_at = models.DateTimeField(_("prepared at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("prepared by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("confirmed by"),
    )

    class Meta:
        verbose_name = _("direct debit collection")
        verbose_name_plural = _("direct debit collections")
        ordering = ["-period", "-presentation"]
        constraints = [
            models.UniqueConstraint(fields=["period", "presentation"], name="directdebitcollection_once_per_presentation"),
        ]

    def __str__(self):
        return self.period


class DirectDebit(models.Model):
    """One debit of a collection: a household's contribution for the period, under its mandate."""

    class Sequence(models.TextChoices):
        FIRST = "FRST", _("first")
        RECURRING = "RCUR", _("recurring")

    collection = models.ForeignKey(DirectDebitCollection, on_delete=models.CASCADE, related_name="debits")
    mandate = models.ForeignKey(DirectDebitMandate, on_delete=models.PROTECT, related_name="debits")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="direct_debits")
    amount = models.PositiveIntegerField(_("amount (cents)"))
    sequence = models.CharField(_("sequence"), max_length=4, choices=Sequence.choices)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=35, unique=True)

    class Meta:
        verbose_name = _("direct debit")
        verbose_name_plural = _("direct debits")
        constraints = [
            models.UniqueConstraint(fields=["collection", "mandate"], name="directdebit_once_per_mandate"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="directdebit_amount_positive"),
        ]


class DeskAction(models.Model):
    """What was done at the desk (or by a coordinator for a household), and by whom."""

    class Kind(models.TextChoices):
        SEARCH = "search", _("search")
        VIEW = "view", _("household opened")
        APPLICATION = "application", _("application filled in")
        CASH = "cash", _("cash contribution taken")
        CONTACT = "contact", _("contact details updated")
        CARD_ISSUED = "card_issued", _("card issued")
        CARD_UNLOCKED = "card_unlocked", _("card unlocked")
        CARD_REPLACED = "card_replaced", _("card replaced")
        CARD_REPRINTED = "card_reprinted", _("card reprinted")
        PIN_RESET = "pin_reset", _("PIN reset")
        DESK_OPENED = "desk_opened", _("desk opened")
        DESK_CLOSED = "desk_closed", _("desk closed")
        PLACE_TAKEN = "place_taken", _("place taken")
        PLACE_DECLINED = "place_declined", _("place declined")
        CONTRIBUTION = "contribution", _("contribution chosen by the member")
        PAUSED = "paused", _("membership paused")
        RESUMED = "resumed", _("membership resumed")
        EXITED = "exited", _("left the fund")
        DUPLICATE_CLEARED = "dup_cleared", _("possible duplicate cleared")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("who")
    )
    kind = models.CharField(_("what"), max_length=16, choices=Kind.choices)
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="desk_actions", verbose_name=_("household")
    )
    desk = models.ForeignKey(Desk, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("desk action")
        verbose_name_plural = _("desk actions")
        ordering = ["-at"]


class ErasureRequest(models.Model):
    """A household asks for its personal data to be erased; a coordinator confirms."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for a coordinator")
        DONE = "done", _("erased")
        REFUSED = "refused", _("refused")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="erasure_requests")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    reason = models.CharField(_("reason for refusing"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=models.Q(status="pending"), name="erasurerequest_one_pending"
            )
        ]


class ShopReport(models.Model):
    """A member tells the coordinators about a problem with a shop.

    An anonymous report keeps no link to the household; only a digest, keyed and salted
    per report, so that the household (and nobody reading the table) can find its report
    and the answer.
    """

    class Category(models.TextChoices):
        TREATED_DIFFERENTLY = "treatment", _("I was treated differently at the till")
        PAYMENT_NOT_MADE = "not_made", _("A payment I did not make")
        WRONG_AMOUNT = "amount", _("A wrong amount")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        NEW = "new", _("received")
        IN_PROGRESS = "in_progress", _("being looked at")
        ANSWERED = "answered", _("answered")
        CLOSED = "closed", _("closed")

    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.PROTECT, null=True, blank=True, related_name="reports", verbose_name=_("shop")
    )
    category = models.CharField(_("what happened"), max_length=16, choices=Category.choices)
    description = models.TextField(_("details"), max_length=4000)
    anonymous = models.BooleanField(_("anonymous"), default=False)
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="shop_reports",
        verbose_name=_("household"),
    )
    # Anonymous reports only: a keyed digest of (household, follow_up_salt), the salt drawn
    # for this report alone (members.reports); empty on named reports.
    follow_up = models.CharField(max_length=64, blank=True, editable=False)
    follow_up_salt = models.CharField(max_length=32, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("answered by"),
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("problem with a shop")
        verbose_name_plural = _("problems with shops")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(anonymous=False) | models.Q(household__isnull=True), name="anonymous_report_unlinked"
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_category_display()}"


class HeldCash(models.Model):
    """Cash taken at a desk above the fund's ceiling for one payment: it enters the books
    (and the reserve the issuance trusts) only once a coordinator confirms it."""

    session = models.ForeignKey(DeskSession, on_delete=models.PROTECT, related_name="held_cash")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    amount = models.PositiveIntegerField(_("amount (cents)"))
    token = models.CharField(max_length=64, unique=True)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("taken by"))
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("confirmed or refused by"))
    decided_at = models.DateTimeField(_("confirmed or refused at"), null=True, blank=True)
    payment = models.OneToOneField(ContributionPayment, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("payment recorded"))
    # Set when a coordinator refuses it (a mistyped amount, cash that is not there).
    refusal_reason = models.TextField(_("why it was refused"), blank=True)

    class Meta:
        verbose_name = _("cash waiting for a coordinator")
        verbose_name_plural = _("cash waiting for a coordinator")

    def __str__(self):
        return f"{self.household} {self.amount}"
