"""Counting and closing votes.

Counting, as every result page states it:
- quorum: everyone who took part (online, by proxy or on paper at a meeting), abstentions
  included, against those eligible (the committee when the vote opened, less recusals);
- majority: `for` against `for + against`; a tie is rejected;
- qualified majority: `for` at least the fraction of `for + against` (and more than
  `against`: a tie is still rejected);
- consent: adopted when quorum is met and no objection stands.

A deadline without quorum extends the vote once; the outcome and its effect (vendors,
fund rules) are written in one transaction.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from . import effects, selectors, votes
from .models import Ballot, Choice, Elector, MeetingTally, Method, Notification, Proposal
from .notifications import notify
from .proposals import _deadline_text, record

logger = logging.getLogger(__name__)
State = Proposal.State


@dataclass
class Result:
    eligible: int
    participants: int
    quorum_needed: int
    counts: dict = field(default_factory=dict)  # choice -> online + paper
    paper: int = 0
    adopted: bool = False
    reason: str = ""
    objections: list = field(default_factory=list)

    @property
    def quorum_met(self) -> bool:
        return self.eligible > 0 and self.participants >= self.quorum_needed


def count(proposal: Proposal) -> Result:
    """The live count (the frozen one, after the close, is on the proposal)."""
    eligible = Elector.objects.filter(proposal=proposal, recused=False).count()
    counts = {choice: 0 for choice in Choice.values}
    for row in Ballot.objects.filter(proposal=proposal).values("choice").annotate(n=Count("pk")):
        counts[row["choice"]] = row["n"]
    objections = list(Ballot.objects.filter(proposal=proposal, choice=Choice.OBJECT).values_list("reason", flat=True))
    paper = 0
    tally = MeetingTally.objects.filter(proposal=proposal).first()
    if tally is not None:
        for choice, n in ((Choice.FOR, tally.votes_for), (Choice.AGAINST, tally.votes_against),
                          (Choice.ABSTAIN, tally.abstentions), (Choice.CONSENT, tally.consents),
                          (Choice.OBJECT, tally.objections)):
            counts[choice] += n
        paper = tally.total
        if tally.objection_reasons.strip():
            objections.append(tally.objection_reasons.strip())
    participants = sum(counts.values())
    result = Result(eligible=eligible, participants=participants,
                    quorum_needed=math.ceil(eligible * proposal.quorum_percent / 100), counts=counts, paper=paper,
                    objections=sorted(objections))
    decide(proposal, result)
    return result


def decide(proposal: Proposal, result: Result) -> None:
    c = result.counts
    if not result.quorum_met:
        result.adopted = False
        result.reason = _("Rejected: the quorum was not reached (%(took)s took part, %(needed)s needed of "
                          "%(eligible)s eligible).") % {"took": result.participants, "needed": result.quorum_needed,
                                                       "eligible": result.eligible}
        return
    if proposal.method == Method.CONSENT:
        result.adopted = c[Choice.OBJECT] == 0
        result.reason = (_("Adopted: the quorum was reached and no objection stands.") if result.adopted else
                         _("Rejected: %(n)s objection(s) stand.") % {"n": c[Choice.OBJECT]})
        return
    yes, no = c[Choice.FOR], c[Choice.AGAINST]
    if yes == no:
        result.adopted = False
        result.reason = _("Rejected: a tie (%(yes)s for, %(no)s against). A tie does not adopt a proposal.") % {
            "yes": yes, "no": no}
        return
    if proposal.method == Method.QUALIFIED:
        num, den = proposal.qualified_numerator, proposal.qualified_denominator
        result.adopted = yes > no and yes * den >= num * (yes + no)
        values = {"yes": yes, "total": yes + no, "num": num, "den": den}
        result.reason = (_("Adopted: %(yes)s for out of %(total)s for or against, at least %(num)s/%(den)s.") % values
                         if result.adopted else
                         _("Rejected: %(yes)s for out of %(total)s for or against, less than %(num)s/%(den)s.") % values)
        return
    result.adopted = yes > no
    values = {"yes": yes, "no": no}
    result.reason = (_("Adopted: %(yes)s for, %(no)s against.") % values if result.adopted
                     else _("Rejected: %(yes)s for, %(no)s against.") % values)


def everyone_took_part(proposal: Proposal, result: Result | None = None) -> bool:
    result = result or count(proposal)
    return result.eligible > 0 and result.participants >= result.eligible


@transaction.atomic
def close(proposal: Proposal, *, by=None, early: bool = False, now=None) -> Proposal:
    """Close at the deadline (the periodic task, `by=None`) or early (a facilitator, once
    everyone eligible has taken part). Without quorum at the first deadline the vote is
    extended once instead."""
    now = now or timezone.now()
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.state != State.OPEN:
        raise ValidationError(_("This vote is not open."), code="state")
    # Wait for votes in flight, and keep new ones out until the outcome is written.
    list(Elector.objects.select_for_update().filter(proposal=proposal))
    result = count(proposal)
    if early:
        if by is None or not selectors.is_facilitator(by):
            raise ValidationError(_("Only a facilitator closes a vote early."), code="permission")
        if not everyone_took_part(proposal, result):
            raise ValidationError(_("A vote closes early only when everyone eligible has voted."), code="not_everyone")
    elif proposal.closes_at > now:
        raise ValidationError(_("The deadline has not passed."), code="too_early")

    if not early and not result.quorum_met and not proposal.extended:
        extend(proposal, now=now)
        return proposal

    with override(settings.LANGUAGE_CODE):
        result = count(proposal)  # the reason in the fund's language, for the record
    record(proposal, State.CLOSED, by=by, note=_("Closed early: everyone eligible has voted.") if early else "")
    proposal.closed_at = now
    proposal.eligible_count, proposal.participants = result.eligible, result.participants
    proposal.tally = {**result.counts, "paper": result.paper, "quorum_needed": result.quorum_needed,
                      "objections": result.objections}
    proposal.outcome_reason = result.reason
    record(proposal, State.ADOPTED if result.adopted else State.REJECTED, by=by)
    proposal.save()
    if proposal.secret:
        votes.seal(proposal)  # only totals, who took part, and the receipts are left
    if result.adopted:
        effects.apply(proposal, by=by)
    return proposal


def extend(proposal: Proposal, *, now) -> None:
    from .proposals import policy_for

    days = proposal.extension_days or policy_for(proposal.kind).extension_days
    proposal.closes_at = max(proposal.closes_at, now) + timedelta(days=days)
    proposal.extended = True
    with override(settings.LANGUAGE_CODE):
        note = _("Extended once: the quorum was not reached at the deadline.")
        subject = _("Committee: a vote is extended")
        text = _("The vote “%(title)s” did not reach its quorum. It is extended until %(deadline)s: "
                 "if you have not voted yet, your voice is needed.") % {
            "title": proposal.title, "deadline": _deadline_text(proposal)}
    record(proposal, State.OPEN, note=note)
    proposal.save(update_fields=["closes_at", "extended", "state"])
    ids = Elector.objects.filter(proposal=proposal, recused=False).values_list("user_id", flat=True)
    notify(ids, proposal, Notification.Kind.EXTENDED, occasion=f"round-{proposal.round}", subject=subject, text=text)


def close_due(now=None) -> list[int]:
    """What the periodic task runs: every open vote past its deadline, one transaction each."""
    now = now or timezone.now()
    done = []
    for pk in Proposal.objects.filter(state=State.OPEN, closes_at__lte=now).values_list("pk", flat=True):
        try:
            close(Proposal(pk=pk), now=now)
            done.append(pk)
        except ValidationError:
            logger.exception("Could not close proposal %s", pk)
    return done


def remind(now=None) -> int:
    """The day before a vote closes, those eligible who have not voted hear of it."""
    now = now or timezone.now()
    sent = 0
    for proposal in Proposal.objects.filter(state=State.OPEN, closes_at__gt=now,
                                            closes_at__lte=now + timedelta(days=1)):
        with override(settings.LANGUAGE_CODE):
            subject = _("Committee: a vote closes tomorrow")
            text = _("You have not voted yet on “%(title)s”. The vote closes on %(deadline)s.") % {
                "title": proposal.title, "deadline": _deadline_text(proposal)}
        ids = Elector.objects.filter(proposal=proposal, recused=False, voted=False).values_list("user_id", flat=True)
        sent += notify(ids, proposal, Notification.Kind.REMINDER,
                       occasion=f"{proposal.round}:{proposal.closes_at:%Y%m%d%H%M}", subject=subject, text=text)
    return sent


def frozen_result(proposal: Proposal) -> Result:
    """The result as written at the close."""
    t = proposal.tally or {}
    result = Result(eligible=proposal.eligible_count or 0, participants=proposal.participants or 0,
                    quorum_needed=t.get("quorum_needed", 0), counts={c: t.get(c, 0) for c in Choice.values},
                    paper=t.get("paper", 0), objections=t.get("objections", []))
    decide(proposal, result)  # the same outcome, its reason in the reader's language
    return result


def result_of(proposal: Proposal) -> Result:
    return frozen_result(proposal) if proposal.closed_at else count(proposal)

