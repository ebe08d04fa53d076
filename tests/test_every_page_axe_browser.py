"""Issue 19: axe-core on every page, in Chromium — every GET page of the page walker that
answers 200 with HTML, for each role (the walker's ROLES, PROBES and demo fund, reused),
and the Django admin's index, one list and one object's page per app.

360 px for the public, member, terminal, committee and desk pages; 1280 px for the
coordination pages and the admin. The session is put in the browser's context (the
journeys test the real sign-in): a Django test Client signs the role in and its session
cookie is handed to Chromium.

Bounded: one page per route pattern, walked by the first role that opens it (the second
member, shop and coordinator only walk the first ones' objects: they are not walked here).
All violations are gathered and reported together, page by page."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from users import roles

from .browser_checks import axe_clean
from .staff import log_in_staff
from .test_every_page import PROBES, ROLES, url_patterns, walk  # noqa: F401 (walk: the walker's fixture)

pytestmark = pytest.mark.browser

# The roles whose pages differ; member2, shop2 and coordinator2 see the same pages.
WALKED_ROLES = ["anonymous", "member", "committee", "volunteer", "shop", "coordinator"]
WIDE = ("/coordination/", "/admin/")


def _signed_in_client(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is None:
        return client
    if roles.requires_second_factor(user):
        log_in_staff(client, user)
    else:
        client.force_login(user)
    return client


def _html_page(client: Client, path: str) -> bool:
    response = client.get(path)
    return response.status_code == 200 and "text/html" in response.get("Content-Type", "")


def _admin_paths(client: Client) -> list[str]:
    """The admin's index, then per app the first list and the first object's page the
    coordinator may open (the admin's own apps and the libraries' alike)."""
    lists: dict[str, str] = {}
    changes: dict[str, str] = {}
    for model in admin.site._registry:
        app, prefix = model._meta.app_label, f"admin:{model._meta.app_label}_{model._meta.model_name}"
        if app not in lists and _html_page(client, reverse(f"{prefix}_changelist")):
            lists[app] = reverse(f"{prefix}_changelist")
        first = model._default_manager.order_by("pk").first()
        if app not in changes and first is not None and _html_page(client, reverse(f"{prefix}_change", args=[first.pk])):
            changes[app] = reverse(f"{prefix}_change", args=[first.pk])
    return ["/admin/", *lists.values(), *changes.values()]


def _role_paths(walk_, role, client) -> list[tuple[str, str]]:
    paths = []
    for route, name, kwargs in url_patterns():
        if route.startswith("accounts/logout") or route == "api/v1/^.*$":
            continue
        paths.append((route, reverse(name, kwargs=PROBES[route](walk_) if kwargs else {})))
    if role == "coordinator":
        paths += [(path, path) for path in _admin_paths(client)]
    return paths


def _more_objects(walk_) -> None:
    """What the demo fund lacks for some pages to have an object to show: a grant, a
    month's direct-debit collection, a draw, a meeting."""
    from datetime import date

    from django.utils import timezone

    from allocations import grants
    from allocations.models import Grant
    from governance.models import Meeting
    from members import direct_debits
    from members.models import Draw

    grants.create_grant(funder_type=Grant.Funder.METROPOLE, funder_name="Montpellier Méditerranée Métropole",
                        reference="MMM-2026-01", amount=5_000_000, promised_on=date(2026, 1, 15),
                        earmark="allocations alimentaires 2026", period_start=date(2026, 1, 1))
    direct_debits.record_mandate(walk_.household, reference="RUM-1", signed_on=date(2026, 1, 1), debtor_name="Awa",
                                 iban="FR7630006000011234567890189")
    direct_debits.prepare_collection("2026-12")
    Draw.objects.create(cohort="2026-A", places=2, strata=[{"key": "low", "income_brackets": ["low"], "share": 50}])
    Meeting.objects.create(title="Assemblée", starts_at=timezone.now())
    _bank_line()


