"""The vendors' pages: terminal payments and refunds, dashboard, keys, applying; privacy."""

import pytest
from django.core import mail

from allocations.models import Account
from members.models import Notice, Person
from vendors.models import ApiKey, Purchase, Vendor

from .member_fixtures import make_member
from .vendor_fixtures import make_staff, make_user, make_vendor

pytestmark = pytest.mark.django_db

# What the shop's screen says for every refusal: the queue behind the member learns nothing.
NEUTRAL = ("Le paiement n’est pas passé.", "Vous pouvez vérifier votre code ou votre solde sur votre espace.")


@pytest.fixture
def shop():
    return make_vendor("epicerie-du-coin", name="Épicerie du Coin")


@pytest.fixture
def staff_client(client, shop):
    client.force_login(make_staff(shop))
    return client


def pay(client, member, amount="12,50", key="k1", **more):
    return client.post("/vendor/terminal/pay/", {"card": member.card.number, "pin": member.pin, "amount": amount,
                                                 "idempotency_key": key, **more}).json()


def test_only_vendor_staff_reach_the_terminal(client):
    assert client.get("/vendor/terminal/").status_code == 302  # to the login page
    client.force_login(make_user("quelqu-un"))
    assert client.get("/vendor/terminal/").status_code == 403
    assert client.get("/vendor/").status_code == 403


def test_the_terminal_pays_through_the_same_service(staff_client, shop):
    member = make_member("F-0400", balance=5_000)
    answer = pay(staff_client, member)
    assert answer["ok"] and answer["headline"] == "Paiement accepté"
    assert answer["detail"].replace("\u00a0", " ").replace("\u202f", " ") == "12,50 € payés par la caisse"
    purchase = Purchase.objects.get()
    assert purchase.amount == 1_250 and purchase.till.startswith("web:")
    assert pay(staff_client, member) == answer  # the same sale sent twice: once
    assert Account.objects.get(pk=member.household.wallet_id).balance == 3_750


def test_a_refusal_is_neutral_and_a_short_balance_offers_the_partial_at_once(staff_client):
    member = make_member("F-0401", balance=3_200)
    answer = pay(staff_client, member, amount="36,30", key="s1")
    assert not answer["ok"] and answer["headline"] == NEUTRAL[0] and answer["reason"] == NEUTRAL[1]
    assert answer["offer_partial"]
    answer = pay(staff_client, member, amount="36,30", key="s1", partial="1")
    assert answer["detail"].replace("\u00a0", " ") == "32,00 € payés par la caisse, reste 4,30 € à payer"
    wrong = staff_client.post("/vendor/terminal/pay/", {"card": member.card.number, "pin": "0000", "amount": "1",
                                                        "idempotency_key": "s2"}).json()
    assert (wrong["headline"], wrong["reason"]) == NEUTRAL and not wrong["offer_partial"]
    assert "3200" not in str(wrong) and "32,00" not in str(wrong)


def test_every_refusal_has_the_same_words_and_the_member_hears_the_reason(staff_client, shop, mail_after_commit):
    member = make_member("F-0403", balance=1_000, email="f0403@example.org")
    Person.objects.filter(pk=member.person.pk).update(email_each_payment=True)
    with mail_after_commit():
        short = pay(staff_client, member, amount="20", key="n1")
    assert (short["headline"], short["reason"]) == NEUTRAL and short["offer_partial"]
    notice = Notice.objects.get(household=member.household, kind=Notice.Kind.PAYMENT_DECLINED)
    assert "solde était trop bas" in notice.text and shop.display_name in notice.text
    assert [message.to for message in mail.outbox] == [["f0403@example.org"]]

    wrong = pay(staff_client, member, amount="2", key="n2", pin="1111")
    assert (wrong["headline"], wrong["reason"]) == NEUTRAL and not wrong["offer_partial"]
    notice = Notice.objects.get(household=member.household, kind=Notice.Kind.PAYMENT_DECLINED)
    assert "code tapé était faux" in notice.text and notice.read_at is None  # the month's latest refusal

    unknown = staff_client.post("/vendor/terminal/pay/", {"card": "4" * 16, "pin": "1234", "amount": "2",
                                                          "idempotency_key": "n3"}).json()
    assert (unknown["headline"], unknown["reason"]) == NEUTRAL and not unknown["offer_partial"]


def test_refund_one_of_today_s_payments(staff_client, shop):
    member = make_member("F-0402", balance=5_000)
    purchase_id = pay(staff_client, member, amount="20")["id"]
    page = staff_client.get("/vendor/terminal/").content.decode()
    assert f"/vendor/terminal/refund/{purchase_id}/" in page
    for _ in range(2):  # a double submit refunds once
        staff_client.post(f"/vendor/terminal/refund/{purchase_id}/", {"amount": "5,00", "reason": "abîmé",
                                                                      "idempotency_key": "rf1"})
    assert Purchase.objects.get().refunded == 500
    assert Account.objects.get(pk=member.household.wallet_id).balance == 3_500


def test_another_vendor_s_payment_cannot_be_refunded_from_the_terminal(staff_client):
    other = make_vendor("boulangerie")
    other_staff = make_staff(other, "boulanger")
    member = make_member("F-0403", balance=5_000)
    from django.test import Client

    client = Client()
    client.force_login(other_staff)
    theirs = pay(client, member, amount="10")["id"]
    response = staff_client.post(f"/vendor/terminal/refund/{theirs}/", {"amount": "1", "idempotency_key": "x"})
    assert response.status_code == 404 and Purchase.objects.get().refunded == 0


def test_the_dashboard_shows_today_per_till_and_manages_keys_without_any_member_data(staff_client, shop):
    member = make_member("F-0404", balance=5_000)
    pay(staff_client, member, amount="7,00")
    response = staff_client.post("/vendor/", {"action": "create_key", "label": "Caisse 1"})
    page = response.content.decode()
    key = ApiKey.objects.get()
    new_key = page.split('data-testid="new-key"><code>')[1].split("</code>")[0]
    assert key.key_hash == __import__("vendors.services", fromlist=["x"]).hash_key(new_key)
    assert new_key not in staff_client.get("/vendor/").content.decode()  # shown once
    page = staff_client.get("/vendor/").content.decode()
    assert "Caisse 1" in page and "7,00" in page
    for private in (member.household.reference, member.person.last_name, member.card.number, "43,00"):
        assert private not in page
    staff_client.post("/vendor/", {"action": "revoke_key", "key": key.pk})
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_the_vendor_pauses_from_its_dashboard(staff_client, shop):
    staff_client.post("/vendor/", {"action": "pause"})
    shop.refresh_from_db()
    assert shop.status == Vendor.Status.PAUSED


def test_a_shop_applies_through_the_public_form(client):
    response = client.post("/vendor/apply/", {
        "display_name": "Fromagerie des Halles", "legal_name": "SARL Fromages", "kind": "other",
        "address": "1 rue des Halles", "district": "Centre", "siret": "732 829 320 00074",
        "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPP", "contact_name": "Lou",
        "contact_email": "lou@example.org", "charter": "on",
    })
    assert response.status_code == 200, response.content
    vendor = Vendor.objects.get()
    assert vendor.status == Vendor.Status.APPLIED and vendor.siret == "73282932000074"
    assert vendor.charter_version and vendor.charter_signed_on and vendor.status_changes.count() == 1
    bad = client.post("/vendor/apply/", {"display_name": "X", "kind": "other", "siret": "12345678901234",
                                         "iban": "FR00", "charter": "on"})
    assert bad.status_code == 200 and Vendor.objects.count() == 1
