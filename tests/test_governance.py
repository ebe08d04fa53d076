"""Governance services: counting, lifecycle, secrecy at the database, proxies, meetings,
the vendor's answer, the periodic task, and the effects on vendors and fund rules."""

import datetime
import json
import threading
import uuid
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connections
from django.test import Client
from django.utils import timezone

from allocations import rules as fund_rules
from allocations.models import FundRules
from governance import decisions, meetings, proposals, votes
from governance.models import Ballot, Elector, Kind, Notification, Proposal, Transition, VoteHistory
from vendors.models import StatusChange, Vendor

from .governance_fixtures import make_committee, open_proposal, set_policy
from .member_fixtures import make_member
from .vendor_fixtures import adopted_decision, make_key, make_staff, make_vendor

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
S = Proposal.State


@pytest.fixture(autouse=True)
def _english(settings):
    """Recorded reasons are written in the fund's language: English here, to read them."""
    settings.LANGUAGE_CODE = "en"


def cast_all(proposal, users, choices, reason="parce que"):
    receipts = {}
    for user, choice in zip(users, choices):
        receipts[user.pk] = votes.cast(proposal, user, choice, reason=reason if choice == "object" else "").receipt
    return receipts


def close_now(proposal, days=30):
    return decisions.close(proposal, now=timezone.now() + datetime.timedelta(days=days))


# --- Counting ----------------------------------------------------------------------------


def test_majority_adopts_with_more_for_than_against_and_abstentions_count_for_quorum_only():
    members = make_committee(10)
    p = open_proposal(Kind.MOTION, members[0])  # majority, quorum 33 %
    cast_all(p, members[:4], ["for", "for", "against", "abstain"])
    result = decisions.count(p)
    assert (result.eligible, result.participants, result.quorum_needed) == (10, 4, 4)
    assert result.quorum_met and result.adopted
    closed = close_now(p)
    assert closed.state == S.ADOPTED  # a motion is only recorded
    assert closed.outcome_reason == "Adopted: 2 for, 1 against." and closed.tally["abstain"] == 1


def test_abstentions_alone_reach_the_quorum_but_nobody_for_is_a_tie_rejected():
    members = make_committee(4)
    p = open_proposal(Kind.MOTION, members[0])
    cast_all(p, members[:2], ["abstain", "abstain"])
    result = decisions.count(p)
    assert result.quorum_met and not result.adopted
    assert "tie" in result.reason


def test_a_tie_is_rejected_and_the_reason_says_so():
    members = make_committee(6)
    p = open_proposal(Kind.MOTION, members[0])
    cast_all(p, members[:4], ["for", "against", "for", "against"])
    closed = close_now(p)
    assert closed.state == S.REJECTED
    assert "tie" in closed.outcome_reason and "2 for, 2 against" in closed.outcome_reason


def test_a_qualified_majority_needs_the_fraction_of_for_plus_against():
    members = make_committee(9)
    set_policy(Kind.MOTION, method="qualified", qualified_numerator=2, qualified_denominator=3)
    p = open_proposal(Kind.MOTION, members[0], title="deux tiers")
    cast_all(p, members[:5], ["for", "for", "for", "against", "abstain"])  # 3/4 >= 2/3
    assert decisions.count(p).adopted
    q = open_proposal(Kind.MOTION, members[0], title="pas deux tiers")
    cast_all(q, members[:5], ["for", "for", "against", "against", "for"])  # 3/5 < 2/3
    result = decisions.count(q)
    assert not result.adopted and "less than 2/3" in result.reason


def test_consent_is_adopted_without_objection_and_rejected_with_one_that_needs_a_reason():
    members = make_committee(4)
    set_policy(Kind.MOTION, method="consent")
    p = open_proposal(Kind.MOTION, members[0])
    assert votes.allowed_choices(p) == ["consent", "object"]
    with pytest.raises(ValidationError) as refused:
        votes.cast(p, members[1], "object", reason="  ")
    assert refused.value.code == "reason"
    with pytest.raises(ValidationError):
        votes.cast(p, members[1], "for")
    cast_all(p, members[:3], ["consent", "consent", "consent"])
    assert decisions.count(p).adopted
    votes.cast(p, members[3], "object", reason="Trop tôt pour décider")
    result = decisions.count(p)
    assert not result.adopted and result.objections == ["Trop tôt pour décider"]


