"""The member portal: each page, and a household never sees another's data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allocations import ledger
from allocations.models import TransferKind
from members.models import Card, ShopReport
from vendors.models import Vendor
from vendors.services import register_vendor

from .member_fixtures import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return register_vendor(
        slug="epicerie-mosson", display_name="Épicerie de la Mosson", kind=Vendor.Kind.GROCERY,
        status=Vendor.Status.APPROVED, district="Mosson", opening_hours="Lun–sam 8h–19h",
    )


@pytest.fixture
def alice(shop):
    member = make_member("F-0001", balance=10_000)
    ledger.transfer(debit=member.household.wallet_id, credit=shop.account_id, amount=1_250, kind=TransferKind.PURCHASE)
    member.household.refresh_from_db()
    return member


@pytest.fixture
def bob():
    return make_member("F-0002", balance=5_000)


def test_home_shows_the_balance_in_large_type_and_the_next_allocation(client, alice):
    client.force_login(alice.user)
    body = client.get("/portal/").content.decode()
    assert "87,50\u00a0MonA" in body
    assert "Prochaine allocation" in body


def test_history_lists_each_payment_with_the_shops_name_newest_first(client, alice):
    client.force_login(alice.user)
    page = client.get("/portal/history/")
    movements = page.context["page"].movements
    assert [(m.kind, m.amount, m.incoming, m.shop) for m in movements] == [
        ("purchase", 1_250, False, "Épicerie de la Mosson"),
        ("allocation", 10_000, True, ""),
    ]
    assert "Épicerie de la Mosson" in page.content.decode()


def test_the_history_page_costs_the_same_queries_whatever_its_length(client, alice, shop):
    client.force_login(alice.user)
    with CaptureQueriesContext(connection) as short:
        client.get("/portal/history/")
    for _n in range(60):
        ledger.transfer(debit=alice.household.wallet_id, credit=shop.account_id, amount=10, kind=TransferKind.PURCHASE)
    with CaptureQueriesContext(connection) as long:
        response = client.get("/portal/history/?page=2")
    assert len(response.context["page"].movements) == 20
    assert len(long.captured_queries) == len(short.captured_queries)


def test_where_to_spend_lists_approved_shops_and_filters_them(client, alice, shop):
    register_vendor(slug="ferme", display_name="Ferme des Garrigues", kind=Vendor.Kind.FARM, status=Vendor.Status.APPROVED, district="Cévennes")
    register_vendor(slug="pas-encore", display_name="Pas encore conventionné", kind=Vendor.Kind.FARM, district="Mosson")
    client.force_login(alice.user)
    body = client.get("/portal/shops/").content.decode()
    assert "Épicerie de la Mosson" in body and "Ferme des Garrigues" in body and "Pas encore" not in body
    assert "Lun–sam 8h–19h" in body
    filtered = client.get("/portal/shops/?kind=farm&district=Cévennes").content.decode()
    assert "Ferme des Garrigues" in filtered and "Épicerie de la Mosson" not in filtered


def test_my_card_shows_its_qr_code_and_the_pin_can_be_changed(client, alice):
    from members import cards

    client.force_login(alice.user)
    body = client.get(f"/portal/cards/{alice.card.pk}/").content.decode()
    assert "<svg" in body and alice.card.display_number in body
    response = client.post(f"/portal/cards/{alice.card.pk}/", {"new_pin": "1357", "confirm_pin": "1357"})
    assert response.status_code == 302
    assert cards.authorize(alice.card.number, "1357")


def test_a_mismatched_pin_is_explained_in_french_and_changes_nothing(client, alice):
    from members import cards

    client.force_login(alice.user)
    response = client.post(f"/portal/cards/{alice.card.pk}/", {"new_pin": "1357", "confirm_pin": "1358"})
    assert "Les deux codes ne sont pas identiques." in response.content.decode()
    assert cards.authorize(alice.card.number, alice.pin)


def test_lock_unlock_and_replace_from_the_portal(client, alice):
    client.force_login(alice.user)
    client.post(f"/portal/cards/{alice.card.pk}/lock/")
    alice.card.refresh_from_db()
    assert alice.card.locked_indefinitely
    client.post(f"/portal/cards/{alice.card.pk}/unlock/")
    alice.card.refresh_from_db()
    assert not alice.card.is_locked()
    response = client.post(f"/portal/cards/{alice.card.pk}/replace/")
    new_card = Card.objects.get(replaces=alice.card)
    assert response["Location"] == f"/portal/cards/{new_card.pk}/"
    alice.card.refresh_from_db()
    assert alice.card.status == Card.Status.REPLACED


def test_report_a_problem_named_or_anonymous_and_read_the_answer(client, alice, shop, django_user_model):
    from members.reports import answer_report

    client.force_login(alice.user)
    client.post("/portal/reports/", {"vendor": shop.pk, "category": "treatment", "description": "On m'a fait attendre à part."})
    client.post("/portal/reports/", {"vendor": shop.pk, "category": "not_made", "description": "Paiement inconnu", "anonymous": "on"})
    named, anonymous = ShopReport.objects.order_by("pk")
    assert named.household == alice.household
    assert anonymous.household is None and anonymous.anonymous
    answer_report(anonymous, answer="Nous avons appelé la boutique.", by=django_user_model.objects.create(username="c"))
    body = client.get("/portal/reports/").content.decode()
    assert "Nous avons appelé la boutique." in body and "On m&#x27;a fait attendre à part." in body


def test_a_member_never_sees_another_households_data(client, alice, bob):
    assert alice.card.number[-8:] not in bob.card.number
    client.force_login(bob.user)
    for url in ("/portal/", "/portal/history/", "/portal/cards/", "/portal/reports/", "/portal/my-contribution/", "/portal/my-data/"):
        body = client.get(url).content.decode()
        assert f"•••• {alice.card.last4}" not in body and alice.card.display_number not in body, url
        assert "87,50" not in body and "12,50" not in body, url  # Alice's balance and purchase
        assert alice.household.reference not in body, url
    for url in (
        f"/portal/cards/{alice.card.pk}/",
        f"/portal/cards/{alice.card.pk}/print/",
    ):
        assert client.get(url).status_code == 404, url
    for action in ("lock", "unlock", "replace"):
        assert client.post(f"/portal/cards/{alice.card.pk}/{action}/").status_code == 404
    alice.card.refresh_from_db()
    assert alice.card.status == Card.Status.ACTIVE and not alice.card.locked_indefinitely


def test_anonymous_reports_of_one_household_are_not_shown_to_another(client, alice, bob, shop):
    client.force_login(alice.user)
    client.post("/portal/reports/", {"category": "other", "description": "Secret d'Alice", "anonymous": "on"})
    client.force_login(bob.user)
    assert "Secret d" not in client.get("/portal/reports/").content.decode()


def test_the_portal_needs_a_login(client):
    response = client.get("/portal/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
