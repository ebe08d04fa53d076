"""A committee, and proposals opened through the services, as the governance tests need."""

from django.contrib.auth import get_user_model

from governance import proposals
from governance.charter import CRITERIA
from governance.models import CommitteeMembership, Kind, Policy

PASSWORD = "un-mot-de-passe-solide"


def make_committee(n: int, *, prefix: str = "m", facilitators: int = 1) -> list:
    users = []
    for i in range(n):
        user = get_user_model().objects.create_user(username=f"{prefix}{i}", email=f"{prefix}{i}@example.org",
                                                    password=PASSWORD)
        role = CommitteeMembership.Role.FACILITATOR if i < facilitators else CommitteeMembership.Role.MEMBER
        CommitteeMembership.objects.create(user=user, role=role)
        users.append(user)
    return users


def set_policy(kind, **values):
    proposals.policy_for(kind)  # a transactional test elsewhere may have flushed the defaults
    Policy.objects.filter(kind=kind).update(**values)


def all_checked():
    return {key: True for key in CRITERIA}


def open_proposal(kind, author, *, title="Une question", **fields):
    if kind == Kind.APPROVE_VENDOR:
        fields.setdefault("visit_report", "Visite le 3 mars : produits locaux, accueil chaleureux.")
        fields.setdefault("charter_checks", all_checked())
    proposal = proposals.create(kind=kind, title=title, author=author, **fields)
    return proposals.open_vote(proposal, by=author)
