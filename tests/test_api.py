"""Contract tests of the tills' API v1: every status and code it promises."""

import json
import uuid

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from allocations.models import Account, Transfer, TransferKind
from members import cards
from members.models import Card
from vendors import services
from vendors.models import IdempotencyRecord, Purchase, Vendor
from vendors.serializers import PaymentRequestCreate, PurchaseRequest, RefundRequest, validated_if_plainly_valid

from .conftest import set_fund_settings
from .member_fixtures import make_member
from .vendor_fixtures import adopted_decision, make_coordinator, make_key, make_vendor

pytestmark = pytest.mark.django_db


class Till:
    """A till: a test client with the vendor's key."""

    def __init__(self, key, language="fr"):
        self.client, self.key, self.language = Client(), key, language

    def _headers(self, idempotency_key, extra):
        headers = {"HTTP_ACCEPT_LANGUAGE": self.language}
        if self.key is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.key}"
        if idempotency_key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
        return {**headers, **extra}

    def pay(self, body, key="auto", raw=None, **extra):
        key = uuid.uuid4().hex if key == "auto" else key
        data = raw if raw is not None else json.dumps(body)
        return self.client.post("/api/v1/purchases", data, content_type=extra.pop("content_type", "application/json"),
                                **self._headers(key, extra))

    def refund(self, purchase_id, body, key="auto", **extra):
        key = uuid.uuid4().hex if key == "auto" else key
        return self.client.post(f"/api/v1/purchases/{purchase_id}/refunds", json.dumps(body),
                                content_type="application/json", **self._headers(key, extra))

    def get(self, path, **params):
        return self.client.get(path, params, **self._headers(None, {}))


def error(response):
    assert response["Content-Type"].startswith("application/json"), response.content
    return response.json()["error"]


@pytest.fixture
def shop():
    return make_vendor("epicerie-du-coin", name="Épicerie du Coin")


@pytest.fixture
def till(shop):
    return Till(make_key(shop))


@pytest.fixture
def member():
    return make_member("F-0100", balance=5_000, pin="2468")


def sale(member, amount=1_250, **more):
    return {"card": member.card.number, "pin": member.pin, "amount": amount, "reference": "ticket 42", **more}


def test_a_purchase_moves_money_and_answers_201_with_nothing_about_the_member(till, shop, member, ledger_is_clean):
    response = till.pay(sale(member))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "status", "amount", "requested", "reference", "created_at", "refunded", "card_last4"}
    assert body["status"] == "captured" and body["amount"] == body["requested"] == 1_250 and body["refunded"] == 0
    assert body["card_last4"] == member.card.number[-4:] and body["reference"] == "ticket 42"
    assert Account.objects.get(pk=member.household.wallet_id).balance == 3_750
    assert Account.objects.get(pk=shop.account_id).balance == 1_250
    text = response.content.decode()
    assert member.card.number not in text and member.household.reference not in text and "3750" not in text
    ledger_is_clean()


def test_the_qr_token_pays_too(till, member):
    response = till.pay({"card": member.card.qr_token, "pin": member.pin, "amount": 100})
    assert response.status_code == 201


@pytest.mark.parametrize("by", ["number", "qr_token"])
def test_a_payment_makes_two_sql_statements_the_key_with_the_card_then_the_pin_with_the_payment(
        by, till, member, django_assert_num_queries):
    # The till's budget: the key, its vendor, the key's record and the card in one statement;
    # the PIN's try, the ledger, the purchase and the key's record in the other.
    identifier = getattr(member.card, by)
    with django_assert_num_queries(2) as queries:
        response = till.pay({"card": identifier, "pin": member.pin, "amount": 100})
    assert response.status_code == 201
    assert "LATERAL" in queries.captured_queries[0]["sql"] and "FOR SHARE" in queries.captured_queries[1]["sql"]
    # A wrong PIN is counted all the same (the payment's statement found it wrong, then the
    # counted try), and moves nothing.
    response = till.pay({"card": identifier, "pin": "0000" if member.pin != "0000" else "1111", "amount": 100})
    assert error(response)["code"] == "invalid_pin"
    assert Card.objects.get(pk=member.card.pk).failed_pin_attempts == 1
    assert Purchase.objects.count() == 1 and Account.objects.get(pk=member.household.wallet_id).balance == 4_900
    # After a wrong PIN the right one takes the counted try first, which clears the count.
    with django_assert_num_queries(3):
        assert till.pay({"card": identifier, "pin": member.pin, "amount": 100}).status_code == 201
    assert Card.objects.get(pk=member.card.pk).failed_pin_attempts == 0


