"""Every page of every URL pattern, as each role, on a demo fund: none answers 5xx.

The one walker of the project. To extend it:
- a new URL pattern with parameters needs a line in PROBES (the test names any pattern
  without one): a function of the Walk that returns the kwargs to fill it with, taken
  from the role's own objects where the role has some;
- a new role: a line in ROLES;
- more requests per URL (bad input, other methods): a function in EXTRA_REQUESTS, called
  with the client, the path and the role, returning (description, response) pairs.

Login is not the subject here (force_login; staff: tests.staff.log_in_staff); the admin
is walked as the demo's coordinator, who is no superuser:
each model's list, its add page and one object's page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from users import roles

from .staff import log_in_staff

pytestmark = pytest.mark.django_db


def url_patterns(patterns=None, prefix="", namespace=""):
    """(route, reversible name or None, kwarg names) of every pattern, admin's aside."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_patterns(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else None
            yield prefix + str(entry.pattern), name, sorted(entry.pattern.regex.groupindex)


@dataclass
class Walk:
    """The demo fund's objects, and whose they are."""

    credentials: dict
    users: dict = field(default_factory=dict)

    # --- the objects each role owns (or, for others, someone else's) ------------------
    @property
    def household(self):
        from members.models import Household

        return Household.objects.get(persons__user__username=self.credentials["members"][0]["username"])

    @property
    def card(self):
        return self.household.cards.order_by("pk").first()

    @property
    def person(self):
        return self.household.persons.order_by("pk").first()

    @property
    def vendor(self):
        from vendors.models import Vendor

        return Vendor.objects.get(slug=self.credentials["vendors"][0]["slug"])

    @property
    def purchase(self):
        from vendors.models import Purchase

        return Purchase.objects.filter(vendor=self.vendor).order_by("pk").first() or Purchase.objects.order_by("pk").first()

    @property
    def settlement(self):
        from vendors.models import Settlement

        return Settlement.objects.filter(vendor=self.vendor).order_by("pk").first() or Settlement.objects.order_by("pk").first()

    def first(self, model_path: str):
        from django.apps import apps

        return apps.get_model(model_path).objects.order_by("pk").first()


def _pk(obj, default=999_999) -> int:
    return obj.pk if obj is not None else default