def test_the_author_amends_in_answer_to_an_objection_which_reopens_the_vote():
    members = make_committee(3)
    set_policy(Kind.MOTION, method="consent")
    p = open_proposal(Kind.MOTION, members[0], text="Version 1")
    cast_all(p, members, ["consent", "consent", "object"])
    closed = close_now(p)
    assert closed.state == S.REJECTED
    with pytest.raises(ValidationError):
        proposals.amend(closed, by=members[1], text="Version 2")
    reopened = proposals.amend(closed, by=members[0], text="Version 2", answer="Nous avons repoussé la date.")
    assert reopened.state == S.OPEN and reopened.round == 2 and reopened.closes_at > timezone.now()
    assert Ballot.objects.filter(proposal=p).count() == 0
    assert not Elector.objects.filter(proposal=p, voted=True).exists()
    assert Notification.objects.filter(proposal=p, kind="opened", occasion="round-2").count() == 3
    cast_all(reopened, members, ["consent", "consent", "consent"])
    assert close_now(reopened).state == S.ADOPTED


def test_recusal_takes_the_member_out_of_those_eligible():
    members = make_committee(5)
    p = open_proposal(Kind.MOTION, members[0])
    with pytest.raises(ValidationError):
        votes.recuse(p, members[4], reason=" ")
    votes.cast(p, members[4], "for")
    votes.recuse(p, members[4], reason="Je travaille dans ce commerce")
    assert not Ballot.objects.filter(proposal=p).exists()
    votes.recuse(p, members[3], reason="Ma sœur est la gérante")
    with pytest.raises(ValidationError) as refused:
        votes.cast(p, members[3], "for")
    assert refused.value.code == "recused"
    votes.cast(p, members[0], "for")
    result = decisions.count(p)
    assert result.eligible == 3 and result.quorum_needed == 1 and result.adopted  # 33 % of 3


def test_quorum_not_met_rejects_after_the_one_extension():
    members = make_committee(10)
    p = open_proposal(Kind.MOTION, members[0])
    votes.cast(p, members[0], "for")
    first = close_now(p, days=15)
    assert first.state == S.OPEN and first.extended
    second = close_now(first, days=30)
    assert second.state == S.REJECTED and "quorum" in second.outcome_reason


# --- Votes ---------------------------------------------------------------------------------


def test_a_public_vote_changes_until_the_close_and_keeps_its_history():
    members = make_committee(3)
    p = open_proposal(Kind.MOTION, members[0])
    votes.cast(p, members[1], "for")
    result = votes.cast(p, members[1], "against")
    assert result.changed and Ballot.objects.get(proposal=p, voter=members[1]).choice == "against"
    assert list(VoteHistory.objects.filter(proposal=p).values_list("choice", flat=True)) == ["for", "against"]
    votes.cast(p, members[0], "for")
    votes.cast(p, members[2], "for")
    closed = close_now(p)
    with pytest.raises(ValidationError) as refused:
        votes.cast(closed, members[1], "for")
    assert refused.value.code == "closed"


