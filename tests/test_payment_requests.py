"""Paying from one's own phone (issue 22): payment requests and printed stall codes.

Services, the member's and the shop's pages, and the API's contract; the races with
time frozen (time-machine), never waited for."""

import datetime
import json
import re
import uuid

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from members.models import Card
from vendors import payment_requests, payments
from vendors.models import IdempotencyRecord, PaymentRequest, Purchase

from .conftest import set_fund_settings
from .member_fixtures import make_member
from .vendor_fixtures import make_key, make_staff, make_vendor

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2026, 6, 10, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def shop():
    return make_vendor("epicerie-du-coin", name="Épicerie du Coin")


@pytest.fixture
def member():
    return make_member("F-2200", balance=5_000, pin="2468")


def ask(shop, amount=1_250, reference="ticket 7", key=None):
    request, _replayed = payment_requests.create_request(vendor=shop, idempotency_key=key or uuid.uuid4().hex,
                                                         amount=amount, reference=reference, till="Caisse 1")
    return request


def confirm(member, request, **more):
    return payment_requests.confirm_request(code=request.code, household=member.household, user=member.user, **more)


def shown_code(html):
    return re.search(r'data-testid="done-stall-code">(\d{4})<', html).group(1)


def balance(member):
    member.household.wallet.refresh_from_db()
    return member.household.wallet.balance


# --- Services ---------------------------------------------------------------------------


def test_a_confirmed_request_is_an_ordinary_purchase_that_tells_the_shop_nothing_of_the_card(
        shop, member, ledger_is_clean):
    request = ask(shop)
    assert payment_requests.status_of(request) == "pending" and len(request.code) == 6

    purchase = confirm(member, request)

    assert (purchase.vendor, purchase.amount, purchase.requested, purchase.wallet_id) == (
        shop, 1_250, 1_250, member.household.wallet_id)
    assert purchase.card_id == member.card.pk and purchase.card_last4 == ""  # the shop sees no digit of the card
    assert purchase.reference == "ticket 7" and purchase.till == "Caisse 1"
    request.refresh_from_db()
    assert request.status == "paid" and request.purchase == purchase
    assert balance(member) == 5_000 - 1_250
    # Refunded by the shop like any purchase.
    payments.refund(vendor=shop, purchase_id=purchase.pk, idempotency_key="r-1", amount=250)
    assert balance(member) == 5_000 - 1_000
    ledger_is_clean()


def test_the_pin_is_asked_on_the_phone_only_above_the_funds_amount(shop, member, ledger_is_clean):
    set_fund_settings(phone_pin_above_cents=2_000)
    confirm(member, ask(shop, amount=2_000))  # at the amount: no PIN

    above = ask(shop, amount=2_001)
    with pytest.raises(payment_requests.PinRequired) as refused:
        confirm(member, above)
    assert refused.value.code == "pin_required"
    with pytest.raises(payments.Declined) as refused:
        confirm(member, above, pin="0000")
    assert refused.value.code == "invalid_pin"
    assert Card.objects.get(pk=member.card.pk).failed_pin_attempts == 1  # counted, as at the till
    confirm(member, above, pin="2468")
    assert Card.objects.get(pk=member.card.pk).failed_pin_attempts == 0
    assert balance(member) == 5_000 - 4_001
    ledger_is_clean()


def test_a_locked_card_or_a_household_without_card_cannot_confirm(shop, member):
    request = ask(shop)
    Card.objects.filter(pk=member.card.pk).update(locked_indefinitely=True)
    with pytest.raises(payments.Declined) as refused:
        confirm(member, request)
    assert refused.value.code == "card_blocked"
    Card.objects.filter(pk=member.card.pk).update(status=Card.Status.BLOCKED)
    with pytest.raises(payment_requests.NoCard):
        confirm(member, request)
    assert not Purchase.objects.exists() and PaymentRequest.objects.get().status == "pending"


def test_a_short_wallet_is_offered_the_partial_payment_as_at_the_terminal(shop, ledger_is_clean):
    poor = make_member("F-2201", balance=800)
    request = ask(shop, amount=1_250)
    with pytest.raises(payments.Declined) as refused:
        confirm(poor, request)
    assert refused.value.code == "insufficient_funds"
    assert balance(poor) == 800 and PaymentRequest.objects.get().status == "pending"

    purchase = confirm(poor, request, partial=True)
    assert (purchase.amount, purchase.requested) == (800, 1_250) and balance(poor) == 0
    ledger_is_clean()