# Route → kwargs. A missing route fails the test, naming it.
PROBES: dict[str, Callable[[Walk], dict]] = {
    "api/v1/purchases/<str:purchase_id>": lambda w: {"purchase_id": str(_pk(w.purchase))},
    "api/v1/purchases/<str:purchase_id>/refunds": lambda w: {"purchase_id": str(_pk(w.purchase))},
    "api/v1/^.*$": lambda w: {},
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": lambda w: {"key": "not-a-key"},
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": lambda w: {"uidb36": "1", "key": "x-y"},
    "portal/cards/<int:card_id>/": lambda w: {"card_id": w.card.pk},
    "portal/cards/<int:card_id>/print/": lambda w: {"card_id": w.card.pk},
    "portal/cards/<int:card_id>/<str:action>/": lambda w: {"card_id": w.card.pk, "action": "lock"},
    "draws/<str:cohort>/": lambda w: {"cohort": getattr(w.first("members.Draw"), "cohort", None) or "2026-1"},
    "desk/receipts/<int:payment_id>/": lambda w: {"payment_id": _pk(w.first("members.ContributionPayment"))},
    "desk/households/<str:reference>/": lambda w: {"reference": w.household.reference},
    "desk/households/<str:reference>/cash/": lambda w: {"reference": w.household.reference},
    "desk/households/<str:reference>/contact/": lambda w: {"reference": w.household.reference},
    "desk/households/<str:reference>/payment/": lambda w: {"reference": w.household.reference},
    "desk/households/<str:reference>/cards/<int:card_id>/<str:action>/": lambda w: {
        "reference": w.household.reference, "card_id": w.card.pk, "action": "unlock"},
    "desk/households/<str:reference>/persons/<int:person_id>/card/": lambda w: {
        "reference": w.household.reference, "person_id": w.person.pk},
    "vendor/terminal/refund/<int:purchase_id>/": lambda w: {"purchase_id": _pk(w.purchase)},
    "vendor/statements/<str:number>/": lambda w: {"number": getattr(w.settlement, "number", "2026-0001")},
    "vendor/statements/<str:number>/csv/": lambda w: {"number": getattr(w.settlement, "number", "2026-0001")},
    "committee/p/<int:pk>/": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
    "committee/p/<int:pk>/vote/": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
    "committee/p/<int:pk>/recuse/": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
    "committee/p/<int:pk>/results/": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
    "committee/p/<int:pk>/results.csv": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
    "committee/p/<int:pk>/receipt/": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
    "committee/p/<int:pk>/<str:action>/": lambda w: {"pk": _pk(w.first("governance.Proposal")), "action": "open"},
    "committee/decisions/<str:reference>/": lambda w: {"reference": w.first("governance.Proposal").reference},
    "committee/meetings/<int:pk>/": lambda w: {"pk": _pk(w.first("governance.Meeting"))},
    "coordination/direct-debits/<int:pk>/": lambda w: {"pk": _pk(w.first("members.DirectDebitCollection"))},
    "coordination/direct-debits/<int:pk>/pain008.xml": lambda w: {"pk": _pk(w.first("members.DirectDebitCollection"))},
    "coordination/direct-debits/<int:pk>/confirm/": lambda w: {"pk": _pk(w.first("members.DirectDebitCollection"))},
    "coordination/export/<slug:name>.csv": lambda w: {"name": "trends"},
    "coordination/approvals/<int:pk>/": lambda w: {"pk": _pk(w.first("allocations.Approval"))},
    "coordination/grants/<int:pk>/": lambda w: {"pk": _pk(w.first("allocations.Grant"))},
    "coordination/grants/<int:pk>/report.csv": lambda w: {"pk": _pk(w.first("allocations.Grant"))},
    "coordination/grants/<int:pk>/print/": lambda w: {"pk": _pk(w.first("allocations.Grant"))},
    "coordination/books/<int:year>/fec.txt": lambda w: {"year": 2026},
    "coordination/books/<int:year>/entries.csv": lambda w: {"year": 2026},
    "coordination/books/<int:year>/close/": lambda w: {"year": 2026},
    "coordination/settlements/<int:pk>/": lambda w: {"pk": _pk(w.first("vendors.SettlementRun"))},
    "coordination/settlements/<int:pk>/pay/": lambda w: {"pk": _pk(w.first("vendors.SettlementRun"))},
    "coordination/settlements/<int:pk>/sepa/": lambda w: {"pk": _pk(w.first("vendors.SettlementRun"))},
    "coordination/alarms/<int:pk>/acknowledge/": lambda w: {"pk": _pk(w.first("operations.Alarm"))},
    "coordination/refunds/<int:pk>/": lambda w: {"pk": _pk(w.purchase)},
    "coordination/desk/held-cash/<int:pk>/": lambda w: {"pk": _pk(w.first("members.HeldCash"))},
    "coordination/desk/differences/<int:pk>/": lambda w: {"pk": _pk(w.first("members.DeskSession"))},
    "coordination/settlements/<int:pk>/confirm/": lambda w: {"pk": _pk(w.first("vendors.SettlementRun"))},
    "coordination/settlements/<int:pk>/<str:number>/return/": lambda w: {
        "pk": _pk(w.first("vendors.SettlementRun")), "number": getattr(w.settlement, "number", "2026-00001")},
    "coordination/bank/<int:pk>/": lambda w: {"pk": _pk(w.first("coordination.BankStatement"))},
    "coordination/bank/lines/<int:pk>/handled/": lambda w: {"pk": _pk(w.first("coordination.BankStatementLine"))},
    "coordination/direct-debits/<int:pk>/again/": lambda w: {"pk": _pk(w.first("members.DirectDebitCollection"))},
}


def _volunteer(walk: Walk):
    user = get_user_model().objects.create_user(username="walker-volunteer", password="x")
    user.groups.add(Group.objects.get_or_create(name=roles.VOLUNTEER)[0])
    return user


def _named(walk: Walk, username: str):
    return get_user_model().objects.get(username=username)