def test_the_card_read_with_the_key_is_the_one_the_body_names(till, member):
    other = make_member("F-0101", balance=5_000, pin="1357")
    cards.block_card(other.card)
    assert error(till.pay({"card": other.card.number, "pin": other.pin, "amount": 100}))["code"] == "card_blocked"
    assert error(till.pay({"card": "4" * 16, "pin": "1234", "amount": 100}))["code"] == "unknown_card"
    spaced = " ".join(member.card.number[i:i + 4] for i in range(0, 16, 4))
    assert till.pay({"card": f"  {spaced} ", "pin": member.pin, "amount": 100}).status_code == 201
    assert Purchase.objects.get().card_id == member.card.pk


def test_the_member_is_told_by_email_after_the_payment_commits(till, member, mail_after_commit):
    member.person.email_each_payment = True
    member.person.save()
    member.user.email = "nadia@example.org"
    member.user.save()
    with mail_after_commit():
        assert till.pay(sale(member)).status_code == 201
    assert len(mail.outbox) == 1 and "Épicerie du Coin" in mail.outbox[0].subject


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer csk_nope", "Basic abc", "Token x"])
def test_no_valid_key_is_401_unauthenticated(header, member):
    client = Client()
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.post("/api/v1/purchases", json.dumps(sale(member)), content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="k1", **extra)
    assert response.status_code == 401 and error(response)["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/vendor", **extra).status_code == 401


def test_a_revoked_key_is_401_from_that_moment(shop, member):
    api_key, key = services.create_api_key(shop, label="Caisse 2")
    till = Till(key)
    assert till.pay(sale(member, 100)).status_code == 201
    services.revoke_api_key(api_key)
    response = till.pay(sale(member, 100))
    assert response.status_code == 401 and error(response)["code"] == "unauthenticated"


@pytest.mark.parametrize("status", [Vendor.Status.PAUSED, Vendor.Status.SUSPENDED, Vendor.Status.REVOKED])
def test_a_vendor_that_is_no_longer_approved_is_refused_from_that_moment(status, shop, till, member):
    first = till.pay(sale(member, 500)).json()
    coordinator = make_coordinator()
    if status == Vendor.Status.PAUSED:
        services.pause_or_resume(shop, by=None)
    else:
        services.change_status(shop, status, by=coordinator, reason="décision du comité",
                               decision=adopted_decision(shop, status))
    response = till.pay(sale(member, 500))
    assert response.status_code == 403 and error(response)["code"] == "vendor_not_approved"
    refund = till.refund(first["id"], {"amount": 100})
    assert refund.status_code == 403 and error(refund)["code"] == "vendor_not_approved"
    # It can still read what is owed to it.
    assert till.get("/api/v1/vendor").json()["status"] == status
    assert Account.objects.get(pk=member.household.wallet_id).balance == 4_500


def test_an_applicant_vendor_takes_no_payment(member):
    till = Till(make_key(make_vendor("candidat", status=Vendor.Status.APPLIED)))
    response = till.pay(sale(member))
    assert response.status_code == 403 and error(response)["code"] == "vendor_not_approved"


@pytest.mark.parametrize("key", [None, ""])
def test_the_idempotency_key_is_required(key, till, member):
    response = till.pay(sale(member), key=key)
    assert response.status_code == 400
    assert error(response) | {"message": ""} == {"code": "invalid_request", "param": "Idempotency-Key", "message": ""}


def test_an_idempotency_key_longer_than_255_is_refused(till, member):
    assert till.pay(sale(member), key="k" * 255).status_code == 201
    response = till.pay(sale(member), key="k" * 256)
    assert response.status_code == 400 and error(response)["param"] == "Idempotency-Key"


@pytest.mark.parametrize(
    "change, param",
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 50_001}, "amount"),
        ({"amount": "12.50"}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": None}, "amount"),
        ({"card": 1234}, "card"),
        ({"partial": "yes"}, "partial"),
        ({"tip": 100}, "tip"),
        ({"reference": "x" * 256}, "reference"),
    ],
)
def test_bad_fields_are_400_invalid_request_naming_the_param(change, param, till, member):
    response = till.pay({**sale(member), **change})
    assert response.status_code == 400, response.content
    assert error(response)["code"] == "invalid_request" and error(response)["param"] == param
    assert not Purchase.objects.exists()


def test_missing_fields_are_named(till):
    response = till.pay({"pin": "1234", "amount": 100})
    assert response.status_code == 400 and error(response)["param"] == "card"


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"a string"', "", "null"])
def test_malformed_bodies_are_400_in_json(raw, till):
    response = till.pay(None, raw=raw)
    assert response.status_code == 400 and error(response)["code"] == "invalid_request"