@pytest.mark.parametrize("amount", [0, -5, 50_001])
def test_amounts_outside_the_limits_are_refused(shop, amount):
    with pytest.raises(payments.InvalidRequest) as refused:
        ask(shop, amount=amount)
    assert refused.value.param == "amount" and not PaymentRequest.objects.exists()


def test_a_paused_shop_cannot_ask(shop):
    shop.status = shop.Status.PAUSED
    shop.save()
    with pytest.raises(payments.VendorNotApproved):
        ask(shop)


# --- Expiry and cancellation, time frozen -------------------------------------------------


def test_a_request_lives_three_minutes_at_most(shop, member, ledger_is_clean):
    with time_machine.travel(NOON, tick=False) as traveller:
        request = ask(shop)
        assert request.expires_at == NOON + datetime.timedelta(minutes=3)
        late = ask(shop, amount=300)

        traveller.move_to(request.expires_at - datetime.timedelta(seconds=1))
        confirm(member, request)  # the last second still pays

        traveller.move_to(late.expires_at)
        assert payment_requests.status_of(late) == "expired"
        with pytest.raises(payment_requests.RequestExpired) as refused:
            confirm(member, late)
        assert refused.value.code == "payment_request_expired" and refused.value.status == 409
        with pytest.raises(payment_requests.RequestExpired):
            payment_requests.cancel_request(vendor=shop, request_id=late.pk)
    assert Purchase.objects.count() == 1 and balance(member) == 5_000 - 1_250
    ledger_is_clean()


def test_the_setting_cannot_make_a_request_live_longer_than_three_minutes(shop, settings):
    settings.CAISSE_PAYMENT_REQUEST_SECONDS = 600
    with time_machine.travel(NOON, tick=False):
        assert ask(shop).expires_at == NOON + datetime.timedelta(seconds=180)


def test_cancelled_then_confirmed_is_refused_and_paid_then_cancelled_too(shop, member, ledger_is_clean):
    with time_machine.travel(NOON, tick=False):
        first = ask(shop)
        payment_requests.cancel_request(vendor=shop, request_id=first.pk)
        payment_requests.cancel_request(vendor=shop, request_id=first.pk)  # again: nothing changes
        with pytest.raises(payment_requests.RequestCancelled) as refused:
            confirm(member, first)
        assert refused.value.code == "payment_request_cancelled"

        second = ask(shop, amount=400)
        confirm(member, second)
        with pytest.raises(payment_requests.RequestAlreadyPaid) as refused:
            payment_requests.cancel_request(vendor=shop, request_id=second.pk)
        assert refused.value.code == "payment_request_already_paid"
        with pytest.raises(payment_requests.RequestAlreadyPaid):
            confirm(member, second)  # single use
    assert Purchase.objects.count() == 1 and balance(member) == 5_000 - 400
    ledger_is_clean()


def test_another_shop_cannot_cancel_or_read_a_request(shop):
    request = ask(shop)
    other = make_vendor("boulangerie", name="Boulangerie")
    with pytest.raises(payment_requests.RequestNotFound):
        payment_requests.cancel_request(vendor=other, request_id=request.pk)
    with pytest.raises(payment_requests.RequestNotFound):
        payment_requests.vendor_request(other, request.pk)
    assert PaymentRequest.objects.get().status == "pending"


def test_an_unknown_code_is_not_found(member):
    with pytest.raises(payment_requests.RequestNotFound):
        payment_requests.confirm_request(code="ZZZZZZ", household=member.household, user=member.user)


# --- The printed stall code -----------------------------------------------------------------


