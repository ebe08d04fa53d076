"""Proposals: drafting, opening, withdrawing, amending, and the vendor's answer.

Every change of state goes through `record()` so that the log says who and when.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from allocations import periods
from allocations import rules as fund_rules
from allocations.models import FundRules
from users import roles
from vendors.models import Vendor, VendorStaff
from vendors.services import TRANSITIONS

from . import charter, selectors, votes
from .models import (
    VENDOR_ANSWERS_KINDS,
    VENDOR_KINDS,
    Amendment,
    Ballot,
    Elector,
    Kind,
    MeetingTally,
    Notification,
    Policy,
    Proposal,
    Transition,
)
from .notifications import notify

State = Proposal.State
VS = Vendor.Status

# The vendor status each kind leads to, and from which statuses it can.
VENDOR_TARGET = {
    Kind.APPROVE_VENDOR: VS.APPROVED,
    Kind.SUSPEND_VENDOR: VS.SUSPENDED,
    Kind.REVOKE_VENDOR: VS.REVOKED,
    Kind.REINSTATE_VENDOR: VS.APPROVED,
}
# What a rules proposal must state: every field of a version but its start and its origin.
RULES_FIELDS = [
    f.name for f in FundRules._meta.concrete_fields
    if f.name not in ("id", "effective_from", "decision_reference", "created_by", "created_at")
]


# The defaults of each kind's policy (also written by migration 0003, which coordinators
# then edit in the admin). Vendor decisions are secret: committee members are neighbours
# and customers of the shops they judge.
DEFAULT_POLICIES = {
    Kind.APPROVE_VENDOR: {"method": "majority", "quorum_percent": 50, "voting_days": 14, "secret": True},
    Kind.SUSPEND_VENDOR: {"method": "majority", "quorum_percent": 50, "voting_days": 10, "secret": True},
    Kind.REVOKE_VENDOR: {"method": "qualified", "qualified_numerator": 2, "qualified_denominator": 3,
                         "quorum_percent": 50, "voting_days": 14, "secret": True},
    Kind.REINSTATE_VENDOR: {"method": "majority", "quorum_percent": 50, "voting_days": 10, "secret": True},
    Kind.CHANGE_RULES: {"method": "consent", "quorum_percent": 50, "voting_days": 21, "secret": False},
    Kind.MOTION: {"method": "majority", "quorum_percent": 33, "voting_days": 14, "secret": False},
}


def policy_for(kind: str) -> Policy:
    return Policy.objects.get_or_create(kind=kind, defaults=DEFAULT_POLICIES[kind])[0]


def record(proposal: Proposal, to_state: str, *, by=None, note: str = "") -> Transition:
    transition = Transition.objects.create(proposal=proposal, from_state=proposal.state, to_state=to_state, by=by,
                                           note=note)
    proposal.state = to_state
    return transition


def may_author(user) -> bool:
    return selectors.is_committee_member(user) or roles.is_coordinator(user)


def next_period_start():
    return periods.parse(periods.shift(periods.current(), 1))


def _rule_label(name: str) -> str:
    # People read the field's label, not its name in the code.
    try:
        return str(FundRules._meta.get_field(name).verbose_name)
    except Exception:
        return name


def validate_rules(values: dict) -> dict:
    """A complete version of the fund rules, checked as `create_version` will check it."""
    if not isinstance(values, dict):
        raise ValidationError(_("The proposed rules must be a set of values."), code="rules")
    missing = [name for name in RULES_FIELDS if name not in values]
    unknown = sorted(set(values) - set(RULES_FIELDS))
    if missing or unknown:
        raise ValidationError(
            _("The proposed rules must give every value of a version (missing: %(missing)s; unknown: %(unknown)s).")
            % {"missing": ", ".join(_rule_label(name) for name in missing) or "-", "unknown": ", ".join(unknown) or "-"},
            code="rules",
        )
    candidate = FundRules(effective_from=next_period_start(), **values)
    try:
        candidate.full_clean(exclude=["effective_from", "created_by", "decision_reference"], validate_unique=False)
    except ValidationError as error:
        raise ValidationError("; ".join(f"{_rule_label(k)} : {' '.join(v)}" for k, v in error.message_dict.items()),
                              code="rules")
    fund_rules.validate_version(candidate)
    return {name: getattr(candidate, name) for name in RULES_FIELDS}


def validate_vendor_target(kind: str, vendor: Vendor) -> None:
    target = VENDOR_TARGET[kind]
    if kind == Kind.REINSTATE_VENDOR and vendor.status != VS.SUSPENDED:
        raise ValidationError(_("Only a suspended vendor can be reinstated."), code="vendor_status")
    if target not in TRANSITIONS.get(vendor.status, set()):
        raise ValidationError(
            _("This vote cannot apply to a vendor whose status is “%(status)s”.")
            % {"status": vendor.get_status_display()}, code="vendor_status",
        )


def validate(proposal: Proposal) -> None:
    """What each kind must carry before it can open."""
    if not proposal.title.strip():
        raise ValidationError(_("A proposal needs a question."), code="title")
    if proposal.kind in VENDOR_KINDS:
        if proposal.vendor_id is None:
            raise ValidationError(_("Say which vendor the vote is about."), code="vendor")
        validate_vendor_target(proposal.kind, Vendor.objects.get(pk=proposal.vendor_id))
    if proposal.kind == Kind.APPROVE_VENDOR:
        if not proposal.visit_report.strip():
            raise ValidationError(_("An approval needs the visit report."), code="visit_report")
        checks = proposal.charter_checks if isinstance(proposal.charter_checks, dict) else {}
        unanswered = [str(label) for key, label in charter.CRITERIA.items() if not isinstance(checks.get(key), bool)]
        if unanswered or set(checks) - set(charter.CRITERIA):
            raise ValidationError(
                _("Check every criterion of the charter, one by one (not answered: %(list)s).")
                % {"list": "; ".join(unanswered) or "-"}, code="charter",
            )
    if proposal.kind == Kind.CHANGE_RULES:
        proposal.proposed_rules = validate_rules(proposal.proposed_rules)


def create(*, kind: str, title: str, author, text: str = "", vendor: Vendor | None = None, visit_report: str = "",
           charter_checks: dict | None = None, proposed_rules: dict | None = None) -> Proposal:
    if not may_author(author):
        raise ValidationError(_("Only committee members and coordinators write proposals."), code="permission")
    proposal = Proposal(kind=kind, title=title.strip(), text=text, author=author, vendor=vendor,
                        visit_report=visit_report, charter_checks=charter_checks or {},
                        proposed_rules=proposed_rules or {})
    validate(proposal)
    with transaction.atomic():
        proposal.save()
        Transition.objects.create(proposal=proposal, from_state="", to_state=State.DRAFT, by=author)
    return proposal


def update_draft(proposal: Proposal, *, by, title: str, text: str = "", vendor: Vendor | None = None,
                 visit_report: str = "", charter_checks: dict | None = None, proposed_rules: dict | None = None,
                 kind: str | None = None) -> Proposal:
    """The author rewrites a draft; once the vote is open, the text voted on no longer changes."""
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if by.pk != proposal.author_id:
            raise ValidationError(_("Only its author edits a draft."), code="permission")
        if proposal.state != State.DRAFT:
            raise ValidationError(_("Only a draft can be edited: the vote is open."), code="state")
        if kind is not None and kind != proposal.kind:
            raise ValidationError(_("A draft keeps its kind; write a new proposal for another kind."), code="kind")
        proposal.title, proposal.text, proposal.vendor = title.strip(), text, vendor
        proposal.visit_report, proposal.charter_checks = visit_report, charter_checks or {}
        proposal.proposed_rules = proposed_rules or {}
        validate(proposal)
        proposal.save()
    return proposal


def _deadline_text(proposal: Proposal) -> str:
    return formats.date_format(timezone.localtime(proposal.closes_at), "DATETIME_FORMAT")


@transaction.atomic
def open_vote(proposal: Proposal, *, by) -> Proposal:
    """Copy the policy, write the electorate (the committee today), tell everyone."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.state != State.DRAFT:
        raise ValidationError(_("Only a draft can be opened."), code="state")
    if not (by.pk == proposal.author_id or selectors.is_facilitator(by) or roles.is_coordinator(by)):
        raise ValidationError(_("Only the author, a facilitator or a coordinator opens a vote."), code="permission")
    validate(proposal)
    policy = policy_for(proposal.kind)
    for name in ("method", "qualified_numerator", "qualified_denominator", "quorum_percent", "extension_days",
                 "results_before_close", "secret"):
        setattr(proposal, name, getattr(policy, name))
    now = timezone.now()
    proposal.opened_at, proposal.closes_at = now, now + timedelta(days=policy.voting_days)
    record(proposal, State.OPEN, by=by)
    proposal.save()
    member_ids = sorted(set(selectors.current_seats().values_list("user_id", flat=True)))
    Elector.objects.bulk_create([Elector(proposal=proposal, user_id=uid) for uid in member_ids])
    _tell_electors_opened(proposal)
    if proposal.kind in VENDOR_ANSWERS_KINDS:
        tell_vendor(proposal)
    return proposal


