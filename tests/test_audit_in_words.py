"""Issue 19 point 4: the audit log in words — who (a name, never empty), what (a sentence
naming the object), field labels and before → after in euros and French words, never a
dict of ids or `audit.AuditedVendor #2` — and a fixed number of queries per page."""

import re

import pghistory
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.models import Household
from tests.test_households import active_household, user_with
from users import roles
from users.models import User
from vendors.models import Vendor

from .staff import log_in_staff
from .vendor_fixtures import make_vendor

pytestmark = pytest.mark.django_db

URL = reverse("coordination:audit")
RAW = re.compile(r"audit\.Audited|\{'|\{&#x27;|pgh_|\bsuspended\b|\bcontribution_grid\b|#\d")


def page(client, **params) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def coordinator(client):
    user = user_with(roles.COORDINATOR, name="claire")
    User.objects.filter(pk=user.pk).update(first_name="Claire", last_name="Martin")
    log_in_staff(client, user)
    return user


def test_a_change_reads_as_a_sentence_with_who_field_labels_and_before_after(client, coordinator):
    vendor = make_vendor("epicerie-x", name="Épicerie X")
    with pghistory.context(user=coordinator.pk):
        Vendor.objects.filter(pk=vendor.pk).update(status=Vendor.Status.SUSPENDED)
    body = page(client, model="vendor")
    assert "Claire Martin" in body
    assert "a modifié le commerce « Épicerie X »" in body
    assert "<strong>statut</strong> : " in body and "suspendu" in body.lower()
    assert not RAW.search(body), RAW.search(body)


def test_nobody_is_an_empty_who_a_deleted_login_and_the_system_are_named(client, coordinator):
    household = active_household()
    gone = User.objects.create_user(username="parti")
    with pghistory.context(user=gone.pk):
        Household.objects.filter(pk=household.pk).update(status=Household.Status.PAUSED)
    gone_pk = gone.pk
    gone.delete()
    body = page(client, model="household")
    assert f"un compte supprimé depuis (n° {gone_pk})" in body
    assert f"a modifié le foyer {household.reference}" in body
    assert "le système (une tâche ou une migration)" in body  # the household created by a service
    cells = re.findall(r"<tr>\s*<td[^>]*>[^<]*</td><td>(.*?)</td>", body, re.S)
    assert cells and all(cell.strip() for cell in cells)


def test_permissions_read_as_who_was_added_to_which_group(client, coordinator):
    member = User.objects.create_user(username="bob", first_name="Bob", last_name="Durand")
    group, _ = Group.objects.get_or_create(name=roles.VOLUNTEER)
    with pghistory.context(user=coordinator.pk):
        member.groups.add(group)
    body = page(client, model="group")
    assert f"a ajouté Bob Durand au groupe « {roles.VOLUNTEER} »" in body
    assert "<strong>compte</strong>" not in body  # the sentence says it; no ids repeated below


def test_the_audit_page_costs_the_same_queries_for_few_or_many_events(client, coordinator):
    def vendors_changed(count, start):
        for n in range(start, start + count):
            vendor = make_vendor(f"shop-{n}", name=f"Shop {n}")
            with pghistory.context(user=coordinator.pk):
                Vendor.objects.filter(pk=vendor.pk).update(status=Vendor.Status.SUSPENDED)

    vendors_changed(2, 0)
    with CaptureQueriesContext(connection) as few:
        page(client, model="vendor")
    vendors_changed(20, 2)
    with CaptureQueriesContext(connection) as many:
        body = page(client, model="vendor")
    assert "Shop 21" in body
    assert len(many) == len(few)


def test_the_audit_page_s_exact_queries(client, coordinator, django_assert_num_queries):
    vendor = make_vendor("epicerie-y", name="Épicerie Y")
    with pghistory.context(user=coordinator.pk):
        Vendor.objects.filter(pk=vendor.pk).update(status=Vendor.Status.SUSPENDED)
    page(client, model="vendor")  # the session's first read of the caches
    # The page's own four: the count, the events, the logins named, the shops' names. The
    # other twelve are every staff page's (session, user, second factor, roles for the
    # navigation, alarms).
    with django_assert_num_queries(16):
        page(client, model="vendor")


def test_the_filter_names_every_tracked_kind_in_french(client, coordinator):
    body = page(client)
    options = re.findall(r'<option value="([a-z_]+)"[^>]*>([^<]+)</option>', body)
    assert {key for key, _ in options} >= {"refund", "held_cash", "desk_difference"}
    assert all(key != label for key, label in options)


def test_a_coordinator_s_refund_reads_in_euros_with_the_coordinator_s_name(client, coordinator):
    from vendors import payments

    from .member_fixtures import make_member
    from .settlement_fixtures import pay, shop

    member = make_member("F-1", balance=5_000)
    purchase = pay(member, shop(), 1_000)
    with pghistory.context(user=coordinator.pk):
        payments.coordinator_refund(purchase_id=purchase["id"], amount=1_000, reason="saisie en double " * 20,
                                    by=coordinator)
    body = page(client, model="refund")
    assert f"a remboursé l'achat n° {purchase['id']}" in body.replace("&#x27;", "'")
    assert "10,00\u00a0€" in body and "1000" not in body  # euros, not cents
    assert "Claire Martin" in body
    assert "saisie en double saisie" in body and "saisie en double " * 20 not in body  # a long reason cut