ROLES: dict[str, Callable[[Walk], object | None]] = {
    "anonymous": lambda w: None,
    "member": lambda w: _named(w, w.credentials["members"][0]["username"]),
    "volunteer": _volunteer,
    "committee": lambda w: _named(w, next(c["username"] for c in w.credentials["committee"]
                                          if c["username"] not in {m["username"] for m in w.credentials["members"]})),
    "shop": lambda w: _named(w, w.credentials["vendors"][0]["username"]),
    "coordinator": lambda w: _named(w, w.credentials["coordinator"]["username"]),
}

# Further requests per URL: (client, path, role) → [(what, response)]. Other issues add theirs.
EXTRA_REQUESTS: list[Callable[[Client, str, str], list]] = []


def _correction_posts(client, path, role):
    """Issue 15: the coordinators' corrections posted empty or wrong — an error, never a 5xx
    (and nothing a later page of the walk would miss: every post here is refused)."""
    if not path.startswith(("/coordination/refunds/", "/coordination/desk/")):
        return []
    return [("POST empty", client.post(path, {})),
            ("POST bad", client.post(path, {"amount_euros": "1e3", "reason": "x", "decision": "maybe",
                                            "explanation": " "}))]


EXTRA_REQUESTS.append(_correction_posts)


def _bank_posts(client: Client, path: str, role: str) -> list:
    """The bank's pages with bad input: a date that is not one, a file that is not a statement."""
    if path.endswith("/confirm/") or path.endswith("/return/"):
        return [("POST bad date", client.post(path, {"value_date": "31/02", "reason": "x"}))]
    if path == "/coordination/bank/":
        return [("POST no file", client.post(path, {})),
                ("POST not xml", client.post(path, {"statement": SimpleUploadedFile("x.xml", b"\xff\xfe<")}))]
    if path == "/coordination/fund/":
        return [("POST bad settings", client.post(path, {"settings-collection_day": "x"})),
                ("POST bad bank", client.post(path, {"bank-iban": "FR00", "bank-bic": "?", "bank-reason": ""}))]
    return []


EXTRA_REQUESTS.append(_bank_posts)


@pytest.fixture
def walk(db, settings):
    from demo import seed as demo

    settings.CELERY_TASK_ALWAYS_EAGER = True
    report = demo.seed_demo(households=12, vendors=12, committee=6)
    return Walk(credentials=report.credentials)


def test_every_url_pattern_has_a_probe():
    missing = [route for route, _name, kwargs in url_patterns() if kwargs and route not in PROBES]
    assert missing == [], "add a probe to PROBES for: " + ", ".join(missing)


@pytest.mark.parametrize("role", list(ROLES))
def test_no_page_answers_5xx(walk, role):
    client = Client(raise_request_exception=False)
    client._role = role
    user = ROLES[role](walk)
    if user is None:
        pass
    elif roles.requires_second_factor(user):
        log_in_staff(client, user)  # a session that passed the second factor, as after the code
    else:
        client.force_login(user)
    failures, visited = [], 0
    for route, name, kwargs in url_patterns():
        if route.startswith("accounts/logout"):
            continue  # it would end the walk's session
        values = PROBES[route](walk) if kwargs else {}
        path = "/api/v1/nothing-here" if route == "api/v1/^.*$" else reverse(name, kwargs=values)
        responses = [("GET", client.get(path))]
        for extra in EXTRA_REQUESTS:
            responses += extra(client, path, role)
        for what, response in responses:
            visited += 1
            if response.status_code >= 500:
                failures.append(f"{what} {path} as {role}: {response.status_code}")
    if role == "coordinator":
        for model, _model_admin in admin.site._registry.items():
            prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
            paths = [reverse(f"{prefix}_changelist"), reverse(f"{prefix}_add")]
            first = model._default_manager.order_by("pk").first()
            if first is not None:
                paths.append(reverse(f"{prefix}_change", args=[first.pk]))
            for path in paths:
                visited += 1
                response = client.get(path)
                if response.status_code >= 500:
                    failures.append(f"GET {path} as {role}: {response.status_code}")
    assert visited > 100
    assert failures == []
