"""Casting, changing and recording votes; recusal.

One vote per eligible member: each vote first locks that member's Elector row (unique per
proposal and member), then reads the proposal's state, so that concurrent requests of one
member run one after the other and a vote never slips in after the close (the close locks
every Elector row of the proposal). A first vote flips `voted` with a conditional UPDATE;
a public ballot is also unique per (proposal, voter) in the database.

Secret ballots: the member's browser keeps a random receipt; the database keeps only its
SHA-256 on an anonymous Ballot. Changing a secret vote takes the receipt (from the
cookie, or typed in from another device). Nothing the fund's people can read tells which
ballot is whose.

During the vote, a pending ballot and its member's participation are written in one
transaction, so PostgreSQL itself (their `xmin`, the rows' physical order) links them for
whoever reads the database files directly: docs/threat-model.md says so. The close
(`seal`) removes that link: the pending ballots go, their receipts and choices are written
anew in random order in the closing transaction, every participation row is rewritten in
that same transaction, and the tables are vacuumed once it commits.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import selectors
from .models import Ballot, Choice, Elector, Method, Proposal, Receipt, VoteHistory

_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: typed from paper


@dataclass
class VoteResult:
    ballot: Ballot
    changed: bool
    receipt: str | None = None  # secret ballots: to give to the member, once


def new_receipt() -> str:
    # 16 symbols of 32: 80 bits, so that guessing another member's receipt is hopeless.
    raw = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def receipt_hash(receipt: str) -> str:
    normal = "".join(c for c in receipt.upper() if c.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def allowed_choices(proposal: Proposal) -> list[str]:
    if proposal.method == Method.CONSENT:
        return [Choice.CONSENT, Choice.OBJECT]
    return [Choice.FOR, Choice.AGAINST, Choice.ABSTAIN]


def _lock_elector(proposal: Proposal, user) -> tuple[Elector, Proposal]:
    elector = Elector.objects.select_for_update().filter(proposal_id=proposal.pk, user=user).first()
    if elector is None or not selectors.is_committee_member(user):
        raise ValidationError(_("You cannot vote on this proposal: only the committee's current members do."),
                              code="not_eligible")
    # Read after the lock: a close that committed meanwhile is seen.
    proposal = Proposal.objects.get(pk=proposal.pk)
    if proposal.state != Proposal.State.OPEN or proposal.closes_at <= timezone.now():
        raise ValidationError(_("This vote is closed."), code="closed")
    if elector.recused:
        raise ValidationError(_("You stepped out of this vote."), code="recused")
    return elector, proposal


def _check_choice(proposal: Proposal, choice: str, reason: str) -> None:
    if choice not in allowed_choices(proposal):
        raise ValidationError(_("This answer is not possible for this vote."), code="choice")
    if choice == Choice.OBJECT and not reason.strip():
        raise ValidationError(_("An objection must give its reason."), code="reason")


@transaction.atomic
def cast(proposal: Proposal, user, choice: str, *, reason: str = "", receipt: str | None = None,
         proxy_by=None) -> VoteResult:
    """A member's vote, or a change of it before the close."""
    elector, proposal = _lock_elector(proposal, user)
    reason = reason.strip() if choice == Choice.OBJECT else ""
    _check_choice(proposal, choice, reason)
    if proxy_by is not None:
        if proposal.secret:
            raise ValidationError(_("A secret ballot takes no proxy: the member votes on paper at a meeting."),
                                  code="proxy_secret")
        if not selectors.is_facilitator(proxy_by):
            raise ValidationError(_("Only a facilitator records a vote on a member's behalf."), code="permission")
    if elector.channel == Elector.Channel.MEETING:
        raise ValidationError(_("You took part in this decision at the meeting."), code="already_voted")
    channel = Elector.Channel.PROXY if proxy_by else Elector.Channel.ONLINE

    if proposal.secret:
        return _cast_secret(proposal, elector, choice, reason, receipt)

    first = Elector.objects.filter(pk=elector.pk, voted=False).update(voted=True, channel=channel) == 1
    if not first:
        Elector.objects.filter(pk=elector.pk).update(channel=channel)
    ballot, created = Ballot.objects.update_or_create(
        proposal=proposal, voter=user,
        defaults={"choice": choice, "reason": reason, "proxy_by": proxy_by, "cast_at": timezone.now()},
    )
    VoteHistory.objects.create(proposal=proposal, voter=user, choice=choice, reason=reason, proxy_by=proxy_by)
    return VoteResult(ballot=ballot, changed=not created)