def test_other_media_types_methods_and_paths_answer_json_errors(till, member):
    response = till.pay(None, raw="card=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and error(response)["code"] == "unsupported_media_type"
    response = till.client.delete("/api/v1/purchases", HTTP_AUTHORIZATION=f"Bearer {till.key}")
    assert response.status_code == 405 and error(response)["code"] == "method_not_allowed"
    for path in ("/api/v1/nope", "/api/v1/purchases/abc", "/api/v1/purchases/99999999"):
        response = till.get(path)
        assert response.status_code == 404 and error(response)["code"] == "not_found", path


def test_messages_follow_accept_language_french_by_default(shop, member):
    key = make_key(shop)
    fr = Till(key, "fr").pay(sale(member, 0))
    en = Till(key, "en").pay(sale(member, 0))
    assert error(en)["message"] == "The amount must be more than zero."
    assert error(fr)["message"] != error(en)["message"]
    assert "montant" in error(fr)["message"].lower()


def test_declines_are_402_with_their_code(till, member, shop):
    def code(body):
        response = till.pay(body)
        assert response.status_code == 402, response.content
        return error(response)["code"]

    assert code(sale(member, 6_000)) == "insufficient_funds"
    assert code({**sale(member), "pin": "0000"}) == "invalid_pin"
    assert code({**sale(member), "card": "9250 0000 0000 0000"}) == "unknown_card"
    assert code({**sale(member), "card": "not-a-token"}) == "unknown_card"
    cards.lock_card(member.card)
    assert code(sale(member)) == "card_blocked"
    cards.unlock_card(member.card)
    cards.block_card(member.card)
    assert code(sale(member)) == "card_blocked"
    assert not Purchase.objects.exists() and not IdempotencyRecord.objects.exists()
    assert Account.objects.get(pk=member.household.wallet_id).balance == 5_000


def test_the_daily_cap_per_card_and_vendor_is_limit_exceeded(till, member):
    set_fund_settings(daily_cap_per_card_cents=2_000)
    assert till.pay(sale(member, 1_500)).status_code == 201
    response = till.pay(sale(member, 600))
    assert response.status_code == 402 and error(response)["code"] == "limit_exceeded"
    assert till.pay(sale(member, 500)).status_code == 201
    # Another shop has its own cap.
    other = Till(make_key(make_vendor("boulangerie")))
    assert other.pay(sale(member, 1_500)).status_code == 201


def test_three_wrong_pins_lock_the_card_and_are_counted_though_nothing_is_bought(till, member):
    for _ in range(3):
        assert error(till.pay({**sale(member), "pin": "1111"}))["code"] == "invalid_pin"
    card = Card.objects.get(pk=member.card.pk)
    assert card.is_locked()
    assert error(till.pay(sale(member)))["code"] == "card_blocked"
    assert not Purchase.objects.exists()


def test_partial_capture_takes_what_the_wallet_holds(till, member, ledger_is_clean):
    response = till.pay(sale(member, 8_000, partial=True))
    assert response.status_code == 201
    assert (response.json()["amount"], response.json()["requested"]) == (5_000, 8_000)
    assert Account.objects.get(pk=member.household.wallet_id).balance == 0
    # An empty wallet: declined even with partial.
    response = till.pay(sale(member, 100, partial=True))
    assert response.status_code == 402 and error(response)["code"] == "insufficient_funds"
    ledger_is_clean()


def test_same_key_same_body_replays_the_first_answer_and_moves_money_once(till, member):
    first = till.pay(sale(member), key="sale-1")
    again = till.pay(sale(member), key="sale-1")
    assert (again.status_code, again.json()) == (first.status_code, first.json()) == (201, first.json())
    assert Purchase.objects.count() == 1
    assert Account.objects.get(pk=member.household.wallet_id).balance == 3_750
    assert Transfer.objects.filter(kind=TransferKind.PURCHASE).count() == 1


def test_same_key_different_body_is_409_idempotency_key_reused(till, member):
    assert till.pay(sale(member), key="sale-1").status_code == 201
    response = till.pay(sale(member, 1_300), key="sale-1")
    assert response.status_code == 409 and error(response)["code"] == "idempotency_key_reused"
    assert Purchase.objects.count() == 1


def test_the_pin_is_not_part_of_the_fingerprint_and_a_wrong_pin_does_not_burn_the_key(till, member):
    declined = till.pay({**sale(member), "pin": "1111"}, key="sale-7")
    assert declined.status_code == 402
    paid = till.pay(sale(member), key="sale-7")
    assert paid.status_code == 201
    record = IdempotencyRecord.objects.get()
    assert member.pin not in json.dumps(record.body) and member.pin not in record.fingerprint
    # Replayed even with another PIN: the answer was stored, nothing new is checked or moved.
    assert till.pay({**sale(member), "pin": "9999"}, key="sale-7").json() == paid.json()
    assert Card.objects.get(pk=member.card.pk).failed_pin_attempts == 0


def test_a_short_wallet_then_partial_under_the_same_key(till, member):
    assert till.pay(sale(member, 8_000), key="sale-8").status_code == 402
    paid = till.pay(sale(member, 8_000, partial=True), key="sale-8")
    assert paid.json()["amount"] == 5_000
    # Its replay is the same answer, the captured amount included.
    assert till.pay(sale(member, 8_000, partial=True), key="sale-8").json() == paid.json()
    assert Account.objects.get(pk=member.household.wallet_id).balance == 0


def test_keys_are_scoped_to_the_vendor(till, member):
    other = Till(make_key(make_vendor("boulangerie")))
    assert till.pay(sale(member, 100), key="same").status_code == 201
    assert other.pay(sale(member, 200), key="same").status_code == 201


def test_refunds_credit_the_wallet_and_never_exceed_what_was_captured(till, shop, member, ledger_is_clean):
    purchase = till.pay(sale(member, 2_000)).json()
    response = till.refund(purchase["id"], {"amount": 500, "reason": "article abîmé"}, key="r1")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "purchase", "amount", "reason", "created_at"}
    assert (body["purchase"], body["amount"], body["reason"]) == (purchase["id"], 500, "article abîmé")
    again = till.refund(purchase["id"], {"amount": 500, "reason": "article abîmé"}, key="r1")
    assert again.json() == body and again.status_code == 201
    assert Account.objects.get(pk=member.household.wallet_id).balance == 3_500

    response = till.refund(purchase["id"], {"amount": 1_501})
    assert response.status_code == 400 and error(response)["code"] == "refund_exceeds_captured"
    assert till.refund(purchase["id"], {"amount": 1_500}).status_code == 201
    detail = till.get(f"/api/v1/purchases/{purchase['id']}").json()
    assert (detail["refunded"], detail["status"]) == (2_000, "refunded")
    assert Account.objects.get(pk=member.household.wallet_id).balance == 5_000
    response = till.refund(purchase["id"], {"amount": 1, "reason": "x"}, key="r1")
    assert response.status_code == 409 and error(response)["code"] == "idempotency_key_reused"
    for bad in ({"amount": 0}, {"amount": "5"}, {"amount": 5, "extra": 1}):
        response = till.refund(purchase["id"], bad)
        assert response.status_code == 400 and error(response)["code"] == "invalid_request"
    assert till.refund(purchase["id"], {"amount": 1}, key=None).status_code == 400
    ledger_is_clean()