def test_a_secret_vote_changes_with_its_receipt_and_the_database_links_no_member_to_a_choice():
    members = make_committee(3)
    vendor = make_vendor("ferme-des-oliviers", status=Vendor.Status.APPLIED)
    p = open_proposal(Kind.APPROVE_VENDOR, members[0], vendor=vendor)
    assert p.secret  # the default for vendor decisions
    receipt = votes.cast(p, members[1], "against").receipt
    assert receipt and len(receipt) == 19
    with pytest.raises(ValidationError) as refused:
        votes.cast(p, members[1], "for")
    assert refused.value.code == "already_voted"
    with pytest.raises(ValidationError):
        votes.cast(p, members[1], "for", receipt=votes.new_receipt())
    changed = votes.cast(p, members[1], "for", receipt=receipt.lower().replace("-", ""))
    assert changed.changed and Ballot.objects.filter(proposal=p).count() == 1
    assert Ballot.objects.get(proposal=p).choice == "for"
    assert not VoteHistory.objects.filter(proposal=p).exists()
    # No column of a secret ballot names or dates its voter.
    for row in Ballot.objects.filter(proposal=p).values():
        assert row["voter_id"] is None and row["proxy_by_id"] is None and row["cast_at"] is None
        assert set(row) == {"id", "proposal_id", "choice", "reason", "voter_id", "proxy_by_id", "receipt_hash",
                            "cast_at"}
    # The participation row says that, not how.
    elector = Elector.objects.get(proposal=p, user=members[1])
    assert elector.voted and not hasattr(elector, "choice")
    # Nothing in the audit log mentions a vote.
    assert not Transition.objects.filter(proposal=p, by=members[1]).exists()


def test_a_non_member_and_a_former_member_cannot_vote():
    members = make_committee(3)
    outsider = make_member("F-0001").user
    p = open_proposal(Kind.MOTION, members[0])
    with pytest.raises(ValidationError) as refused:
        votes.cast(p, outsider, "for")
    assert refused.value.code == "not_eligible"
    seat = members[2].committee_seats.get()
    seat.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    seat.starts_on = seat.ends_on
    seat.save()
    with pytest.raises(ValidationError):
        votes.cast(p, members[2], "for")
    # Who joins after the opening votes on the next proposals, not this one.
    newcomer = make_committee(1, prefix="new")[0]
    with pytest.raises(ValidationError):
        votes.cast(p, newcomer, "for")


def test_a_facilitator_records_a_proxy_vote_the_member_sees_and_changes():
    members = make_committee(3)
    facilitator, member = members[0], members[1]
    p = open_proposal(Kind.MOTION, members[2])
    with pytest.raises(ValidationError):
        votes.proxy(p, member=member, choice="for", by=members[2])  # not a facilitator
    votes.proxy(p, member=member, choice="for", by=facilitator)
    ballot = Ballot.objects.get(proposal=p, voter=member)
    assert ballot.proxy_by == facilitator and Elector.objects.get(proposal=p, user=member).channel == "proxy"
    votes.cast(p, member, "against")
    ballot.refresh_from_db()
    assert ballot.choice == "against" and ballot.proxy_by is None
    history = list(VoteHistory.objects.filter(proposal=p).values_list("choice", "proxy_by"))
    assert history == [("for", facilitator.pk), ("against", None)]
    secret = open_proposal(Kind.SUSPEND_VENDOR, members[2], vendor=make_vendor("boucherie"))
    with pytest.raises(ValidationError) as refused:
        votes.proxy(secret, member=member, choice="for", by=facilitator)
    assert refused.value.code == "proxy_secret"


@pytest.mark.django_db(transaction=True)
def test_nobody_votes_twice_even_with_concurrent_requests():
    members = make_committee(2)
    secret = open_proposal(Kind.SUSPEND_VENDOR, members[0], vendor=make_vendor("cave"))
    public = open_proposal(Kind.MOTION, members[0])
    for proposal in (secret, public):
        barrier, outcomes = threading.Barrier(8), []

        def vote(proposal=proposal, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait()
                outcomes.append(votes.cast(proposal, members[1], "for").receipt or "public")
            except ValidationError as error:
                outcomes.append(error.code)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=vote) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert Ballot.objects.filter(proposal=proposal).count() == 1
        assert Elector.objects.get(proposal=proposal, user=members[1]).voted
        if proposal.secret:
            assert sorted(outcomes).count("already_voted") == 7
    assert decisions.count(secret).participants == 1 and decisions.count(public).participants == 1


def test_the_database_refuses_a_second_public_ballot():
    from django.db import IntegrityError, transaction

    members = make_committee(2)
    p = open_proposal(Kind.MOTION, members[0])
    votes.cast(p, members[1], "for")
    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.objects.create(proposal=p, voter=members[1], choice="against")


