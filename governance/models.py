import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CommitteeMembership(models.Model):
    """A seat on the citizen committee, from a date to (optionally) a date."""

    class Role(models.TextChoices):
        MEMBER = "member", _("member")
        FACILITATOR = "facilitator", _("facilitator")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="committee_seats")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    starts_on = models.DateField(_("from"), default=timezone.localdate)
    ends_on = models.DateField(_("to"), null=True, blank=True)

    class Meta:
        verbose_name = _("committee membership")
        verbose_name_plural = _("committee memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="membership_ends_after_start",
            ),
            # One open seat per person at a time.
            models.UniqueConstraint(fields=["user"], condition=Q(ends_on__isnull=True), name="one_open_seat_per_user"),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()})"


class Kind(models.TextChoices):
    APPROVE_VENDOR = "approve_vendor", _("approve a vendor")
    SUSPEND_VENDOR = "suspend_vendor", _("suspend a vendor")
    REVOKE_VENDOR = "revoke_vendor", _("revoke a vendor")
    REINSTATE_VENDOR = "reinstate_vendor", _("reinstate a vendor")
    CHANGE_RULES = "change_rules", _("change the fund rules")
    MOTION = "motion", _("free motion")


VENDOR_KINDS = (Kind.APPROVE_VENDOR, Kind.SUSPEND_VENDOR, Kind.REVOKE_VENDOR, Kind.REINSTATE_VENDOR)
# The vendor is told and may answer before these votes close.
VENDOR_ANSWERS_KINDS = (Kind.SUSPEND_VENDOR, Kind.REVOKE_VENDOR)


class Method(models.TextChoices):
    MAJORITY = "majority", _("majority")
    QUALIFIED = "qualified", _("qualified majority")
    CONSENT = "consent", _("consent (no standing objection)")


class Policy(models.Model):
    """How one kind of proposal is decided. Coordinators edit it in the admin; a proposal
    copies it when it opens, so an edit never changes a vote already running."""

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices, unique=True)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices, default=Method.MAJORITY)
    # A qualified majority is "at least numerator/denominator of for + against".
    qualified_numerator = models.PositiveSmallIntegerField(_("qualified majority: numerator"), default=2)
    qualified_denominator = models.PositiveSmallIntegerField(_("qualified majority: denominator"), default=3)
    quorum_percent = models.PositiveSmallIntegerField(_("quorum (% of those eligible who take part)"), default=50)
    voting_days = models.PositiveSmallIntegerField(_("voting period (days)"), default=14)
    extension_days = models.PositiveSmallIntegerField(_("extension without quorum (days)"), default=7)
    results_before_close = models.BooleanField(_("results visible before the close"), default=False)
    secret = models.BooleanField(_("secret ballot"), default=False)

    class Meta:
        verbose_name = _("decision policy")
        verbose_name_plural = _("decision policies")
        constraints = [
            models.CheckConstraint(condition=Q(quorum_percent__lte=100), name="policy_quorum_is_a_percentage"),
            models.CheckConstraint(
                condition=Q(qualified_denominator__gt=0) & Q(qualified_numerator__lte=models.F("qualified_denominator"))
                & Q(qualified_numerator__gt=0),
                name="policy_qualified_fraction_valid",
            ),
            models.CheckConstraint(condition=Q(voting_days__gt=0), name="policy_voting_period_positive"),
            # A running tally read beside the list of who has voted tells how each voter
            # voted: a secret ballot's results wait for the close (docs/threat-model.md).
            models.CheckConstraint(
                condition=~(Q(secret=True) & Q(results_before_close=True)),
                name="policy_secret_results_after_close",
                violation_error_message=_("A secret ballot's results can only be shown after the close."),
            ),
        ]

    def __str__(self):
        return self.get_kind_display()