def test_the_stall_path_pays_with_todays_code_and_refuses_yesterdays(shop, member, ledger_is_clean):
    with time_machine.travel(NOON, tick=False) as traveller:
        today = payment_requests.stall_code(shop)
        yesterday = payment_requests.stall_code(shop, NOON.date() - datetime.timedelta(days=1))
        assert today != yesterday and len(today) == 4
        with pytest.raises(payment_requests.StallCodeOutdated) as refused:
            payment_requests.pay_at_stall(vendor=shop, household=member.household, user=member.user, amount=700,
                                          code_of_the_day=yesterday, idempotency_key="form-1")
        assert refused.value.code == "stall_code_outdated"
        assert not Purchase.objects.exists()

        purchase = payment_requests.pay_at_stall(vendor=shop, household=member.household, user=member.user,
                                                 amount=700, code_of_the_day=today, idempotency_key="form-1")
        again = payment_requests.pay_at_stall(vendor=shop, household=member.household, user=member.user,
                                              amount=700, code_of_the_day=today, idempotency_key="form-1")
        assert again.pk == purchase.pk and Purchase.objects.count() == 1  # a double submit pays once
        assert purchase.till == "stall" and purchase.card_last4 == "" and len(purchase.reference) == 6

        # The stall holder's list shows today's code and the payment.
        staff = Client()
        staff.force_login(make_staff(shop))
        page = staff.get(reverse("vendors:stall")).content.decode()
        assert today in page and purchase.reference in page

        # The member's proof shows the code of the day of the payment: the next day, a
        # screenshot of it shows yesterday's code, not the one on the stall's list.
        phone = Client()
        phone.force_login(member.user)
        proof = phone.get(reverse("phone:done", args=[purchase.pk])).content.decode()
        assert shown_code(proof) == today and "pas été fait" not in proof
        traveller.move_to(NOON + datetime.timedelta(days=1))
        tomorrow = payment_requests.stall_code(shop)
        proof = phone.get(reverse("phone:done", args=[purchase.pk])).content.decode()
        assert shown_code(proof) == today != tomorrow and "pas été fait" in proof
        with pytest.raises(payment_requests.StallCodeOutdated):
            payment_requests.pay_at_stall(vendor=shop, household=member.household, user=member.user,
                                          amount=700, code_of_the_day=today, idempotency_key="form-2")
    assert balance(member) == 5_000 - 700
    ledger_is_clean()


def test_the_stall_holder_is_told_of_each_payment_once_and_not_who_paid(shop, member, mail_after_commit):
    from django.core import mail

    shop.contact_email = "etal@example.org"
    shop.save(update_fields=["contact_email"])
    with time_machine.travel(NOON, tick=False):
        code = payment_requests.stall_code(shop)
        with mail_after_commit():
            purchase = payment_requests.pay_at_stall(vendor=shop, household=member.household, user=member.user,
                                                     amount=700, code_of_the_day=code, idempotency_key="form-9")
            payment_requests.pay_at_stall(vendor=shop, household=member.household, user=member.user,
                                          amount=700, code_of_the_day=code, idempotency_key="form-9")
    assert len(mail.outbox) == 1  # the double submit paid once and told once
    notice = mail.outbox[0]
    assert notice.to == ["etal@example.org"]
    assert "7,00" in notice.subject and purchase.reference in notice.body and code in notice.body
    assert member.household.reference not in notice.body and member.user.username not in notice.body