# --- Lifecycle ------------------------------------------------------------------------------


def test_withdrawn_by_its_author_only_and_only_before_the_close():
    members = make_committee(2)
    p = open_proposal(Kind.MOTION, members[0])
    with pytest.raises(ValidationError):
        proposals.withdraw(p, by=members[1])
    proposals.withdraw(p, by=members[0], reason="Remplacée")
    assert Proposal.objects.get(pk=p.pk).state == S.WITHDRAWN
    assert list(Transition.objects.filter(proposal=p).values_list("to_state", "by")) == [
        ("draft", members[0].pk), ("open", members[0].pk), ("withdrawn", members[0].pk)]


def test_a_facilitator_closes_early_only_once_everyone_eligible_has_voted():
    members = make_committee(3)
    p = open_proposal(Kind.MOTION, members[1])
    cast_all(p, members[:2], ["for", "for"])
    with pytest.raises(ValidationError) as refused:
        decisions.close(p, by=members[0], early=True)
    assert refused.value.code == "not_everyone"
    votes.recuse(p, members[2], reason="Conflit d'intérêts")
    with pytest.raises(ValidationError):
        decisions.close(p, by=members[1], early=True)  # not a facilitator
    closed = decisions.close(p, by=members[0], early=True)
    assert closed.state == S.ADOPTED and closed.eligible_count == 2
    assert Transition.objects.filter(proposal=p, to_state="closed", by=members[0]).exists()


def test_a_proposal_to_approve_needs_the_visit_report_and_every_charter_criterion():
    members = make_committee(1)
    vendor = make_vendor("primeur", status=Vendor.Status.APPLIED)
    with pytest.raises(ValidationError) as refused:
        proposals.create(kind=Kind.APPROVE_VENDOR, title="Primeur", author=members[0], vendor=vendor,
                         visit_report="Visite", charter_checks={"local_supply": True})
    assert refused.value.code == "charter"
    with pytest.raises(ValidationError):
        proposals.create(kind=Kind.REINSTATE_VENDOR, title="?", author=members[0], vendor=vendor)
    with pytest.raises(ValidationError):
        proposals.create(kind=Kind.MOTION, title="?", author=make_member("F-0002").user)


# --- The periodic task, notifications ----------------------------------------------------


def test_the_periodic_task_extends_once_without_quorum_tells_everyone_then_closes(settings, mail_after_commit):
    settings.TIME_ZONE = "Europe/Paris"
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS), tick=False):
        members = make_committee(4)
        p = open_proposal(Kind.MOTION, members[0])  # 14 days, quorum 33 %: 2 of 4
        assert Notification.objects.filter(proposal=p, kind="opened").count() == 4
        votes.cast(p, members[0], "for")
    mail.outbox.clear()
    with time_machine.travel(datetime.datetime(2026, 3, 15, 10, 0, tzinfo=PARIS), tick=False):
        from governance.tasks import remind_voters_task

        with mail_after_commit():
            assert remind_voters_task() == 3  # the three who have not voted
            assert remind_voters_task() == 0  # never twice
        assert len(mail.outbox) == 3
    with time_machine.travel(datetime.datetime(2026, 3, 16, 9, 5, tzinfo=PARIS), tick=False):
        from governance.tasks import close_due_proposals_task

        assert close_due_proposals_task() == [p.pk]
        p.refresh_from_db()
        assert p.state == S.OPEN and p.extended
        assert timezone.localtime(p.closes_at) == datetime.datetime(2026, 3, 23, 9, 5, tzinfo=PARIS)
        assert Notification.objects.filter(proposal=p, kind="extended").count() == 4
        assert Transition.objects.filter(proposal=p, note__icontains="extended", by=None).exists()
        votes.cast(p, members[1], "for")
    with time_machine.travel(datetime.datetime(2026, 3, 23, 9, 10, tzinfo=PARIS), tick=False):
        close_due_proposals_task()
        p.refresh_from_db()
        assert p.state == S.ADOPTED and p.participants == 2 and p.eligible_count == 4
        assert timezone.localtime(p.closed_at).date() == datetime.date(2026, 3, 23)