def _tell_electors_opened(proposal: Proposal) -> None:
    with override(settings.LANGUAGE_CODE):
        subject = _("Committee: a new vote is open")
        text = _("A vote is open: “%(title)s”. You can vote until %(deadline)s, in your space, under “Committee”.") % {
            "title": proposal.title, "deadline": _deadline_text(proposal)}
    ids = Elector.objects.filter(proposal=proposal, recused=False).values_list("user_id", flat=True)
    notify(ids, proposal, Notification.Kind.OPENED, occasion=f"round-{proposal.round}", subject=subject, text=text)


def tell_vendor(proposal: Proposal) -> None:
    """Before a vote to suspend or revoke it closes, the vendor hears of it and may answer."""
    vendor = proposal.vendor
    with override(settings.LANGUAGE_CODE):
        subject = _("The fund's committee is voting about your shop")
        text = _(
            "The citizen committee is voting on this question: “%(title)s”. The vote closes on %(deadline)s. "
            "You may answer before then, from your shop's space, under “The committee's votes”: "
            "your answer is shown to the committee."
        ) % {"title": proposal.title, "deadline": _deadline_text(proposal)}
    staff = VendorStaff.objects.filter(vendor=vendor).values_list("user_id", flat=True)
    notify(staff, proposal, Notification.Kind.VENDOR, occasion=f"round-{proposal.round}", subject=subject, text=text,
           extra_addresses=[vendor.contact_email])
    Proposal.objects.filter(pk=proposal.pk).update(vendor_notified_at=timezone.now())


