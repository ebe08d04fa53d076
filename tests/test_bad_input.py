"""No 5xx from input (issue 17): NUL bytes, ids out of range, JSON nested deep, bodies over
the limit, numbers too large, unknown methods under /api/v1/, and Redis down."""

import json
import socket
import subprocess
import time

import pytest
from django.core.cache import caches
from django.test import Client

from kernel.money import EurosField
from vendors.models import Purchase

from .member_fixtures import PASSWORD, make_member
from .test_api import Till, error
from .vendor_fixtures import make_key, make_vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def till():
    return Till(make_key(make_vendor("epicerie-du-coin")))


@pytest.fixture
def member():
    return make_member("F-0300", balance=5_000, pin="2468")


def sale(member, **more):
    return {"card": member.card.number, "pin": member.pin, "amount": 100, **more}


@pytest.mark.parametrize("path", ["/draws/%00/", "/?q=%00", "/accounts/login/?next=%00", "/portal/cards/%00/"])
def test_a_nul_byte_in_the_address_is_a_400_that_says_so(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_nul_byte_in_a_form_field_is_a_400(client):
    response = client.post("/accounts/login/", {"login": "foyer\x00-1", "password": "x"})
    assert response.status_code == 400 and "NUL" in response.content.decode()


def test_the_api_answers_json_400_for_nul_deep_json_and_413_past_the_body_limit(till, member):
    response = till.pay(sale(member, reference="ticket\u0000 42"))
    assert response.status_code == 400 and error(response)["code"] == "invalid_request"
    response = till.pay(None, raw="[" * 50_000 + "]" * 50_000)
    assert response.status_code == 400 and error(response)["code"] == "invalid_request"
    response = till.pay(None, raw=json.dumps({**sale(member), "reference": "x" * 2_700_000}))
    assert response.status_code == 413 and error(response)["code"] == "request_too_large"
    assert not Purchase.objects.exists()


def test_a_body_over_the_limit_on_a_page_is_413(client):
    response = client.post("/accounts/login/", {"login": "x" * 2_700_000, "password": "x"})
    assert response.status_code == 413


def test_ids_out_of_range_are_not_a_500(client, till, member):
    client.force_login(member.user)
    for path in ("/portal/cards/99999999999999999999999/", "/portal/cards/9223372036854775808/print/"):
        assert client.get(path).status_code in (400, 404), path
    response = till.get("/api/v1/purchases/99999999999999999999999")
    assert response.status_code in (400, 404) and error(response)["code"] in ("invalid_request", "not_found")


def test_unknown_methods_and_unknown_paths_under_the_api_answer_json():
    client = Client(enforce_csrf_checks=True)
    response = client.generic("PROPFIND", "/api/v1/purchases")
    assert response.status_code == 405 and error(response)["code"] == "method_not_allowed"
    response = client.post("/api/v1/nothing-here", "{}", content_type="application/json")
    assert response.status_code == 404 and error(response)["code"] == "not_found"


def test_an_amount_typed_with_extra_zeros_is_a_form_error_not_a_500():
    field = EurosField()
    assert field.clean("10 000 000") == 1_000_000_000
    with pytest.raises(Exception) as refused:
        field.clean("999999999999")
    assert "max_value" in str(refused.value.code)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_redis(settings, tmp_path):
    """A redis-server of the test's own, that the test stops."""
    port = _free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                               "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    for _attempt in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.02)
    config = {alias: dict(value) for alias, value in settings.CACHES.items()}
    config["default"]["LOCATION"] = f"redis://127.0.0.1:{port}/0"
    settings.CACHES = config
    try:
        yield server
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(10)
        caches["default"].close()


def test_redis_down_is_a_503_with_retry_after_and_no_payment(own_redis, till, member):
    assert till.pay(sale(member)).status_code == 201  # with its rate limit, counted in Redis
    own_redis.terminate()
    own_redis.wait(10)
    caches["default"].close()

    response = till.pay(sale(member))
    assert response.status_code == 503 and error(response)["code"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0
    assert Purchase.objects.count() == 1  # only the one before Redis went down

    page = Client(raise_request_exception=False).post("/accounts/login/", {"login": member.user.username,
                                                                           "password": PASSWORD})
    assert page.status_code == 503 and "réessayez dans un instant" in page.content.decode().lower()


def test_a_refused_csrf_check_under_the_api_answers_json(rf):
    from caisse.views import csrf_failure

    response = csrf_failure(rf.post("/api/v1/payment_requests"), reason="CSRF cookie not set.")
    assert response.status_code == 403 and json.loads(response.content)["error"]["code"] == "forbidden"
    page = csrf_failure(rf.post("/accounts/login/"), reason="CSRF cookie not set.")
    assert page.status_code == 403 and "text/html" in page["Content-Type"]