def test_the_stall_page_in_the_portal_pays_with_the_code_it_shows(shop, member, ledger_is_clean):
    phone = Client()
    phone.force_login(member.user)
    url = reverse("phone:stall", args=[shop.slug, payment_requests.stall_token(shop)])
    assert phone.get(reverse("phone:stall", args=[shop.slug, "x" * 20])).status_code == 404

    too_much = phone.get(url, {"amount": "500,01"})
    assert too_much.status_code == 400 and "maximum" in too_much.content.decode()
    assert phone.get(url, {"amount": "sept"}).status_code == 400
    english = phone.get(url, {"amount": "0"}, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 400 and "The amount must be more than zero." in english.content.decode()
    confirm_page = phone.get(url, {"amount": "7,00"})
    text = confirm_page.content.decode()
    assert "Épicerie du Coin" in text and payment_requests.stall_code(shop) in text
    paid = phone.post(url, {"amount": "7,00", "code_of_the_day": payment_requests.stall_code(shop),
                            "idempotency_key": "k-1"})
    purchase = Purchase.objects.get()
    assert paid.status_code == 302 and paid["Location"] == reverse("phone:done", args=[purchase.pk])
    refused = phone.post(url, {"amount": "7,00", "code_of_the_day": "0000" if payment_requests.stall_code(
        shop) != "0000" else "0001", "idempotency_key": "k-2"})
    assert refused.status_code == 400 and "un autre jour" in refused.content.decode()
    assert Purchase.objects.count() == 1
    ledger_is_clean()


# --- The pages: the shop's request screen and the member's phone ---------------------------


def test_the_shop_asks_and_the_member_confirms_through_the_pages(shop, member, ledger_is_clean):
    staff = Client()
    staff.force_login(make_staff(shop))
    created = staff.post(reverse("vendors:payment_request_new"), {"amount": "12,50", "idempotency_key": "w-1"})
    request = PaymentRequest.objects.get()
    assert created["Location"] == reverse("vendors:payment_request", args=[request.pk])
    screen = staff.get(created["Location"]).content.decode()
    assert request.code in screen and "<svg" in screen
    assert staff.get(reverse("vendors:payment_request_status", args=[request.pk])).json()["status"] == "pending"

    phone = Client()
    phone.force_login(member.user)
    assert phone.get(reverse("phone:enter"), {"code": request.code.lower()})["Location"] == reverse(
        "phone:pay", args=[request.code])
    shown = phone.get(reverse("phone:pay", args=[request.code])).content.decode()
    assert "Épicerie du Coin" in shown and "12,50" in shown and 'name="pin"' not in shown
    paid = phone.post(reverse("phone:pay", args=[request.code]))
    purchase = Purchase.objects.get()
    assert paid["Location"] == reverse("phone:done", args=[purchase.pk])

    state = staff.get(reverse("vendors:payment_request_status", args=[request.pk])).json()
    assert state["status"] == "paid" and state["headline"] == "Payé" and "12,50" in state["detail"]
    assert member.card.number[-4:] not in json.dumps(state)
    # The shop's lists say "by phone", with nothing of the card.
    terminal = staff.get(reverse("vendors:terminal")).content.decode()
    assert "téléphone · <strong>12,50" in terminal.replace("\u202f", " ").replace("\xa0", " ")
    assert "•••• " + member.card.number[-4:] not in terminal
    # Again from the phone: refused, clearly.
    again = phone.post(reverse("phone:pay", args=[request.code]))
    assert again.status_code == 400 and "déjà payée" in again.content.decode()
    # Another shop's staff does not see it.
    other = Client()
    other.force_login(make_staff(make_vendor("boulangerie"), username="autre"))
    assert other.get(reverse("vendors:payment_request_status", args=[request.pk])).status_code == 404
    ledger_is_clean()


def test_a_member_cannot_read_another_households_proof_of_payment(shop, member):
    purchase = confirm(member, ask(shop))
    stranger = make_member("F-2202")
    phone = Client()
    phone.force_login(stranger.user)
    assert phone.get(reverse("phone:done", args=[purchase.pk])).status_code == 404


# --- The API ---------------------------------------------------------------------------------


class Till:
    def __init__(self, key, language="fr"):
        self.client, self.key, self.language = Client(), key, language

    def headers(self, idempotency_key=None):
        headers = {"HTTP_ACCEPT_LANGUAGE": self.language, "HTTP_AUTHORIZATION": f"Bearer {self.key}"}
        if idempotency_key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
        return headers

    def ask(self, body, key="auto"):
        key = uuid.uuid4().hex if key == "auto" else key
        return self.client.post("/api/v1/payment_requests", json.dumps(body), content_type="application/json",
                                **self.headers(key))

    def get(self, request_id):
        return self.client.get(f"/api/v1/payment_requests/{request_id}", **self.headers())

    def cancel(self, request_id):
        return self.client.post(f"/api/v1/payment_requests/{request_id}/cancel", **self.headers())


@pytest.fixture
def till(shop):
    return Till(make_key(shop))


def test_api_a_request_is_made_polled_until_paid_with_its_purchase(till, shop, member, ledger_is_clean):
    with time_machine.travel(NOON, tick=False):
        created = till.ask({"amount": 1_250, "reference": "ticket 9"}, key="req-1")
        assert created.status_code == 201
        body = created.json()
        assert set(body) == {"id", "status", "amount", "reference", "code", "qr_url", "expires_at", "purchase"}
        assert body["status"] == "pending" and body["amount"] == 1_250 and body["reference"] == "ticket 9"
        assert body["expires_at"] == "2026-06-10T10:03:00Z" and body["purchase"] is None
        assert body["qr_url"] == f"http://testserver/portal/pay/{body['code']}/"

        assert till.get(body["id"]).json()["status"] == "pending"
        payment_requests.confirm_request(code=body["code"], household=member.household, user=member.user)
        paid = till.get(body["id"]).json()
        assert paid["status"] == "paid"
        purchase = till.client.get(f"/api/v1/purchases/{paid['purchase']['id']}", **till.headers()).json()
        assert paid["purchase"] == purchase and purchase["card_last4"] == "" and purchase["amount"] == 1_250
    ledger_is_clean()


def test_api_idempotency_same_key_same_request_other_body_refused(till):
    first = till.ask({"amount": 500}, key="same")
    again = till.ask({"amount": 500}, key="same")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert PaymentRequest.objects.count() == 1
    other = till.ask({"amount": 600}, key="same")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    missing = till.ask({"amount": 600}, key=None)
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "Idempotency-Key"
    assert IdempotencyRecord.objects.count() == 1


def test_api_cross_shop_404_cancel_and_errors_in_both_languages(till, shop, member):
    with time_machine.travel(NOON, tick=False) as traveller:
        made = till.ask({"amount": 500}).json()
        stranger = Till(make_key(make_vendor("boulangerie")))
        for response in (stranger.get(made["id"]), stranger.cancel(made["id"]), till.get("999999"), till.get("abc")):
            assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        assert PaymentRequest.objects.get().status == "pending"

        cancelled = till.cancel(made["id"])
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        with pytest.raises(payment_requests.RequestCancelled):
            payment_requests.confirm_request(code=made["code"], household=member.household, user=member.user)

        late = till.ask({"amount": 500}).json()
        traveller.move_to(NOON + datetime.timedelta(minutes=3))
        assert till.get(late["id"]).json()["status"] == "expired"
        refused = till.cancel(late["id"])
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "payment_request_expired"
        assert "expiré" in refused.json()["error"]["message"]
        english = Till(till.key, language="en").cancel(late["id"]).json()["error"]
        assert english["message"] == "This payment request has expired. Ask the shop for a new one."

    bad = till.ask({"amount": "12.50"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "amount"
    unauthenticated = Client().get(f"/api/v1/payment_requests/{made['id']}")
    assert unauthenticated.status_code == 401


def test_api_schema_documents_the_payment_requests():
    schema = Client().get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/payment_requests"]) == {"post"}
    assert set(paths["/api/v1/payment_requests/{request_id}"]) == {"get"}
    assert set(paths["/api/v1/payment_requests/{request_id}/cancel"]) == {"post"}
    response = schema["components"]["schemas"]["PaymentRequestResponse"]
    status = response["properties"]["status"]
    ref = status.get("$ref") or status.get("allOf", [{}])[0].get("$ref", "")
    enum = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["enum"] if ref else status["enum"]
    assert enum == ["pending", "paid", "expired", "cancelled"]
    assert response["properties"]["purchase"].get("nullable") or "oneOf" in response["properties"]["purchase"] or (
        "allOf" in response["properties"]["purchase"])


def test_check_ledger_finds_a_paid_request_whose_purchase_is_not_what_it_asked(shop, member):
    from allocations.integrity import check_ledger

    request = ask(shop, amount=900)
    purchase = confirm(member, request)
    assert check_ledger().ok
    other = payments.capture(vendor=shop, idempotency_key="other", card=member.card.number, pin=member.pin, amount=300)
    PaymentRequest.objects.filter(pk=request.pk).update(purchase_id=other.body["id"])  # as a bug would
    labels = [mismatch.label for mismatch in check_ledger().objects]
    assert labels == [f"payment request {request.code}"] and purchase.pk != other.body["id"]


def test_the_polled_status_and_the_phone_page_read_a_fixed_number_of_queries(shop, member,
                                                                           django_assert_num_queries):
    request = ask(shop)
    staff = Client()
    staff.force_login(make_staff(shop))
    status_url = reverse("vendors:payment_request_status", args=[request.pk])
    staff.get(status_url)
    # The session, its user, whether the user is staff (the second factor's middleware), the
    # shop's staff row with its shop, the request with its purchase.
    with django_assert_num_queries(5):
        assert staff.get(status_url).json()["status"] == "pending"
    phone = Client()
    phone.force_login(member.user)
    pay_url = reverse("phone:pay", args=[request.code])
    phone.get(pay_url)
    with django_assert_num_queries(PHONE_PAGE_QUERIES):
        assert phone.get(pay_url).status_code == 200


# The session, its user, whether staff (the second factor's middleware), the household with
# its wallet, the request with its shop, the paying card: 6 of the page's own; and 8 that
# base.html's menus ask of every page (roles, shop staff, person, committee seat).
PHONE_PAGE_QUERIES = 14


def test_api_the_payment_requests_share_the_tills_rate_limit(settings, till):
    settings.CAISSE_API_RATE_PER_MINUTE = 2
    made = till.ask({"amount": 500})
    assert made.status_code == 201 and till.get(made.json()["id"]).status_code == 200
    limited = till.get(made.json()["id"])
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
