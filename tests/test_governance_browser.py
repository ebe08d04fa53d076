"""The committee in Debian's Chromium, on a 360 px wide phone, in French: a member opens
the vote, votes with a large button, and reads the result once it is closed."""

import pytest

from governance import decisions, votes
from governance.models import CommitteeMembership, Kind
from vendors.models import Vendor

from .governance_fixtures import make_committee, open_proposal
from .member_fixtures import PASSWORD, make_member
from .vendor_fixtures import make_vendor

pytestmark = pytest.mark.browser


def test_a_committee_member_votes_on_a_phone_and_sees_the_vote_counted(page, transactional_db):
    facilitator = make_committee(1, prefix="anim")[0]
    member = make_member("F-0777", email="samia@example.org")
    CommitteeMembership.objects.create(user=member.user)
    vendor = make_vendor("ferme-des-garrigues", status=Vendor.Status.APPLIED, name="Ferme des Garrigues")
    proposal = open_proposal(Kind.APPROVE_VENDOR, facilitator, vendor=vendor,
                             title="Conventionner la Ferme des Garrigues ?")
    base = page.live_server_url

    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail, téléphone ou numéro de carte").fill(member.card.display_number)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(base + "/portal/")

    page.get_by_role("navigation", name="Mon espace").get_by_role("link", name="Comité").click()
    page.get_by_role("link", name="Conventionner la Ferme des Garrigues ?").click()
    page.get_by_role("heading", name="Conventionner la Ferme des Garrigues ?").wait_for()
    button = page.get_by_role("button", name="Pour")
    box = button.bounding_box()
    assert box["height"] >= 56 and box["width"] >= 280  # a large button, the width of the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    button.click()
    page.get_by_text("Votre vote est compté.", exact=False).first.wait_for()
    assert page.get_by_test_id("voted").is_visible()
    assert "1 sur 2 ont participé." in page.content()

    votes.cast(proposal, facilitator, "for")
    decisions.close(proposal, by=facilitator, early=True)
    page.goto(base + f"/committee/p/{proposal.pk}/results/")
    assert page.get_by_test_id("outcome").inner_text().startswith("Adoptée et appliquée")
    assert page.get_by_test_id("for").inner_text() == "2"
    assert page.get_by_test_id("participants").inner_text() == "2"
    assert "Adoptée : 2 pour, 0 contre." in page.get_by_test_id("reason").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("link", name="Décisions").click()
    page.get_by_role("link", name=f"{proposal.reference} · Conventionner la Ferme des Garrigues ?").wait_for()


def test_a_member_casts_changes_and_checks_a_secret_vote_in_chromium(page, transactional_db):
    facilitator = make_committee(1, prefix="anim")[0]
    member = make_member("F-0778", email="yanis@example.org")
    CommitteeMembership.objects.create(user=member.user)
    vendor = make_vendor("ferme-des-cigales", status=Vendor.Status.APPLIED, name="Ferme des Cigales")
    proposal = open_proposal(Kind.APPROVE_VENDOR, facilitator, vendor=vendor,
                             title="Conventionner la Ferme des Cigales ?")
    assert proposal.secret
    base = page.live_server_url

    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail, téléphone ou numéro de carte").fill(member.card.display_number)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(base + "/portal/")

    page.goto(base + f"/committee/p/{proposal.pk}/")
    page.get_by_role("button", name="Pour").click()
    page.get_by_text("Votre vote est compté.", exact=False).wait_for()
    assert "Votre vote : pour." in page.get_by_test_id("voted").inner_text()
    code = page.get_by_test_id("receipt").inner_text().strip()
    assert len(code) == 19

    page.get_by_role("link", name="Retour au vote").click()
    page.get_by_role("button", name="Contre").click()
    page.get_by_text("Votre vote est changé.", exact=False).wait_for()
    assert "Votre vote : contre." in page.get_by_test_id("voted").inner_text()

    votes.cast(proposal, facilitator, "for")
    decisions.close(proposal, by=facilitator, early=True)
    page.goto(base + f"/committee/p/{proposal.pk}/results/")
    page.get_by_role("link", name="Vérifier mon vote secret avec mon code de reçu").click()
    page.get_by_label("Votre code de reçu").fill(code.lower())
    page.get_by_role("button", name="Vérifier").click()
    assert page.get_by_test_id("receipt-result").inner_text() == "Votre bulletin a été compté : contre."
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