def _cast_secret(proposal, elector, choice, reason, receipt) -> VoteResult:
    first = Elector.objects.filter(pk=elector.pk, voted=False).update(voted=True,
                                                                       channel=Elector.Channel.ONLINE) == 1
    if first:
        fresh = new_receipt()
        ballot = Ballot.objects.create(proposal=proposal, choice=choice, reason=reason,
                                       receipt_hash=receipt_hash(fresh))
        return VoteResult(ballot=ballot, changed=False, receipt=fresh)
    ballot = Ballot.objects.filter(proposal=proposal, receipt_hash=receipt_hash(receipt or "")).first() if receipt \
        else None
    if ballot is None:
        raise ValidationError(
            _("You have already voted. To change a secret vote, type the receipt code you were given when you voted."),
            code="already_voted",
        )
    ballot.choice, ballot.reason = choice, reason
    ballot.save(update_fields=["choice", "reason"])
    return VoteResult(ballot=ballot, changed=True)


def proxy(proposal: Proposal, *, member, choice: str, by, reason: str = "") -> VoteResult:
    """A facilitator records a vote given by phone or on paper (public ballots only)."""
    return cast(proposal, member, choice, reason=reason, proxy_by=by)


@transaction.atomic
def recuse(proposal: Proposal, user, *, reason: str, receipt: str | None = None) -> Elector:
    """A conflict of interest: the member steps out and is no longer eligible. A vote
    already given is taken back (a secret one through its receipt)."""
    if not reason.strip():
        raise ValidationError(_("Say why you step out (for example: I work at this shop)."), code="reason")
    elector, proposal = _lock_elector(proposal, user)
    if elector.voted:
        if elector.channel == Elector.Channel.MEETING:
            raise ValidationError(_("You took part in this decision at the meeting."), code="already_voted")
        if proposal.secret:
            deleted, _detail = Ballot.objects.filter(proposal=proposal,
                                                     receipt_hash=receipt_hash(receipt or "")).delete()
            if not receipt or not deleted:
                raise ValidationError(_("You have already voted: type your receipt code to take your vote back."),
                                      code="already_voted")
        else:
            Ballot.objects.filter(proposal=proposal, voter=user).delete()
    Elector.objects.filter(pk=elector.pk).update(voted=False, channel="", recused=True,
                                                 recusal_reason=reason.strip())
    elector.refresh_from_db()
    return elector


def seal(proposal: Proposal) -> int:
    """The close of a secret vote, inside its transaction (which holds every Elector row of
    the proposal locked): the receipts and their choices, in random order under random
    identifiers; the pending ballots gone; every participation row rewritten. Returns how
    many receipts were written."""
    pending = list(Ballot.objects.filter(proposal=proposal, voter__isnull=True).values_list("receipt_hash", "choice"))
    secrets.SystemRandom().shuffle(pending)
    Ballot.objects.filter(proposal=proposal).delete()
    Receipt.objects.bulk_create(
        Receipt(id=uuid.uuid4(), proposal=proposal, round=proposal.round, receipt_hash=digest, choice=choice)
        for digest, choice in pending
    )
    _rewrite_participations(proposal)
    transaction.on_commit(vacuum_ballot_tables, robust=True)
    return len(pending)


def drop_pending(proposal: Proposal) -> None:
    """A secret vote that ends without a count (withdrawn): its ballots go, unkept."""
    Ballot.objects.filter(proposal=proposal).delete()
    _rewrite_participations(proposal)
    transaction.on_commit(vacuum_ballot_tables, robust=True)


def _rewrite_participations(proposal: Proposal) -> None:
    # A no-op UPDATE still writes a new version of every row: they all get this
    # transaction's xmin, so none is left carrying the transaction of its ballot.
    Elector.objects.filter(proposal=proposal).update(voted=models.F("voted"))


def vacuum_ballot_tables() -> None:
    """The deleted and rewritten rows stay in the table files as dead tuples until VACUUM
    marks their space free (and later writes reuse it): run it as soon as the close has
    committed (on_commit: VACUUM refuses to run inside a transaction). The three tables
    are a committee's worth of rows: milliseconds, so no queue is needed."""
    with connection.cursor() as cursor:
        for model in (Ballot, Receipt, Elector):
            cursor.execute(f"VACUUM {connection.ops.quote_name(model._meta.db_table)}")


def verify(proposal: Proposal, code: str) -> str | None:
    """What the ballot of this receipt code was counted as (after the close) or stands at
    (during the vote); None when the code matches no ballot of this proposal."""
    if not code or not code.strip():
        return None
    digest = receipt_hash(code)
    pending = Ballot.objects.filter(proposal=proposal, voter__isnull=True, receipt_hash=digest)
    counted = Receipt.objects.filter(proposal=proposal, receipt_hash=digest)
    return (pending.values_list("choice", flat=True).first()
            or counted.values_list("choice", flat=True).first())
