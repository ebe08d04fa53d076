"""The audit trail: who, when, before/after for each tracked model (bulk updates too),
nothing for ledger transfers, erasure purges a household's events, coordinators only."""

import uuid

import pghistory
import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse

from allocations import ledger
from allocations.models import AccountKind, FundRules, TransferKind
from coordination.audit import services
from governance.models import CommitteeMembership
from members import privacy
from members.models import Household
from tests.test_households import active_household, user_with
from users import roles
from users.models import User
from vendors.models import Vendor

from .staff import log_in_staff

pytestmark = pytest.mark.django_db


def event_model(name):
    return apps.get_model("audit", name)


def last_event(name, obj_id):
    return services.events(model=name).filter(pgh_obj_id=str(obj_id)).first()


def test_a_bulk_update_of_a_households_status_is_recorded_with_who_and_before_after():
    household = active_household()
    coordinator = user_with(roles.COORDINATOR)
    with pghistory.context(user=coordinator.pk):
        Household.objects.filter(pk=household.pk).update(status=Household.Status.PAUSED)
    event = last_event("household", household.pk)
    assert event.pgh_label == "update"
    assert event.pgh_diff == {"status": ["active", "paused"]}
    assert event.pgh_context["user"] == coordinator.pk
    assert event.pgh_created_at is not None
    # A change of contact details is not an audit matter, and not recorded.
    count = event_model("HouseholdEvent").objects.count()
    Household.objects.filter(pk=household.pk).update(phone="0611111111")
    assert event_model("HouseholdEvent").objects.count() == count


def test_vendor_status_and_iban_fund_rules_committee_and_permissions_are_recorded():
    from tests.vendor_fixtures import make_vendor

    vendor = make_vendor()
    Vendor.objects.filter(pk=vendor.pk).update(iban="FR7630006000011234567890189")
    assert last_event("vendor", vendor.pk).pgh_diff["iban"][1] == "FR7630006000011234567890189"
    Vendor.objects.filter(pk=vendor.pk).update(status="suspended")
    assert last_event("vendor", vendor.pk).pgh_diff == {"status": [vendor.status, "suspended"]}

    rules = FundRules.objects.order_by("-effective_from").first() or FundRules.objects.create(effective_from="2030-01")
    FundRules.objects.filter(pk=rules.pk).update(minimum_contribution=rules.minimum_contribution + 100)
    assert last_event("fund_rules", rules.pk).pgh_diff["minimum_contribution"] == [
        rules.minimum_contribution, rules.minimum_contribution + 100
    ]

    user = User.objects.create_user(username=f"u-{uuid.uuid4().hex[:6]}")
    seat = CommitteeMembership.objects.create(user=user)
    assert last_event("committee", seat.pk).pgh_label == "insert"
    User.objects.filter(pk=user.pk).update(is_staff=True)
    assert last_event("user", user.pk).pgh_diff == {"is_staff": [False, True]}
    group, _ = Group.objects.get_or_create(name=roles.COORDINATOR)
    user.groups.add(group)
    user.groups.remove(group)
    labels = list(
        event_model("GroupMembershipEvent").objects.filter(user_id=user.pk).order_by("pgh_id").values_list("pgh_label", "group_id")
    )
    assert labels == [("group.add", group.pk), ("group.remove", group.pk)]


def test_ledger_transfers_are_not_recorded():
    before = services.events().count()
    wallet = ledger.open_account(AccountKind.WALLET)
    ledger.transfer(debit=ledger.system_account(AccountKind.ISSUANCE), credit=wallet, amount=100, kind=TransferKind.ALLOCATION)
    assert services.events().count() == before
    assert not any("transfer" in label.lower() for label in services.TRACKED.values())


def test_erasure_purges_the_households_events():
    household = active_household()
    Household.objects.filter(pk=household.pk).update(status=Household.Status.PAUSED)
    assert event_model("HouseholdEvent").objects.filter(pgh_obj_id=household.pk).exists()
    privacy.erase(household)
    assert not event_model("HouseholdEvent").objects.filter(pgh_obj_id=household.pk).exists()
    assert Household.objects.get(pk=household.pk).erased_at is not None


def test_only_coordinators_see_the_audit_page_and_the_user_is_recorded_through_the_middleware(client):
    household = active_household()
    url = reverse("coordination:audit")
    log_in_staff(client, user_with(roles.VOLUNTEER))
    assert client.get(url).status_code == 403
    coordinator = user_with(roles.COORDINATOR)
    log_in_staff(client, coordinator)
    with pghistory.context(user=coordinator.pk):
        Household.objects.filter(pk=household.pk).update(status=Household.Status.PAUSED)
    response = client.get(url, {"model": "household"})
    assert response.status_code == 200
    assert coordinator.username.encode() in response.content
    body = response.content.decode()
    assert "<strong>statut</strong> : actif → en pause" in body  # the field's label, the choices' words
    assert "{'" not in body  # no Python dict on the page
    assert client.get(url, {"model": "group", "since": "2000-01-01", "page": "2"}).status_code == 200


def test_a_change_made_through_a_page_records_its_user(admin_client, admin_user):
    """The middleware puts the logged-in user in the context of the request's changes."""
    vendor_user = User.objects.create_user(username=f"v-{uuid.uuid4().hex[:6]}")
    response = admin_client.post(
        reverse("admin:users_user_changelist"),
        {"action": "delete_selected", "_selected_action": [vendor_user.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    event = services.events(model="user").filter(pgh_obj_id=str(vendor_user.pk), pgh_label="delete").first()
    assert event is not None and event.pgh_context["user"] == admin_user.pk