def test_a_refund_after_reimbursement_takes_the_vendor_account_below_zero(till, shop, member, ledger_is_clean):
    from tests.settlement_fixtures import BIC, IBAN, coordinators, fund_treasury, run_and_pay

    purchase = till.pay(sale(member, 1_000)).json()
    # A real settlement (its record is what the vendor's last reimbursement reads).
    type(shop).objects.filter(pk=shop.pk).update(iban=IBAN, bic=BIC)
    fund_treasury()
    run_and_pay(*coordinators())
    assert till.refund(purchase["id"], {"amount": 400}).status_code == 201
    vendor = till.get("/api/v1/vendor").json()
    assert vendor["owed"] == -400 and vendor["last_reimbursement"]["amount"] == 1_000
    ledger_is_clean()


def test_vendor_a_can_neither_read_nor_refund_vendor_b_s_purchases(till, member):
    other = Till(make_key(make_vendor("boulangerie")))
    theirs = other.pay(sale(member, 700)).json()
    mine = till.pay(sale(member, 300)).json()
    assert till.get(f"/api/v1/purchases/{theirs['id']}").status_code == 404
    response = till.refund(theirs["id"], {"amount": 100})
    assert response.status_code == 404 and error(response)["code"] == "not_found"
    assert [p["id"] for p in till.get("/api/v1/purchases").json()["data"]] == [mine["id"]]
    assert Purchase.objects.get(pk=theirs["id"]).refunded == 0


