"""Meetings: agenda, attendance, minutes, and the decisions taken there.

A decision taken at a meeting is entered as totals (a show of hands, or a paper ballot),
counted only among attendees who had not voted online: the form refuses more votes than
there are such attendees, and those attendees are then marked as having taken part, so
nobody counts twice nor votes online afterwards.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from . import selectors
from .models import Elector, Meeting, MeetingTally, Method, Proposal


def _facilitator(by) -> None:
    if not selectors.is_facilitator(by):
        raise ValidationError(_("Only a facilitator does this."), code="permission")


def schedule(*, title: str, starts_at, by, place: str = "", agenda=()) -> Meeting:
    _facilitator(by)
    meeting = Meeting.objects.create(title=title, starts_at=starts_at, place=place)
    meeting.agenda.set(agenda)
    return meeting


def record_attendance(meeting: Meeting, *, users, by) -> Meeting:
    _facilitator(by)
    meeting.attendees.set(users)
    return meeting


def record_minutes(meeting: Meeting, *, minutes: str, by) -> Meeting:
    _facilitator(by)
    meeting.minutes = minutes
    meeting.save(update_fields=["minutes"])
    return meeting


def paper_voters(meeting: Meeting, proposal: Proposal):
    """Attendees who may vote at the meeting: eligible, not recused, no vote online yet."""
    return Elector.objects.filter(proposal=proposal, recused=False, voted=False,
                                  user__in=meeting.attendees.all())


@transaction.atomic
def record_decision(meeting: Meeting, proposal: Proposal, *, by, how: str, votes_for: int = 0,
                    votes_against: int = 0, abstentions: int = 0, consents: int = 0, objections: int = 0,
                    objection_reasons: str = "") -> MeetingTally:
    _facilitator(by)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.state != Proposal.State.OPEN:
        raise ValidationError(_("This vote is not open."), code="state")
    if not meeting.agenda.filter(pk=proposal.pk).exists():
        raise ValidationError(_("This proposal is not on the meeting's agenda."), code="agenda")
    if MeetingTally.objects.filter(proposal=proposal).exists():
        raise ValidationError(_("A meeting's decision is already recorded for this proposal."), code="twice")
    if how == MeetingTally.How.HANDS and proposal.secret:
        raise ValidationError(_("A secret ballot cannot be decided by a show of hands."), code="hands_secret")
    if proposal.method == Method.CONSENT:
        if votes_for or votes_against or abstentions:
            raise ValidationError(_("A consent vote counts consents and objections."), code="choice")
        if objections and not objection_reasons.strip():
            raise ValidationError(_("An objection must give its reason."), code="reason")
    elif consents or objections:
        raise ValidationError(_("This vote counts for, against and abstentions."), code="choice")
    voters = list(paper_voters(meeting, proposal).select_for_update())
    total = votes_for + votes_against + abstentions + consents + objections
    if total > len(voters):
        raise ValidationError(
            _("%(total)s votes, but only %(n)s attendees are eligible and had not voted online.")
            % {"total": total, "n": len(voters)}, code="too_many",
        )
    tally = MeetingTally.objects.create(
        proposal=proposal, meeting=meeting, how=how, votes_for=votes_for, votes_against=votes_against,
        abstentions=abstentions, consents=consents, objections=objections,
        objection_reasons=objection_reasons.strip(), recorded_by=by,
    )
    Elector.objects.filter(pk__in=[v.pk for v in voters]).update(voted=True, channel=Elector.Channel.MEETING)
    return tally
