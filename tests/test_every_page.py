"""Every page of every URL pattern, as each role, on a demo fund: none answers 5xx, each
gives the role the answer ACCESS expects (the standing security suite: two members, two
shops and two coordinators among the roles, the second ones walking the first ones'
objects), and bad input on every form field and query parameter gets a 4xx.

The one walker of the project. To extend it:
- a new URL pattern with parameters needs a line in PROBES (the test names any pattern
  without one): a function of the Walk that returns the kwargs to fill it with, taken
  from the role's own objects where the role has some;
- a new role: a line in ROLES (and in ACCESS's sets);
- a new space of pages: a line in ACCESS (who is allowed; everyone else is refused);
- more requests per URL (bad input, other methods): a function in EXTRA_REQUESTS, called
  with the client, the path and the role, returning (description, response) pairs.

Login is not the subject here (force_login; staff: tests.staff.log_in_staff); the admin
is walked as the demo's coordinator, who is no superuser:
each model's list, its add page and one object's page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

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

    @property
    def payment_request(self):
        from vendors import payment_requests
        from vendors.models import PaymentRequest

        return PaymentRequest.objects.filter(vendor=self.vendor, status="pending").order_by("pk").first() or (
            payment_requests.create_request(vendor=self.vendor, idempotency_key="walker", amount=150)[0])

    @property
    def stall_token(self):
        from vendors import payment_requests

        return payment_requests.stall_token(self.vendor)

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
    "desk/households/<str:reference>/place/<str:action>/": lambda w: {
        "reference": w.household.reference, "action": "take"},
    "desk/households/<str:reference>/contribution/": lambda w: {"reference": w.household.reference},
    "desk/households/<str:reference>/contribution/set/": lambda w: {"reference": w.household.reference},
    "desk/households/<str:reference>/persons/<int:person_id>/login/": lambda w: {
        "reference": w.household.reference, "person_id": w.person.pk},
    "desk/households/<str:reference>/pause/": lambda w: {"reference": w.household.reference},
    "desk/households/<str:reference>/resume/": lambda w: {"reference": w.household.reference},
    "desk/households/<str:reference>/exit/": lambda w: {"reference": w.household.reference},
    "desk/households/<str:reference>/not-a-duplicate/": lambda w: {"reference": w.household.reference},
    "vendor/terminal/refund/<int:purchase_id>/": lambda w: {"purchase_id": _pk(w.purchase)},
    "vendor/statements/<str:number>/": lambda w: {"number": getattr(w.settlement, "number", "2026-0001")},
    "vendor/statements/<str:number>/csv/": lambda w: {"number": getattr(w.settlement, "number", "2026-0001")},
    "committee/p/<int:pk>/": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
    "committee/p/<int:pk>/vote/": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
    "committee/p/<int:pk>/recuse/": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
    "committee/p/<int:pk>/results/": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
    "committee/p/<int:pk>/results.csv": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
    "committee/p/<int:pk>/receipt/": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
    "committee/p/<int:pk>/edit/": lambda w: {"pk": _pk(w.first("governance.Proposal"))},
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
    # Paying from one's own phone (issue 22).
    "api/v1/payment_requests/<str:request_id>": lambda w: {"request_id": str(w.payment_request.pk)},
    "api/v1/payment_requests/<str:request_id>/cancel": lambda w: {"request_id": str(w.payment_request.pk)},
    "vendor/terminal/requests/<int:request_id>/": lambda w: {"request_id": w.payment_request.pk},
    "vendor/terminal/requests/<int:request_id>/status": lambda w: {"request_id": w.payment_request.pk},
    "vendor/terminal/requests/<int:request_id>/cancel/": lambda w: {"request_id": w.payment_request.pk},
    "portal/pay/done/<int:purchase_id>/": lambda w: {"purchase_id": _pk(w.purchase)},
    "portal/pay/stall/<slug:slug>/<str:token>/": lambda w: {"slug": w.vendor.slug, "token": w.stall_token},
    "portal/pay/<str:code>/": lambda w: {"code": w.payment_request.code},
    "coordination/settlements/<int:pk>/confirm/": lambda w: {"pk": _pk(w.first("vendors.SettlementRun"))},
    "coordination/settlements/<int:pk>/<str:number>/return/": lambda w: {
        "pk": _pk(w.first("vendors.SettlementRun")), "number": getattr(w.settlement, "number", "2026-00001")},
    "coordination/bank/<int:pk>/": lambda w: {"pk": _pk(w.first("coordination.BankStatement"))},
    "coordination/bank/lines/<int:pk>/handled/": lambda w: {"pk": _pk(w.first("coordination.BankStatementLine"))},
    "coordination/bank/lines/<int:pk>/match/": lambda w: {"pk": _pk(w.first("coordination.BankStatementLine"))},
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
    # A second household and a second shop walk the first ones' objects (PROBES fill
    # every address with them): they must be refused each one.
    "member2": lambda w: _named(w, w.credentials["members"][1]["username"]),
    "volunteer": _volunteer,
    "committee": lambda w: _named(w, next(c["username"] for c in w.credentials["committee"]
                                          if c["username"] not in {m["username"] for m in w.credentials["members"]})),
    "shop": lambda w: _named(w, w.credentials["vendors"][0]["username"]),
    "shop2": lambda w: _named(w, w.credentials["vendors"][1]["username"]),
    "coordinator": lambda w: _named(w, w.credentials["coordinator"]["username"]),
    "coordinator2": lambda w: _named(w, w.credentials["second_coordinator"]["username"]),
}

# --- Who may open what: the standing security suite (issue 17) --------------------------
# Each URL as each role has an expected answer: *allowed* (anything but 401, 403, a
# redirect to sign in, or 5xx: a 404 for an object this role has none of, a 405 for a
# POST-only address) or *refused* (a redirect to sign in, 401, 403, 404 or 405: nothing
# of the page). An exact route decides; otherwise the first prefix (ending in "/") that
# matches. A new space of pages needs a line here; a new page in a known space needs none.
ANYONE = frozenset(ROLES)
MEMBERS = frozenset({"member", "member2"})
SHOPS = frozenset({"shop", "shop2"})
COORDINATORS = frozenset({"coordinator", "coordinator2"})
DESK = COORDINATORS | {"volunteer"}
COMMITTEE = frozenset({"member", "committee"})  # the demo's first member sits on the committee
ACCESS: list[tuple[str, frozenset | None]] = [
    # allauth's own pages: open to all, some asking to sign in first (None: not 5xx, 401 or 403).
    ("accounts/", None),
    ("", ANYONE), ("healthz", ANYONE), ("status", ANYONE), ("i18n/", ANYONE),
    ("apply/", ANYONE), ("draws/", ANYONE), ("vendor/apply/", ANYONE),
    ("api/v1/schema/", ANYONE), ("api/v1/docs/", ANYONE),
    ("api/v1/", frozenset()),  # a till's key, never a session
    # The first member's and the first shop's objects: the second ones are refused them.
    ("portal/cards/<int:card_id>/", frozenset({"member"})),
    ("portal/cards/<int:card_id>/print/", frozenset({"member"})),
    ("portal/cards/<int:card_id>/<str:action>/", frozenset({"member"})),
    ("portal/", MEMBERS),
    ("desk/import/", COORDINATORS), ("desk/receipts/", COORDINATORS),
    ("desk/households/<str:reference>/payment/", COORDINATORS),
    ("desk/households/<str:reference>/contribution/set/", COORDINATORS),
    ("desk/", DESK),
    ("vendor/statements/", frozenset({"shop"})),
    ("vendor/", SHOPS),
    ("committee/register/", MEMBERS | COMMITTEE | COORDINATORS),
    ("committee/vendor/", SHOPS),
    # Coordinators may draft a proposal (a rules change) and edit it; opening the vote is the committee's.
    ("committee/new/", COMMITTEE | COORDINATORS),
    ("committee/p/<int:pk>/edit/", COMMITTEE | COORDINATORS),
    ("committee/p/<int:pk>/", COMMITTEE | COORDINATORS),  # this exact page; voting stays the committee's
    ("committee/", COMMITTEE),
    # A bank line matched by a person (issue 16): the coordinators' alone.
    ("coordination/bank/lines/", COORDINATORS),
    ("coordination/", COORDINATORS),
]


def _allowed(route: str, role: str) -> bool | None:
    # An exact route first, then the first prefix that matches.
    for key, roles_allowed in sorted(ACCESS, key=lambda line: line[0] != route):
        if route == key or (key.endswith("/") and route.startswith(key)):
            return None if roles_allowed is None else role in roles_allowed
    raise AssertionError(f"add a line to ACCESS for {route}")


def _to_sign_in(response) -> bool:
    return response.status_code == 302 and "/accounts/login/" in response.get("Location", "")


def _answer(response) -> str:
    return f"{response.status_code} to {response['Location']}" if response.status_code in (301, 302) else str(response.status_code)


def _as_expected(route: str, role: str, response) -> bool:
    status = response.status_code
    allowed = _allowed(route, role)
    if allowed is None:
        return status < 500 and status not in (401, 403)
    if allowed:
        return status < 500 and status not in (401, 403) and not _to_sign_in(response)
    return _to_sign_in(response) or status in (401, 403, 404, 405)


# --- Bad input on every form field and query parameter (issue 17) ----------------------
# Each page that answers 200 gets, on each of its forms (at most MAX_FORMS) and each
# query parameter its links use (at most MAX_PARAMS), every value of BAD_VALUES in every
# field at once; its address gets a NUL byte; one form per walk gets a body over the
# limit. None may answer 5xx; a NUL byte is a 400. The second member, shop and
# coordinator see the same forms as the first: not probed again (the walk's time).
MAX_FORMS, MAX_PARAMS = 3, 4
BAD_VALUES = [("NUL", "a\x00b"), ("non-numeric", "abc"), ("overlong number", "9" * 40), ("negative", "-1")]
OVER_THE_LIMIT = b"field=" + b"a" * (2_621_440 + 1024)


class _Forms(HTMLParser):
    """The forms of a page (action, method, field names) and its links' query parameters."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.params: dict[str, None] = {}
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").lower(),
                          "fields": {}}
            self.forms.append(self._form)
        elif tag in ("input", "select", "textarea", "button") and self._form is not None and attrs.get("name"):
            if attrs.get("type") not in ("submit", "button", "file") and attrs["name"] != "csrfmiddlewaretoken":
                self._form["fields"][attrs["name"]] = None
        elif tag == "a" and "?" in (attrs.get("href") or ""):
            for name in parse_qs(urlsplit(attrs["href"]).query, keep_blank_values=True):
                self.params[name] = None

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _bad_input(client: Client, path: str, role: str) -> list:
    page = getattr(client, "_walked", None)
    if role.endswith("2") or page is None or page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
        return []
    sent = [("GET NUL in the path", client.get(path.rstrip("/") + "%00/"))]
    parser = _Forms()
    parser.feed(page.content.decode())
    for form in [f for f in parser.forms if f["fields"] and "logout" not in f["action"] and "i18n" not in f["action"]][:MAX_FORMS]:
        target = urlsplit(form["action"]).path or path
        for label, value in BAD_VALUES:
            data = dict.fromkeys(form["fields"], value)
            response = client.post(target, data) if form["method"] == "post" else client.get(target, data)
            sent.append((f"{form['method'].upper()} {label} in {', '.join(form['fields'])} to {target} from", response))
        if form["method"] == "post" and not getattr(client, "_sent_too_big", False):
            client._sent_too_big = True
            sent.append(("POST over the body limit", client.post(target, OVER_THE_LIMIT,
                                                                 content_type="application/x-www-form-urlencoded")))
    for name in list(parser.params)[:MAX_PARAMS]:
        for label, value in BAD_VALUES:
            sent.append((f"GET {label} in ?{name} on", client.get(path, {name: value})))
    return sent