class Proposal(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("open for votes")
        CLOSED = "closed", _("closed")
        ADOPTED = "adopted", _("adopted")
        REJECTED = "rejected", _("rejected")
        APPLIED = "applied", _("adopted and applied")
        WITHDRAWN = "withdrawn", _("withdrawn")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    title = models.CharField(_("question"), max_length=200)
    text = models.TextField(_("text"), blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals",
                               verbose_name=_("author"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    # What the vote is about, by kind.
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="proposals", verbose_name=_("vendor"))
    visit_report = models.TextField(_("visit report"), blank=True)
    # {criterion key: true/false}, every criterion of governance.charter.CRITERIA answered.
    charter_checks = models.JSONField(_("charter criteria checked"), default=dict, blank=True)
    # A complete FundRules version without its start date (the next period at adoption).
    proposed_rules = models.JSONField(_("proposed rules"), default=dict, blank=True)

    # The policy, copied when the proposal opens.
    method = models.CharField(_("method"), max_length=16, choices=Method.choices, blank=True)
    qualified_numerator = models.PositiveSmallIntegerField(default=2)
    qualified_denominator = models.PositiveSmallIntegerField(default=3)
    quorum_percent = models.PositiveSmallIntegerField(_("quorum (%)"), default=50)
    extension_days = models.PositiveSmallIntegerField(default=7)
    results_before_close = models.BooleanField(_("results visible before the close"), default=False)
    secret = models.BooleanField(_("secret ballot"), default=False)

    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    extended = models.BooleanField(_("extended once for lack of quorum"), default=False)
    # Bumped by an amendment (votes start again): notifications are sent once per round.
    round = models.PositiveSmallIntegerField(default=1)

    vendor_notified_at = models.DateTimeField(_("vendor told at"), null=True, blank=True)
    vendor_answer = models.TextField(_("the vendor's answer"), blank=True)
    vendor_answered_at = models.DateTimeField(_("vendor answered at"), null=True, blank=True)

    # The result, frozen at the close (the committee changes; the record does not).
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    eligible_count = models.PositiveIntegerField(_("eligible"), null=True, blank=True)
    participants = models.PositiveIntegerField(_("took part"), null=True, blank=True)
    tally = models.JSONField(_("tally"), default=dict, blank=True)
    outcome_reason = models.TextField(_("why"), blank=True)
    effect_note = models.TextField(_("effect"), blank=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "closes_at"], name="proposal_open_deadline")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=VENDOR_KINDS) | Q(vendor__isnull=False), name="vendor_proposal_has_vendor"
            ),
            models.CheckConstraint(
                condition=~(Q(secret=True) & Q(results_before_close=True)),
                name="proposal_secret_results_after_close",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        """What vendors' status changes and fund rules versions point to."""
        return f"CC-{self.pk}"

    @property
    def decided(self) -> bool:
        return self.state in (self.State.ADOPTED, self.State.REJECTED, self.State.APPLIED)


class Transition(models.Model):
    """Every step of a proposal's life: who (None: the periodic task) and when. Never a vote."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(_("from"), max_length=16, choices=Proposal.State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=16, choices=Proposal.State.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           related_name="+", verbose_name=_("by"))
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("proposal transition")
        verbose_name_plural = _("proposal transitions")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.proposal.reference}: {self.from_state or '-'} → {self.to_state}"


class Elector(models.Model):
    """A committee member's right to vote on one proposal, written when it opens.

    The one-vote guarantee lives here: the first vote flips `voted` with a conditional
    UPDATE on this row (unique per proposal and member), so two concurrent first votes
    cannot both insert a ballot. It says *that* someone took part, never *how*.
    """

    class Channel(models.TextChoices):
        ONLINE = "online", _("online")
        PROXY = "proxy", _("by proxy")
        MEETING = "meeting", _("at a meeting")

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="electors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("committee member"))
    voted = models.BooleanField(_("took part"), default=False)
    channel = models.CharField(_("how"), max_length=8, choices=Channel.choices, blank=True)
    recused = models.BooleanField(_("recused"), default=False)
    recusal_reason = models.TextField(_("reason for recusal"), blank=True)

    class Meta:
        verbose_name = _("elector")
        verbose_name_plural = _("electors")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="one_elector_per_member"),
            models.CheckConstraint(condition=~(Q(recused=True) & Q(voted=True)), name="recused_elector_does_not_vote"),
            models.CheckConstraint(condition=Q(recused=False) | ~Q(recusal_reason=""), name="recusal_has_a_reason"),
        ]

    def __str__(self):
        return f"{self.proposal.reference}: {self.user}"


class Choice(models.TextChoices):
    FOR = "for", _("for")
    AGAINST = "against", _("against")
    ABSTAIN = "abstain", _("abstain")
    CONSENT = "consent", _("consent")
    OBJECT = "object", _("object")


class Ballot(models.Model):
    """One online vote.

    Public ballot: `voter` is set (unique per proposal) and each change goes to the
    history. Secret ballot, pending until the close: no voter, no time, a random primary
    key (no sequence to line up with anything) and only the SHA-256 of a random receipt
    that the member keeps. Below the application, PostgreSQL still ties it to its voter's
    Elector row while the vote is open (one transaction wrote both); the close replaces
    the pending ballots by shuffled Receipts and rewrites the Electors (votes.seal).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="ballots")
    choice = models.CharField(_("choice"), max_length=8, choices=Choice.choices)
    reason = models.TextField(_("reason"), blank=True)
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("voter (public ballots only)"))
    proxy_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("recorded by a facilitator"))
    receipt_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    cast_at = models.DateTimeField(_("cast at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "voter"], name="one_public_ballot_per_member"),
            # Either a named public ballot or an anonymous secret one, never both.
            models.CheckConstraint(
                condition=(Q(voter__isnull=False) & Q(receipt_hash__isnull=True))
                | (Q(voter__isnull=True) & Q(receipt_hash__isnull=False) & Q(proxy_by__isnull=True)
                   & Q(cast_at__isnull=True)),
                name="ballot_public_or_secret",
            ),
            models.CheckConstraint(condition=~Q(choice="object") | ~Q(reason=""), name="objection_has_a_reason"),
        ]

    def __str__(self):
        return f"{self.proposal.reference}: {self.get_choice_display()}"


class Receipt(models.Model):
    """A counted secret ballot, as kept after the close: the digest of the member's receipt
    code and the choice it was counted as, so that the member can check their vote.

    Written at the close, all of a proposal's in one transaction, in random order, with a
    random primary key and no time: neither the row's identifier, nor its place in the
    table, nor its transaction id (`xmin`) tells anything about when, or by whom, it was
    cast. Nothing here points to a member."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="receipts")
    # An amended consent vote starts again: each round keeps its own receipts.
    round = models.PositiveSmallIntegerField(default=1)
    receipt_hash = models.CharField(max_length=64, unique=True)
    choice = models.CharField(_("choice"), max_length=8, choices=Choice.choices)

    class Meta:
        verbose_name = _("receipt of a secret ballot")
        verbose_name_plural = _("receipts of secret ballots")

    def __str__(self):
        return f"{self.proposal.reference}: {self.get_choice_display()}"


class VoteHistory(models.Model):
    """Public ballots only: each vote a member gave, in order, including proxies."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="vote_history")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(_("choice"), max_length=8, choices=Choice.choices)
    reason = models.TextField(_("reason"), blank=True)
    proxy_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("recorded by a facilitator"))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("public vote history")
        verbose_name_plural = _("public vote history")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.proposal.reference}: {self.voter} {self.choice}"