def _bank_line() -> int:
    """A bank statement with a line left for a person: the pick-a-match page has candidates."""
    from datetime import date

    from coordination.models import BankStatement, BankStatementLine

    statement, _created = BankStatement.objects.get_or_create(
        statement_id="STMT-WALK", account_iban="FR7630006000011234567890189",
        defaults={"version": "camt.053.001.02", "closing_balance": 0, "closing_date": date(2026, 1, 31)})
    line, _created = BankStatementLine.objects.get_or_create(
        statement=statement, index=1, defaults={"reference": "BQ-WALK", "amount": 1_200, "credit": False,
                                                "value_date": date(2026, 1, 30), "bank_code": "PMNT/ICDT/ESCT",
                                                "remittance": "VIREMENT"})
    return line.pk


def test_every_page_of_every_role_is_axe_clean(walk, browser, live_server):  # noqa: F811 (the fixture)
    _more_objects(walk)
    walked, failures, seen = [], [], set()
    for role in WALKED_ROLES:
        client = _signed_in_client(ROLES[role](walk))
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
        if role != "anonymous":
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            for route, path in _role_paths(walk, role, client):
                if route in seen or not _html_page(client, path):
                    continue
                seen.add(route)
                wide = path.startswith(WIDE)
                page.set_viewport_size({"width": 1280 if wide else 360, "height": 800 if wide else 740})
                page.goto(live_server.url + path)
                page.wait_for_load_state("load")
                walked.append(f"{role} {path}")
                try:
                    axe_clean(page)
                except AssertionError as violation:
                    failures.append(f"as {role}: {violation}")
        finally:
            context.close()
    print(f"\n{len(walked)} pages walked in Chromium with axe-core:\n" + "\n".join(walked))
    assert len(walked) > 60
    assert any(p.startswith("coordinator /admin/") for p in walked)
    assert failures == [], f"{len(failures)} pages with axe-core violations:\n" + "\n\n".join(failures)


# Forms sent back with their error summary: (role, page, the form's action, or None for
# the page's own). Posted blank in Chromium (the browser's own checks set aside, as an
# old phone's browser would), the page that answers is axe-clean too.
ERROR_STATES = [
    ("anonymous", "/accounts/password/reset/", None),
    ("volunteer", "/desk/apply/", None),
    ("volunteer", "/desk/households/{reference}/contribution/", None),
    ("coordinator", "/coordination/grants/", None),
    ("coordinator", "/coordination/approvals/", "/coordination/approvals/reversal/"),
    ("coordinator", "/coordination/bank/lines/{bank_line}/match/", None),
]


def test_forms_sent_back_with_their_error_summary_are_axe_clean(walk, browser, live_server):  # noqa: F811
    reference, checked, failures, users = walk.household.reference, [], [], {}
    bank_line = _bank_line()
    for role, page_path, action in ERROR_STATES:
        page_path = page_path.format(reference=reference, bank_line=bank_line)
        action = (action or page_path).format(reference=reference, bank_line=bank_line)
        if role not in users:
            users[role] = ROLES[role](walk)
        client = _signed_in_client(users[role])
        wide = page_path.startswith(WIDE)
        context = browser.new_context(viewport={"width": 1280 if wide else 360, "height": 800}, locale="fr-FR")
        if role != "anonymous":
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            page.goto(live_server.url + page_path)
            form = page.locator(f'main form[method=post][action="{action}"]' if action != page_path
                                else "main form[method=post]").first
            form.evaluate("f => { f.noValidate = true; f.querySelectorAll('input:not([type=hidden]), textarea, select')"
                          ".forEach(e => { if (e.type === 'checkbox' || e.type === 'radio') e.checked = false; else e.value = ''; }); }")
            with page.expect_navigation():
                form.locator("button[type=submit], button:not([type])").first.click()
            page.get_by_test_id("error-summary").first.wait_for()
            checked.append(f"{role} {page.url}")
            axe_clean(page)
        except AssertionError as violation:
            failures.append(f"as {role}: {violation}")
        finally:
            context.close()
    assert len(checked) == len(ERROR_STATES), checked
    assert failures == [], "\n\n".join(failures)