# Further requests per URL: (client, path, role) → [(what, response)]. Other issues add theirs.
EXTRA_REQUESTS: list[Callable[[Client, str, str], list]] = [_bad_input]


def _household_life_bad_input(client: Client, path: str, role: str) -> list:
    """Issue 20: the public rank check and the desk's life steps, given nonsense (which
    changes nothing: a place taken or a household leaving are not walked)."""
    bad = {
        "/apply/check/": {"number": "F' OR 1=1", "code": "x" * 200},
        "/pause/": {"reason": "not-a-reason"},
        "/exit/": {"reason": "moved"},  # not confirmed
        "/contribution/": {"amount": "beaucoup"},
        "/contribution/set/": {"amount": "-3"},
        "/place/take/": {},
    }
    return [(f"POST {ending} (bad input)", client.post(path, data)) for ending, data in bad.items()
            if path.endswith(ending)]


def _phone_payment_bad_input(client: Client, path: str, role: str) -> list:
    """Paying from one's own phone: typed amounts, codes and PINs that are not."""
    if not (path.startswith("/portal/pay/") or path.startswith("/vendor/terminal/requests/")):
        return []
    bad = {"amount": "douze", "pin": "12ab", "code": "??", "code_of_the_day": "x", "idempotency_key": "", "partial": "2"}
    return [("POST bad input", client.post(path, bad)), ("GET bad input", client.get(path, {"amount": "-3", "code": "é"}))]