def test_the_schedule_is_in_the_beat_database():
    from importlib import import_module

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    # Written by a data migration; rerun it in case a transactional test flushed the tables.
    import_module("governance.migrations.0003_default_policies_and_schedule").forward(apps, None)

    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"governance.tasks.close_due_proposals_task", "governance.tasks.remind_voters_task"} <= tasks


# --- Meetings --------------------------------------------------------------------------------


def test_paper_totals_at_a_meeting_merge_with_online_votes_without_counting_anyone_twice():
    members = make_committee(8)
    facilitator = members[0]
    vendor = make_vendor("marche-paysan", status=Vendor.Status.APPLIED)
    p = open_proposal(Kind.APPROVE_VENDOR, facilitator, vendor=vendor)
    cast_all(p, members[1:4], ["for", "for", "against"])  # three online
    meeting = meetings.schedule(title="Comité de mars", starts_at=timezone.now(), by=facilitator, agenda=[p])
    # Six attended, two of whom had voted online: four may vote on paper.
    meetings.record_attendance(meeting, users=members[:3] + members[4:7], by=facilitator)
    with pytest.raises(ValidationError) as refused:
        meetings.record_decision(meeting, p, by=facilitator, how="paper", votes_for=3, votes_against=2)
    assert refused.value.code == "too_many"
    with pytest.raises(ValidationError):
        meetings.record_decision(meeting, p, by=facilitator, how="hands", votes_for=2)  # secret: no hands
    meetings.record_decision(meeting, p, by=facilitator, how="paper", votes_for=2, votes_against=1, abstentions=1)
    with pytest.raises(ValidationError) as refused:
        votes.cast(p, members[4], "for")  # voted on paper already
    assert refused.value.code == "already_voted"
    votes.cast(p, members[7], "against")  # absent from the meeting: still votes online
    result = decisions.count(p)
    assert result.participants == 8 and result.paper == 4
    assert (result.counts["for"], result.counts["against"], result.counts["abstain"]) == (4, 3, 1)
    closed = decisions.close(p, by=facilitator, early=True)
    assert closed.state == S.APPLIED


# --- The vendor is told and answers --------------------------------------------------------


def test_the_vendor_is_told_of_a_suspension_vote_and_its_answer_is_attached(mail_after_commit):
    members = make_committee(3)
    vendor = make_vendor("epicerie-fine", contact_email="contact@epicerie.example")
    staff = make_staff(vendor, "gerant")
    staff.email = "gerant@epicerie.example"
    staff.save()
    other = make_staff(make_vendor("autre"), "autre-vendeur")
    mail.outbox.clear()
    with mail_after_commit():
        p = open_proposal(Kind.SUSPEND_VENDOR, members[0], vendor=vendor, text="Plaintes répétées sur les prix.")
    assert {m.to[0] for m in mail.outbox} >= {"contact@epicerie.example", "gerant@epicerie.example"}
    assert Notification.objects.filter(proposal=p, user=staff, kind="vendor").exists()
    assert p.vendor_notified_at is None or Proposal.objects.get(pk=p.pk).vendor_notified_at
    with pytest.raises(ValidationError):
        proposals.answer_as_vendor(p, by=other, text="Pas moi")
    proposals.answer_as_vendor(p, by=staff, text="Nous avons corrigé nos étiquettes.")
    assert Proposal.objects.get(pk=p.pk).vendor_answer == "Nous avons corrigé nos étiquettes."


# --- Effects -----------------------------------------------------------------------------------


