"""Reads of the committee and its proposals, for services and pages."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from users import roles

from .models import CommitteeMembership, Elector, Proposal


def current_seats(on: date | None = None) -> QuerySet[CommitteeMembership]:
    day = on or timezone.localdate()
    return CommitteeMembership.objects.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day), starts_on__lte=day)


def is_committee_member(user) -> bool:
    return roles.is_committee_member(user)


def is_facilitator(user) -> bool:
    return (
        bool(user and user.is_authenticated)
        and current_seats().filter(user=user, role=CommitteeMembership.Role.FACILITATOR).exists()
    )


def elector_of(proposal: Proposal, user) -> Elector | None:
    if not user.is_authenticated:
        return None
    return Elector.objects.filter(proposal=proposal, user=user).first()


def to_vote(user) -> QuerySet[Proposal]:
    """Open proposals this member may still vote on (or change their vote on)."""
    return (
        Proposal.objects.filter(state=Proposal.State.OPEN, electors__user=user, electors__recused=False)
        .select_related("vendor")
        .order_by("closes_at", "id")
    )


def register() -> QuerySet[Proposal]:
    """The decisions, newest first: what every member of the fund may read."""
    return (
        Proposal.objects.filter(state__in=[Proposal.State.ADOPTED, Proposal.State.REJECTED, Proposal.State.APPLIED])
        .select_related("vendor")
        .order_by("-closed_at", "-id")
    )


def decision_by_reference(reference: str) -> Proposal | None:
    if not reference.startswith("CC-") or not reference[3:].isdigit():
        return None
    return Proposal.objects.filter(pk=int(reference[3:])).first()


def results_visible(proposal: Proposal) -> bool:
    return proposal.decided or proposal.state == Proposal.State.CLOSED or (
        proposal.state == Proposal.State.OPEN and proposal.results_before_close and not proposal.secret
    )
