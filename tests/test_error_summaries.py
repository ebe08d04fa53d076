"""Issue 19: an error summary at the top of each form — the desk's, the coordination's and
allauth's — as on the application, proposal, report, PIN and contribution forms.

Each form is posted as a browser posts it empty (every field of the page's form, blank:
the page walker's form reader), or with what it cannot take, as the role that uses it, on
the page walker's demo fund; the page the person lands on starts with the summary."""

from __future__ import annotations

import pytest
from django.test import Client

from users import roles

from .staff import log_in_staff
from .test_every_page import ROLES, _Forms, walk  # noqa: F401 (walk: the walker's fixture)

pytestmark = pytest.mark.django_db

SUMMARY = 'data-testid="error-summary"'


def _client(walk_, role: str) -> Client:
    client = Client()
    user = ROLES[role](walk_)
    if user is not None:
        log_in_staff(client, user) if roles.requires_second_factor(user) else client.force_login(user)
    return client


def _blank(client: Client, page: str, action: str) -> dict:
    """The fields of the page's form that posts to `action`, blank, as a browser sends them."""
    reader = _Forms()
    reader.feed(client.get(page).content.decode())
    form = next(f for f in reader.forms if f["method"] == "post" and (f["action"] or page) == action)
    return dict.fromkeys(form["fields"], "")


def _forms(w) -> list[tuple[str, str, dict | None]]:
    """(role, address, what is posted: None for the page's own form, blank)."""
    reference = w.household.reference
    return [
        # allauth's forms
        ("anonymous", "/accounts/login/", None),
        ("anonymous", "/accounts/password/reset/", None),
        ("anonymous", "/accounts/password/reset/", {"email": "pas-une-adresse"}),
        ("member", "/accounts/password/change/", None),
        ("member", "/accounts/email/", {"action_add": "", "email": ""}),
        ("member", "/accounts/reauthenticate/", None),
        # the desk's
        ("volunteer", "/desk/close/", {}),
        ("volunteer", "/desk/apply/", None),
        ("volunteer", f"/desk/households/{reference}/cash/", {}),
        ("volunteer", f"/desk/households/{reference}/contact/", {"phone": "pas un numéro", "email": "x"}),
        ("volunteer", f"/desk/households/{reference}/contribution/", {"amount": "beaucoup"}),
        ("coordinator", f"/desk/households/{reference}/payment/", {}),
        ("coordinator", "/desk/import/", None),
        # the coordination's
        ("coordinator", "/coordination/grants/", None),
        ("coordinator", "/coordination/approvals/reversal/", {}),
        ("coordinator", "/coordination/direct-debits/returns/", {}),
        ("coordinator", f"/coordination/approvals/{w.first('allocations.Approval').pk}/", {"decision": ""}),
        ("coordinator", f"/coordination/settlements/{w.first('vendors.SettlementRun').pk}/pay/", {}),
        ("coordinator", "/coordination/direct-debits/", None),
    ]


def test_each_form_posted_empty_starts_with_the_error_summary(walk):  # noqa: F811 (the fixture)
    clients: dict[str, Client] = {}
    missing = []
    for role, path, data in _forms(walk):
        if role not in clients:
            clients[role] = _client(walk, role)
        client = clients[role]
        response = client.post(path, _blank(client, path, path) if data is None else data, follow=True)
        body = response.content.decode()
        main = body[body.find('id="main"'):]
        if response.status_code >= 500 or SUMMARY not in main:
            missing.append(f"POST {path} as {role}: {response.status_code}, "
                           f"{'a summary' if SUMMARY in main else 'no summary'} ({response.redirect_chain})")
    assert missing == [], "\n".join(missing)


def test_an_approval_posted_without_a_decision_is_neither_approved_nor_refused(walk):  # noqa: F811
    from allocations import approvals

    approval = approvals.request(approvals.A.REVERSAL, 999_999, by=ROLES["coordinator"](walk), reason="essai")
    response = _client(walk, "coordinator").post(f"/coordination/approvals/{approval.pk}/", {"decision": ""}, follow=True)
    approval.refresh_from_db()
    assert approval.status == "pending" and SUMMARY in response.content.decode()
