"""Secret ballots that stay secret from the people who run the fund (issue 18).

During the vote PostgreSQL itself links a pending ballot to its voter (the two rows are
written in one transaction: same `xmin`; and the ballots' physical order is the order of
casting). After the close nothing does: these tests cast votes in separate transactions,
as in real life, and read the database the way someone with access would."""

import json
import logging
import random
import re

import pytest
from django.contrib.sessions.models import Session
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse

from governance import decisions, meetings, proposals, votes
from governance.models import Ballot, Choice, Elector, Kind, Meeting, Policy, Proposal, Receipt
from vendors.models import Vendor

from .governance_fixtures import make_committee, open_proposal, set_policy
from .vendor_fixtures import make_vendor

CHOICES = [Choice.FOR, Choice.AGAINST, Choice.ABSTAIN]


def client_for(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)  # the login is not the subject here
    return client


def _column(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _spy_on_vacuum(monkeypatch):
    ran = []
    real = votes.vacuum_ballot_tables

    def spy():
        real()
        ran.append(True)  # reached only if VACUUM ran (it refuses inside a transaction)

    monkeypatch.setattr(votes, "vacuum_ballot_tables", spy)
    return ran


@pytest.mark.django_db(transaction=True)
def test_after_the_close_nothing_in_the_database_follows_the_order_or_the_transactions_of_the_votes(monkeypatch):
    vacuumed = _spy_on_vacuum(monkeypatch)
    members = make_committee(20, prefix="voter-")
    vendor = make_vendor("ferme-du-causse", status=Vendor.Status.APPLIED)
    p = open_proposal(Kind.APPROVE_VENDOR, members[0], vendor=vendor)
    assert p.secret
    rng = random.Random(18)
    known, receipts, cast_order = {}, {}, []
    for member in members:  # autocommit: each vote its own transaction, as from the portal
        choice = rng.choice(CHOICES)
        receipts[member.pk] = votes.cast(p, member, choice).receipt
        known[member.pk] = choice
        cast_order.append(votes.receipt_hash(receipts[member.pk]))
    for member in members[3:9]:  # six change their minds before the close
        known[member.pk] = next(c for c in CHOICES if c != known[member.pk])
        assert votes.cast(p, member, known[member.pk], receipt=receipts[member.pk]).changed

    # What the close must undo: during the vote, PostgreSQL ties each ballot to its
    # participation (one xmin per vote) and keeps the ballots in the order of casting.
    ballot_xmins = _column("SELECT DISTINCT xmin::text FROM governance_ballot WHERE proposal_id = %s", [p.pk])
    elector_xmins = _column("SELECT DISTINCT xmin::text FROM governance_elector WHERE proposal_id = %s", [p.pk])
    assert len(ballot_xmins) > 1 and len(elector_xmins) > 1
    assert set(ballot_xmins) & set(elector_xmins)

    p = decisions.close(p, by=members[0], early=True)

    assert _column("SELECT count(DISTINCT xmin::text) FROM governance_receipt WHERE proposal_id = %s", [p.pk]) == [1]
    assert _column("SELECT count(DISTINCT xmin::text) FROM governance_elector WHERE proposal_id = %s", [p.pk]) == [1]
    # The same transaction wrote both: no participation keeps the xmin of its ballot.
    assert (_column("SELECT DISTINCT xmin::text FROM governance_receipt WHERE proposal_id = %s", [p.pk])
            == _column("SELECT DISTINCT xmin::text FROM governance_elector WHERE proposal_id = %s", [p.pk]))
    assert not Ballot.objects.filter(proposal=p).exists()  # the pending ballots are gone
    physical = _column("SELECT receipt_hash FROM governance_receipt WHERE proposal_id = %s ORDER BY ctid", [p.pk])
    by_id = _column("SELECT receipt_hash FROM governance_receipt WHERE proposal_id = %s ORDER BY id", [p.pk])
    assert sorted(physical) == sorted(cast_order) and len(physical) == 20
    assert physical != cast_order and by_id != cast_order
    assert {f.name for f in Receipt._meta.get_fields()} == {"id", "proposal", "round", "receipt_hash", "choice"}
    assert vacuumed == [True]

    # The tally is the known votes; each member's receipt shows the choice they last cast.
    for choice in CHOICES:
        assert p.tally[choice] == sum(1 for c in known.values() if c == choice)
    assert p.participants == 20 and Elector.objects.filter(proposal=p, voted=True).count() == 20
    for member in members:
        assert votes.verify(p, receipts[member.pk]) == known[member.pk]
        assert votes.verify(p, receipts[member.pk].lower().replace("-", " ")) == known[member.pk]
    assert votes.verify(p, votes.new_receipt()) is None


def _identity_patterns(user):
    return [re.escape(user.username), re.escape(user.email),
            rf'"\w*(?:user|voter|by|author)\w*": ?{user.pk}\b']


def _every_row():
    """Every row of every table of the application's database, as JSON text."""
    tables = _column("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", [])
    for table in tables:
        for text in _column(f"SELECT row_to_json(t)::text FROM {connection.ops.quote_name(table)} t", []):
            yield table, text


@pytest.mark.django_db
def test_no_table_session_or_log_holds_a_voter_beside_their_ballot(caplog):
    caplog.set_level(logging.DEBUG)
    members = make_committee(5, prefix="secret-voter-")
    p = open_proposal(Kind.SUSPEND_VENDOR, members[0], vendor=make_vendor("cave-secrete"))
    clients = {m.pk: client_for(m) for m in members}
    receipts, choices = {}, {}
    for member, choice in zip(members, ["for", "against", "for", "abstain", "against"]):
        response = clients[member.pk].post(f"/committee/p/{p.pk}/vote/", {"choice": choice})
        # The receipt comes in the response to the vote itself, never cached, never via
        # messages (which may be kept in the database session, beside the user's id).
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        receipts[member.pk] = re.search(r'data-testid="receipt">([A-Z2-9-]{19})<', response.content.decode())[1]
        choices[member.pk] = choice
    changed = clients[members[1].pk].post(f"/committee/p/{p.pk}/vote/", {"choice": "for"})
    assert "Your vote is changed." in changed.content.decode() and "no-store" in changed["Cache-Control"]
    choices[members[1].pk] = "for"

    def assert_no_link(stage):
        rows = list(_every_row())
        for member in members:
            secret = [receipts[member.pk], votes.receipt_hash(receipts[member.pk])]
            for table, text in rows:
                if any(s in text for s in secret):
                    for pattern in _identity_patterns(member):
                        assert not re.search(pattern, text), f"{stage}: {table} ties {member} to a ballot"
        for session in Session.objects.all():
            data = json.dumps(session.get_decoded())
            assert "_messages" not in data
            assert not any(r in data for r in receipts.values()), f"{stage}: a session holds a receipt"
        for record in caplog.records:
            message = record.getMessage()
            assert not any(r in message or votes.receipt_hash(r) in message for r in receipts.values()), stage

    assert_no_link("during the vote")
    facilitator = clients[members[0].pk]
    assert facilitator.post(f"/committee/p/{p.pk}/close/").status_code == 302
    p.refresh_from_db()
    assert p.decided and p.tally["for"] == 3 and p.tally["against"] == 1 and p.tally["abstain"] == 1
    assert_no_link("after the close")
    # After the close, the receipt digests are only in the receipts table.
    for table, text in _every_row():
        if table != Receipt._meta.db_table:
            assert not any(votes.receipt_hash(r) in text for r in receipts.values()), table


def test_the_admin_has_no_url_for_ballots_receipts_or_participations():
    for model in ("ballot", "receipt", "elector"):
        for view in ("changelist", "add"):
            with pytest.raises(NoReverseMatch):
                reverse(f"admin:governance_{model}_{view}")


@pytest.mark.django_db
def test_the_audit_trail_has_no_trigger_on_ballots_receipts_or_participations():
    for model in (Ballot, Receipt, Elector):
        triggers = _column("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                           [model._meta.db_table])
        assert triggers == [], model


@pytest.mark.django_db
def test_a_meeting_s_paper_count_of_a_secret_ballot_shows_as_a_total_only(admin_client):
    members = make_committee(5)
    p = open_proposal(Kind.SUSPEND_VENDOR, members[0], vendor=make_vendor("marche-couvert"))
    meeting = Meeting.objects.create(title="Assemblée", starts_at=p.opened_at)
    meeting.agenda.add(p)
    meetings.record_attendance(meeting, users=[m.pk for m in members[1:4]], by=members[0])
    tally = meetings.record_decision(meeting, p, by=members[0], how="paper", votes_for=2, votes_against=1)
    listing = admin_client.get("/admin/governance/meetingtally/").content.decode()
    detail = admin_client.get(f"/admin/governance/meetingtally/{tally.pk}/change/").content.decode()
    for page in (listing, detail):
        assert "column-votes_for" not in page and "field-votes_for" not in page and "field-votes_against" not in page
    assert 'class="field-votes">3<' in listing
    # Nor can the list's filters sort the secret counts by choice.
    assert admin_client.get("/admin/governance/meetingtally/?votes_for__gte=2").status_code == 400


@pytest.mark.django_db
def test_a_secret_ballot_shows_no_live_tally_whatever_the_policy_says():
    members = make_committee(4)
    p = open_proposal(Kind.SUSPEND_VENDOR, members[0], vendor=make_vendor("boulangerie"))
    assert p.secret
    votes.cast(p, members[1], "against")
    client = client_for(members[2])
    page = client.get(f"/committee/p/{p.pk}/results/").content.decode()
    assert 'data-testid="tally"' not in page and "The results are shown after the close" in page
    assert client.get(f"/committee/p/{p.pk}/results.csv").status_code == 404
    # A tally that moves with each vote, read beside who has voted, tells each vote: the
    # database refuses the combination for a running vote and for a policy alike.
    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.filter(pk=p.pk).update(results_before_close=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        set_policy(Kind.SUSPEND_VENDOR, results_before_close=True)
    page = client.get(f"/committee/p/{p.pk}/results/").content.decode()
    assert 'data-testid="tally"' not in page


@pytest.mark.django_db
def test_the_admin_refuses_a_secret_policy_with_results_before_the_close(admin_client):
    proposals.policy_for(Kind.SUSPEND_VENDOR)
    policy = Policy.objects.get(kind=Kind.SUSPEND_VENDOR)
    form = {name: getattr(policy, name) for name in (
        "method", "qualified_numerator", "qualified_denominator", "quorum_percent", "voting_days", "extension_days")}
    form.update(kind=policy.kind, secret="on", results_before_close="on")
    response = admin_client.post(f"/admin/governance/policy/{policy.pk}/change/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "A secret ballot&#x27;s results can only be shown after the close." in response.content.decode()
    policy.refresh_from_db()
    assert policy.secret and not policy.results_before_close


@pytest.mark.django_db
def test_a_live_tally_of_an_open_ballot_shows_when_the_policy_allows():
    members = make_committee(4)
    set_policy(Kind.MOTION, secret=False, results_before_close=True)
    p = open_proposal(Kind.MOTION, members[0])
    votes.cast(p, members[1], "against")
    page = client_for(members[2]).get(f"/committee/p/{p.pk}/results/").content.decode()
    assert 'data-testid="tally"' in page


@pytest.mark.django_db(transaction=True)
def test_a_withdrawn_secret_vote_keeps_no_ballot(monkeypatch):
    vacuumed = _spy_on_vacuum(monkeypatch)
    members = make_committee(3)
    p = open_proposal(Kind.REVOKE_VENDOR, members[0], vendor=make_vendor("epicerie-fermee"))
    assert p.secret
    votes.cast(p, members[1], "for")
    votes.cast(p, members[2], "against")
    proposals.withdraw(p, by=members[0], reason="La boutique a fermé.")
    assert not Ballot.objects.filter(proposal=p).exists() and not Receipt.objects.filter(proposal=p).exists()
    assert _column("SELECT count(DISTINCT xmin::text) FROM governance_elector WHERE proposal_id = %s", [p.pk]) == [1]
    assert vacuumed == [True]


@pytest.mark.django_db
def test_a_member_checks_their_secret_vote_with_the_receipt_code():
    members = make_committee(3)
    vendor = make_vendor("ferme-aux-figues", status=Vendor.Status.APPLIED)
    p = open_proposal(Kind.APPROVE_VENDOR, members[0], vendor=vendor)
    client = client_for(members[1])
    response = client.post(f"/committee/p/{p.pk}/vote/", {"choice": "against"})
    code = response.cookies[f"ballot_{p.pk}_1"].value
    page = client.post(f"/committee/p/{p.pk}/receipt/", {"receipt": code})
    assert "Your ballot stands at: against." in page.content.decode() and "no-store" in page["Cache-Control"]
    for member in members:
        if member != members[1]:
            votes.cast(p, member, "for")
    decisions.close(p, by=members[0], early=True)
    other_phone = client_for(members[1])
    page = other_phone.post(f"/committee/p/{p.pk}/receipt/", {"receipt": code.lower()}).content.decode()
    assert "Your ballot was counted as: against." in page
    page = other_phone.post(f"/committee/p/{p.pk}/receipt/", {"receipt": "ABCD-EFGH"})
    assert page.status_code == 200
    assert "No ballot of this vote has this receipt code." in page.content.decode()
    # The code kept by the phone is used when none is typed.
    page = client.post(f"/committee/p/{p.pk}/receipt/", {}).content.decode()
    assert "Your ballot was counted as: against." in page
    assert other_phone.get(f"/committee/p/{p.pk}/receipt/").status_code == 200
    set_policy(Kind.MOTION, secret=False)
    public = open_proposal(Kind.MOTION, members[0])
    assert other_phone.get(f"/committee/p/{public.pk}/receipt/").status_code == 404


@pytest.mark.django_db
def test_a_secret_consent_vote_shows_its_objections_only_with_its_results():
    set_policy(Kind.MOTION, method="consent", secret=True, results_before_close=False)
    members = make_committee(4)
    p = open_proposal(Kind.MOTION, members[0], title="Ouvrir le samedi ?")
    votes.cast(p, members[2], "object", reason="Le samedi, je garde mes petits-enfants.")
    author = client_for(members[0])
    assert "petits-enfants" not in author.get(f"/committee/p/{p.pk}/").content.decode()
    for member in (members[0], members[1], members[3]):
        votes.cast(p, member, "consent")
    decisions.close(p, by=members[0], early=True)
    assert "petits-enfants" in author.get(f"/committee/p/{p.pk}/").content.decode()  # to amend the text