EXTRA_REQUESTS.append(_phone_payment_bad_input)


def _correction_posts(client, path, role):
    """Issue 15: the coordinators' corrections posted empty or wrong — an error, never a 5xx
    (and nothing a later page of the walk would miss: every post here is refused)."""
    if not path.startswith(("/coordination/refunds/", "/coordination/desk/")):
        return []
    return [("POST empty", client.post(path, {})),
            ("POST bad", client.post(path, {"amount_euros": "1e3", "reason": "x", "decision": "maybe",
                                            "explanation": " "}))]


EXTRA_REQUESTS.append(_correction_posts)
EXTRA_REQUESTS.append(_household_life_bad_input)


def _bank_posts(client: Client, path: str, role: str) -> list:
    """The bank's pages with bad input: a date that is not one, a file that is not a statement."""
    if path.endswith("/confirm/") or path.endswith("/return/"):
        return [("POST bad date", client.post(path, {"value_date": "31/02", "reason": "x"}))]
    if path.startswith("/coordination/bank/lines/") and path.endswith("/match/"):
        return [("POST no candidate", client.post(path, {})),
                ("POST unknown candidate", client.post(path, {"candidate": "grant:999999", "reason": "??"}))]
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

    from .conftest import restore_rows_the_migrations_wrote

    settings.CELERY_TASK_ALWAYS_EAGER = True
    restore_rows_the_migrations_wrote()
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
    failures, unexpected, visited = [], [], 0
    for route, name, kwargs in url_patterns():
        if route.startswith("accounts/logout"):
            continue  # it would end the walk's session
        values = PROBES[route](walk) if kwargs else {}
        path = "/api/v1/nothing-here" if route == "api/v1/^.*$" else reverse(name, kwargs=values)
        responses = [("GET", client.get(path))]
        client._walked = responses[0][1]
        if route not in ("api/v1/^.*$",) and not _as_expected(route, role, responses[0][1]):
            unexpected.append(f"GET {path} as {role}: {_answer(responses[0][1])}, expected "
                              f"{'allowed' if _allowed(route, role) else 'refused'}")
        for extra in EXTRA_REQUESTS:
            responses += extra(client, path, role)
        for what, response in responses:
            visited += 1
            if response.status_code >= 500:
                failures.append(f"{what} {path} as {role}: {response.status_code}")
            elif "NUL" in what and response.status_code != 400:
                failures.append(f"{what} {path} as {role}: {response.status_code}, expected 400")
            elif "over the body limit" in what and response.status_code != 413:
                failures.append(f"{what} {path} as {role}: {response.status_code}, expected 413")
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
    if not role.startswith("coordinator"):
        # The admin is the coordinators' alone: everyone else is sent to sign in or refused.
        for path in ("/admin/", reverse("admin:members_household_changelist"), reverse("admin:members_shopreport_changelist")):
            response = client.get(path)
            if response.status_code == 200:
                unexpected.append(f"GET {path} as {role}: 200, expected refused")
    assert visited > 100
    assert failures == []
    assert unexpected == []