def test_the_list_is_newest_first_with_a_cursor_and_filters(shop, member):
    till_1, till_2 = Till(make_key(shop, "Caisse 1")), Till(make_key(shop, "Caisse 2"))
    ids = [(till_1 if n % 2 else till_2).pay(sale(member, 100 + n)).json()["id"] for n in range(5)]
    page = till_1.get("/api/v1/purchases", limit=2).json()
    assert [p["id"] for p in page["data"]] == ids[::-1][:2] and page["next_cursor"]
    page = till_1.get("/api/v1/purchases", limit=2, cursor=page["next_cursor"]).json()
    assert [p["id"] for p in page["data"]] == ids[::-1][2:4]
    page = till_1.get("/api/v1/purchases", limit=2, cursor=page["next_cursor"]).json()
    assert [p["id"] for p in page["data"]] == ids[:1] and page["next_cursor"] is None
    assert len(till_1.get("/api/v1/purchases", till="Caisse 1").json()["data"]) == 2
    first = Purchase.objects.get(pk=ids[0]).created_at
    later = till_1.get("/api/v1/purchases", created_after=first.isoformat()).json()["data"]
    assert ids[0] not in [p["id"] for p in later] and len(later) == 4
    assert till_1.get("/api/v1/purchases", created_before=first.isoformat()).json()["data"] == []
    for params, param in (({"limit": 101}, "limit"), ({"limit": 0}, "limit"), ({"cursor": "%%"}, "cursor"),
                          ({"created_after": "yesterday"}, "created_after")):
        response = till_1.get("/api/v1/purchases", **params)
        assert response.status_code == 400 and error(response)["param"] == param


def test_the_vendor_endpoint_says_status_and_what_is_owed(till, member):
    till.pay(sale(member, 1_234))
    assert till.get("/api/v1/vendor").json() == {
        "slug": "epicerie-du-coin", "name": "Épicerie du Coin", "status": "approved", "owed": 1_234,
        "last_reimbursement": None,
    }


def test_the_rate_limit_is_429_with_retry_after(settings, till, member):
    settings.CAISSE_API_RATE_PER_MINUTE = 3
    for _ in range(3):
        assert till.get("/api/v1/vendor").status_code == 200
    response = till.get("/api/v1/vendor")
    assert response.status_code == 429 and error(response)["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    # Per key: another till of the same shop is not limited.
    assert Till(make_key(Vendor.objects.get())).get("/api/v1/vendor").status_code == 200
    # The window's counters expire on their own in Redis (no key is kept for ever).
    redis = cache._cache.get_client(write=True)
    counters = redis.keys(cache.make_and_validate_key("api-rate:*"))
    assert len(counters) == 2 and all(0 < redis.ttl(counter) <= 120 for counter in counters)


def test_the_schema_documents_the_endpoints_and_the_error_shape(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/api/v1/purchases", "/api/v1/purchases/{purchase_id}", "/api/v1/purchases/{purchase_id}/refunds",
            "/api/v1/vendor"} <= set(schema["paths"])
    assert "Error" in schema["components"]["schemas"]
    post = schema["paths"]["/api/v1/purchases"]["post"]
    assert {"201", "400", "401", "402", "403", "409", "429"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in post["parameters"])
    assert client.get("/api/v1/docs/").status_code == 200


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12), st.floats(allow_nan=False),
    st.text(max_size=300), st.sampled_from(["", "  ", " 4242 4242 ", "\x00", "x" * 255, "x" * 256, " " + "x" * 255]),
    st.lists(st.integers(), max_size=2),
)


@pytest.mark.parametrize("request_class", [PurchaseRequest, RefundRequest, PaymentRequestCreate])
@hypothesis_settings(max_examples=400, derandomize=True, deadline=None)
@given(data=st.dictionaries(st.sampled_from(["card", "pin", "amount", "reference", "partial", "reason", "x"]),
                            _VALUES, max_size=6))
def test_the_fast_validation_of_a_body_never_differs_from_the_serializer(request_class, data):
    """Payments skip building the DRF serializer when a body is plainly valid: on any
    body, what the short cut accepts the serializer accepts, with the same result."""
    fast = validated_if_plainly_valid(request_class, data)
    serializer = request_class(data=data)
    if fast is not None:
        assert serializer.is_valid(), serializer.errors
        assert fast == dict(serializer.validated_data)


@pytest.mark.parametrize("request_class, body", [
    (PurchaseRequest, {"card": "9250 0000 0000 0001", "pin": "1234", "amount": 1250}),
    (PurchaseRequest, {"card": "abc", "pin": "1234", "amount": 1, "reference": "t 42", "partial": True}),
    (RefundRequest, {"amount": 500, "reason": "abîmé"}),
    (PaymentRequestCreate, {"amount": 500, "reference": "t 43"}),
])
def test_an_ordinary_body_takes_the_short_cut(request_class, body):
    assert validated_if_plainly_valid(request_class, body) == dict(request_class(data=body).run_validation(body))