@transaction.atomic
def answer_as_vendor(proposal: Proposal, *, by, text: str) -> Proposal:
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.kind not in VENDOR_ANSWERS_KINDS or not VendorStaff.objects.filter(
            user=by, vendor_id=proposal.vendor_id).exists():
        raise ValidationError(_("Only the vendor concerned may answer."), code="permission")
    if proposal.state != State.OPEN:
        raise ValidationError(_("The vote is closed: it is too late to answer."), code="state")
    if not text.strip():
        raise ValidationError(_("Write your answer."), code="empty")
    proposal.vendor_answer, proposal.vendor_answered_at = text.strip(), timezone.now()
    proposal.save(update_fields=["vendor_answer", "vendor_answered_at"])
    Transition.objects.create(proposal=proposal, from_state=State.OPEN, to_state=State.OPEN, by=by,
                              note=_("The vendor answered."))
    return proposal


@transaction.atomic
def withdraw(proposal: Proposal, *, by, reason: str = "") -> Proposal:
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if by.pk != proposal.author_id:
        raise ValidationError(_("Only its author withdraws a proposal."), code="permission")
    if proposal.state not in (State.DRAFT, State.OPEN):
        raise ValidationError(_("A proposal can only be withdrawn before its close."), code="state")
    was_open = proposal.state == State.OPEN
    record(proposal, State.WITHDRAWN, by=by, note=reason)
    proposal.save(update_fields=["state"])
    if was_open and proposal.secret:
        list(Elector.objects.select_for_update().filter(proposal=proposal))
        votes.drop_pending(proposal)
    return proposal


@transaction.atomic
def amend(proposal: Proposal, *, by, text: str, answer: str = "") -> Proposal:
    """The author answers objections with a new text: the vote starts again, with a full
    voting period, and everyone eligible is told. Only for consent votes, while open or
    after a rejection for objections."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if by.pk != proposal.author_id:
        raise ValidationError(_("Only its author amends a proposal."), code="permission")
    if proposal.method != "consent" or proposal.state not in (State.OPEN, State.REJECTED):
        raise ValidationError(_("Only a consent proposal that is open, or rejected, can be amended."), code="state")
    if not text.strip() or text.strip() == proposal.text.strip():
        raise ValidationError(_("Write the amended text."), code="empty")
    Amendment.objects.create(proposal=proposal, previous_text=proposal.text, new_text=text.strip(), answer=answer)
    # Members consented to another text: their votes no longer stand.
    list(Elector.objects.select_for_update().filter(proposal=proposal))
    Ballot.objects.filter(proposal=proposal).delete()
    MeetingTally.objects.filter(proposal=proposal).delete()
    Elector.objects.filter(proposal=proposal).update(voted=False, channel="")
    policy = policy_for(proposal.kind)
    now = timezone.now()
    proposal.text, proposal.round, proposal.extended = text.strip(), proposal.round + 1, False
    proposal.closes_at = now + timedelta(days=policy.voting_days)
    proposal.closed_at = proposal.eligible_count = proposal.participants = None
    proposal.tally, proposal.outcome_reason = {}, ""
    record(proposal, State.OPEN, by=by, note=_("Amended in answer to objections; the vote starts again."))
    proposal.save()
    _tell_electors_opened(proposal)
    return proposal