def pay(key, member, amount=1_000):
    return Client().post(
        "/api/v1/purchases", json.dumps({"card": member.card.number, "pin": member.pin, "amount": amount}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )


def test_an_adopted_approval_lets_the_vendor_s_key_take_a_payment_and_a_revocation_stops_it(ledger_is_clean):
    members = make_committee(3)
    vendor = make_vendor("ferme-du-pic", status=Vendor.Status.APPLIED)
    key = make_key(vendor)
    member = make_member("F-0042", balance=5_000)
    assert pay(key, member).status_code == 403

    approval = open_proposal(Kind.APPROVE_VENDOR, members[0], vendor=vendor)
    cast_all(approval, members, ["for", "for", "abstain"])
    approval = decisions.close(approval, by=members[0], early=True)
    assert approval.state == S.APPLIED
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.APPROVED
    change = StatusChange.objects.filter(vendor=vendor).first()
    assert change.decision_reference == approval.reference and change.to_status == "approved"
    assert pay(key, member).status_code == 201

    set_policy(Kind.REVOKE_VENDOR, method="majority")
    revocation = open_proposal(Kind.REVOKE_VENDOR, members[1], vendor=vendor)
    cast_all(revocation, members, ["for", "for", "against"])
    assert decisions.close(revocation, by=members[0], early=True).state == S.APPLIED
    refused = pay(key, member)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "vendor_not_approved"
    vendor.refresh_from_db()
    assert vendor.account.balance == 1_000  # what the fund owes it is still owed
    ledger_is_clean()


def test_an_effect_that_cannot_apply_leaves_the_outcome_adopted_with_the_reason():
    members = make_committee(1)
    vendor = make_vendor("fromagerie")
    p = open_proposal(Kind.SUSPEND_VENDOR, members[0], vendor=vendor)
    votes.cast(p, members[0], "for")
    from vendors.services import change_status

    change_status(vendor, Vendor.Status.REVOKED, by=None, reason="fraude",
                  decision=adopted_decision(vendor, Vendor.Status.REVOKED))
    closed = decisions.close(p, by=members[0], early=True)
    assert closed.state == S.ADOPTED and "could not be applied" in closed.effect_note


RULES = {
    "allocation_per_household": 15_000, "supplement_per_extra_adult": 7_500, "supplement_per_child": 5_000,
    "minimum_contribution": 1_000, "minimum_contribution_per_extra_person": 500,
    "contribution_grid": [{"income_per_person_up_to": 80_000, "suggested": 1_000},
                          {"income_per_person_up_to": None, "suggested": 5_000}],
    "rollover_policy": "cap", "rollover_cap": 5_000, "prorate_first_month": True,
    "arrears_policy": "keep", "arrears_grace_months": 3,
}


def test_an_adopted_rules_change_takes_effect_at_the_next_period_never_the_current(settings):
    settings.TIME_ZONE = "Europe/Paris"
    with time_machine.travel(datetime.datetime(2026, 3, 1, 12, 0, tzinfo=PARIS), tick=False):
        members = make_committee(2)
    with pytest.raises(ValidationError) as refused:
        proposals.create(kind=Kind.CHANGE_RULES, title="Incomplet", author=members[0],
                         proposed_rules={"allocation_per_household": 15_000})
    assert refused.value.code == "rules"
    with pytest.raises(ValidationError):
        proposals.create(kind=Kind.CHANGE_RULES, title="Cap sans plafond", author=members[0],
                         proposed_rules={**RULES, "rollover_cap": 0})
    # 31 March, 23:30 in Paris: already April 1st in UTC+2? No: the fund's day is still March.
    with time_machine.travel(datetime.datetime(2026, 3, 31, 23, 30, tzinfo=PARIS), tick=False):
        p = open_proposal(Kind.CHANGE_RULES, members[0], proposed_rules=RULES)
        assert p.method == "consent" and not p.secret
        cast_all(p, members, ["consent", "consent"])
        closed = decisions.close(p, by=members[0], early=True)
    assert closed.state == S.APPLIED
    version = FundRules.objects.get(decision_reference=closed.reference)
    assert version.effective_from == datetime.date(2026, 4, 1)
    assert fund_rules.rules_for("2026-03").allocation_per_household == 10_000
    assert fund_rules.rules_for("2026-04") == version and version.contribution_grid == RULES["contribution_grid"]
