"""The committee's pages: permissions, voting through the portal, and secret ballots that
no page, export, admin screen or audit record can tie to a voter."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.utils import timezone

from governance import decisions, meetings, votes
from governance.models import Ballot, Kind, MeetingTally, Proposal, Receipt
from vendors.models import Vendor

from .governance_fixtures import make_committee, open_proposal
from .member_fixtures import make_member
from .staff import log_in_staff
from .vendor_fixtures import make_coordinator, make_staff, make_vendor

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    log_in_staff(client, user)
    return client


def test_only_current_committee_members_reach_the_committee_pages_and_see_the_link():
    members = make_committee(2)
    household = make_member("F-0100")
    from members.models import Person
    Person.objects.filter(pk=household.person.pk)  # a household member, not on the committee
    outsider = client_for(household.user)
    assert outsider.get("/committee/").status_code == 403
    assert "/committee/" not in outsider.get("/portal/").content.decode()
    p = open_proposal(Kind.MOTION, members[0])
    response = outsider.post(f"/committee/p/{p.pk}/vote/", {"choice": "for"})
    assert response.status_code == 403 and not Ballot.objects.exists()
    # The register is for every member of the fund.
    assert outsider.get("/committee/register/").status_code == 200
    insider = client_for(members[1])
    page = insider.get("/committee/").content.decode()
    assert p.title in page


def test_a_member_votes_one_question_per_screen_and_changes_the_vote():
    members = make_committee(3)
    p = open_proposal(Kind.MOTION, members[0], title="Ouvrir le comité le samedi ?")
    client = client_for(members[1])
    page = client.get(f"/committee/p/{p.pk}/").content.decode()
    assert 'value="for"' in page and 'value="against"' in page and 'value="abstain"' in page and "<svg" in page
    client.post(f"/committee/p/{p.pk}/vote/", {"choice": "for"})
    client.post(f"/committee/p/{p.pk}/vote/", {"choice": "against"})
    assert Ballot.objects.get(proposal=p, voter=members[1]).choice == "against"
    page = client.get(f"/committee/p/{p.pk}/").content.decode()
    assert "Your vote is counted" in page and "You voted: against" in page
    results = client.get(f"/committee/p/{p.pk}/results/").content.decode()
    assert "The results are shown after the close" in results and "1 of 3 have taken part" in results
    assert "abstentions included" in results  # the counting rules are stated


def test_a_secret_vote_keeps_its_receipt_in_a_cookie_of_its_own_and_changes_with_it():
    members = make_committee(2)
    p = open_proposal(Kind.SUSPEND_VENDOR, members[0], vendor=make_vendor("cave"))
    client = client_for(members[1])
    response = client.post(f"/committee/p/{p.pk}/vote/", {"choice": "for"})
    cookie = response.cookies[f"ballot_{p.pk}_1"]
    assert cookie["httponly"] and cookie["path"] == "/committee/"
    assert cookie.value not in str(dict(client.session))  # never in the server-side session
    # Shown in the response to the vote itself: no redirect, no message, no cache.
    assert response.status_code == 200 and cookie.value in response.content.decode()
    assert "no-store" in response["Cache-Control"] and "_messages" not in dict(client.session)
    client.post(f"/committee/p/{p.pk}/vote/", {"choice": "against"})
    assert list(Ballot.objects.filter(proposal=p).values_list("choice", flat=True)) == ["against"]
    other_phone = client_for(members[1])
    other_phone.post(f"/committee/p/{p.pk}/vote/", {"choice": "for"})
    assert Ballot.objects.get(proposal=p).choice == "against"  # no receipt: refused
    other_phone.post(f"/committee/p/{p.pk}/vote/", {"choice": "abstain", "receipt": cookie.value})
    assert Ballot.objects.get(proposal=p).choice == "abstain"


def test_a_proxy_vote_is_shown_to_the_member_as_such():
    members = make_committee(3)
    p = open_proposal(Kind.MOTION, members[2])
    facilitator = client_for(members[0])
    facilitator.post(f"/committee/p/{p.pk}/proxy/", {"member": members[1].pk, "choice": "for"})
    page = client_for(members[1]).get(f"/committee/p/{p.pk}/").content.decode()
    assert "Recorded on your behalf by m0" in page


def test_a_secret_ballot_s_voters_appear_in_no_page_export_admin_screen_or_audit_record(admin_client):
    names = [f"secret-voter-{i}" for i in range(4)]
    members = make_committee(4, prefix="secret-voter-")
    vendor = make_vendor("ferme-secrete", status=Vendor.Status.APPLIED)
    p = open_proposal(Kind.APPROVE_VENDOR, members[0], vendor=vendor)
    clients = [client_for(m) for m in members]
    for client, choice in zip(clients, ["for", "for", "against", "abstain"]):
        client.post(f"/committee/p/{p.pk}/vote/", {"choice": choice})
    p = decisions.close(p, by=members[0], early=True)
    assert p.state == Proposal.State.APPLIED

    def no_voter_in(text, where):
        for name in names[1:]:  # m0 is the author and facilitator: named as such in the history
            assert name not in text, f"{name} appears in {where}"

    for path in (f"/committee/p/{p.pk}/results/", f"/committee/p/{p.pk}/results.csv", "/committee/register/",
                 f"/committee/p/{p.pk}/"):
        body = clients[1].get(path).content.decode()
        no_voter_in(body, path)
    results = clients[1].get(f"/committee/p/{p.pk}/results/").content.decode()
    assert "Secret ballot" in results and 'data-testid="for">2<' in results

    receipt = Receipt.objects.filter(proposal=p).first()
    for path in ("/admin/governance/ballot/", f"/admin/governance/ballot/{receipt.pk}/change/",
                 "/admin/governance/receipt/", f"/admin/governance/receipt/{receipt.pk}/change/",
                 "/admin/governance/elector/", "/admin/governance/proposal/",
                 f"/admin/governance/proposal/{p.pk}/change/", "/admin/governance/transition/",
                 "/admin/governance/votehistory/",
                 "/admin/vendors/statuschange/", "/admin/admin/logentry/"):
        response = admin_client.get(path)
        assert response.status_code in (200, 404), path
        no_voter_in(response.content.decode(), path)
    # Ballots, receipts and participations have no admin screen at all.
    for path in ("/admin/governance/ballot/", "/admin/governance/receipt/", "/admin/governance/elector/"):
        assert admin_client.get(path).status_code == 404, path
    # Notifications: who was told (as on a polling station's list), never how.
    page = admin_client.get("/admin/governance/notification/").content.decode()
    assert "column-choice" not in page and "contre" not in page.lower() and "against" not in page.lower()


def test_the_register_and_a_public_ballot_name_each_vote_after_the_close(admin_client):
    members = make_committee(3)
    p = open_proposal(Kind.MOTION, members[0], title="Motion publique")
    for m, choice in zip(members, ["for", "for", "against"]):
        votes.cast(p, m, choice)
    decisions.close(p, by=members[0], early=True)
    household = client_for(make_member("F-0200").user)
    register = household.get("/committee/register/").content.decode()
    assert "Motion publique" in register and p.reference in register
    results = household.get(f"/committee/p/{p.pk}/results/").content.decode()
    assert "m2: against" in results and "Adopted: 2 for, 1 against." in results
    csv = household.get(f"/committee/p/{p.pk}/results.csv").content.decode()
    assert "m2;against" in csv


def test_the_vendor_answers_from_its_page():
    members = make_committee(2)
    vendor = make_vendor("epicerie-du-port")
    staff = make_staff(vendor, "gerante")
    p = open_proposal(Kind.REVOKE_VENDOR, members[0], vendor=vendor, text="Fraude suspectée")
    client = client_for(staff)
    assert "Fraude suspectée" in client.get("/committee/vendor/").content.decode()
    client.post("/committee/vendor/", {"proposal": p.pk, "answer": "Une erreur de caisse, corrigée."})
    assert "Une erreur de caisse, corrigée." in client_for(members[1]).get(f"/committee/p/{p.pk}/").content.decode()
    assert client_for(members[1]).get("/committee/vendor/").status_code == 404


def test_a_facilitator_records_a_meeting_s_paper_totals_through_the_page():
    members = make_committee(4)
    p = open_proposal(Kind.MOTION, members[0])
    votes.cast(p, members[1], "for")
    meeting = meetings.schedule(title="AG", starts_at=timezone.now(), by=members[0], agenda=[p])
    client = client_for(members[0])
    client.post(f"/committee/meetings/{meeting.pk}/", {"attendance": "1", "attendees": [m.pk for m in members[:3]]})
    client.post(f"/committee/meetings/{meeting.pk}/", {"minutes": "Compte rendu : motion débattue."})
    base = {"proposal": p.pk, "how": "hands", "votes_against": 0, "abstentions": 0, "consents": 0, "objections": 0}
    client.post(f"/committee/meetings/{meeting.pk}/", {**base, "votes_for": 3})  # only 2 had not voted online
    assert not MeetingTally.objects.exists()
    client.post(f"/committee/meetings/{meeting.pk}/", {**base, "votes_for": 2})
    assert MeetingTally.objects.get().votes_for == 2 and decisions.count(p).participants == 3
    page = client_for(members[3]).get(f"/committee/meetings/{meeting.pk}/").content.decode()
    assert "Compte rendu : motion débattue." in page and "m1" in page


def test_a_member_drafts_and_opens_a_proposal_from_the_portal():
    members = make_committee(2)
    client = client_for(members[1])
    assert "allocation_per_household" in client.get("/committee/new/").content.decode()
    response = client.post("/committee/new/", {"kind": "motion", "title": "Un marché le dimanche ?", "text": "…"})
    p = Proposal.objects.get(title="Un marché le dimanche ?")
    assert response.status_code == 302 and p.state == "draft"
    client.post(f"/committee/p/{p.pk}/open/")
    p.refresh_from_db()
    assert p.state == "open" and p.electors.count() == 2


def test_a_coordinator_edits_policies_in_the_admin():
    coordinator = make_coordinator()
    TOTP.activate(coordinator, generate_totp_secret())
    coordinator.is_superuser = True
    coordinator.save()
    from governance.proposals import policy_for

    policy = policy_for("approve_vendor")
    assert policy.secret and policy.method == "majority" and not policy.results_before_close
    page = client_for(coordinator).get(f"/admin/governance/policy/{policy.pk}/change/")
    assert page.status_code == 200 and 'name="quorum_percent"' in page.content.decode()


def test_the_vendor_s_page_and_the_rules_history_link_to_the_decision(admin_client):
    from allocations.models import FundRules
    from tests.test_governance import RULES

    members = make_committee(2)
    vendor = make_vendor("moulin", status=Vendor.Status.APPLIED)
    approval = open_proposal(Kind.APPROVE_VENDOR, members[0], vendor=vendor)
    rules = open_proposal(Kind.CHANGE_RULES, members[0], proposed_rules=RULES)
    for p, choice in ((approval, "for"), (rules, "consent")):
        for m in members:
            votes.cast(p, m, choice)
        decisions.close(p, by=members[0], early=True)
    link = f'href="/committee/decisions/{approval.reference}/"'
    assert link in admin_client.get(f"/admin/vendors/vendor/{vendor.pk}/change/").content.decode()
    assert link in admin_client.get("/admin/vendors/statuschange/").content.decode()
    assert f'href="/committee/decisions/{rules.reference}/"' in admin_client.get(
        "/admin/allocations/fundrules/").content.decode()
    assert FundRules.objects.filter(decision_reference=rules.reference).exists()
    response = client_for(members[1]).get(f"/committee/decisions/{approval.reference}/")
    assert response.status_code == 302 and response["Location"] == f"/committee/p/{approval.pk}/results/"