class Amendment(models.Model):
    """The author's change of the text in answer to objections; votes start again."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="amendments")
    previous_text = models.TextField(_("previous text"))
    new_text = models.TextField(_("new text"))
    answer = models.TextField(_("answer to the objections"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.proposal.reference} amendment {self.pk}"


class Meeting(models.Model):
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("date and time"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    agenda = models.ManyToManyField(Proposal, blank=True, related_name="meetings", verbose_name=_("agenda"))
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+",
                                       verbose_name=_("attendance"))
    minutes = models.TextField(_("minutes"), blank=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at"]

    def __str__(self):
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"


class MeetingTally(models.Model):
    """What a meeting decided: totals of a show of hands or of a paper ballot, counted
    only from attendees who had not voted online (the form checks it)."""

    class How(models.TextChoices):
        HANDS = "hands", _("show of hands")
        PAPER = "paper", _("paper ballot")

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="meeting_tally")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="tallies")
    how = models.CharField(_("how"), max_length=8, choices=How.choices)
    votes_for = models.PositiveIntegerField(_("for"), default=0)
    votes_against = models.PositiveIntegerField(_("against"), default=0)
    abstentions = models.PositiveIntegerField(_("abstentions"), default=0)
    consents = models.PositiveIntegerField(_("consents"), default=0)
    objections = models.PositiveIntegerField(_("objections"), default=0)
    objection_reasons = models.TextField(_("objections' reasons"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("meeting decision")
        verbose_name_plural = _("meeting decisions")

    def __str__(self):
        return f"{self.proposal.reference} @ {self.meeting}"

    @property
    def total(self) -> int:
        return self.votes_for + self.votes_against + self.abstentions + self.consents + self.objections


class Notification(models.Model):
    """A message to a committee member (or a vendor's staff), shown in the portal and
    e-mailed where they have an address. Once per user, proposal, kind and occasion."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("a vote is open")
        REMINDER = "reminder", _("a vote closes tomorrow")
        EXTENDED = "extended", _("a vote is extended")
        VENDOR = "vendor", _("a vote about your shop")
        DECIDED = "decided", _("a decision was taken")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="committee_notifications")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Which occasion of that kind (the round, the deadline reminded of): a repeated task
    # run finds it already there and sends nothing twice.
    occasion = models.CharField(max_length=40, default="")
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("committee notification")
        verbose_name_plural = _("committee notifications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "proposal", "kind", "occasion"], name="notification_once"),
        ]

    def __str__(self):
        return f"{self.user}: {self.kind} {self.proposal.reference}"
