"""Payment requests under real concurrency (threads, each its own PostgreSQL connection):
two phones confirming one request, a confirmation against the shop's cancel, and against
the expiry, with time frozen. A blocker holds the request's row until every contender
waits on it, so the race is certain, not left to timing."""

import datetime
import threading
import time

import psycopg
import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections

from vendors import payment_requests
from vendors.models import PaymentRequest, Purchase

from .member_fixtures import make_member
from .vendor_fixtures import make_vendor

pytestmark = pytest.mark.django_db(transaction=True)

NOON = datetime.datetime(2026, 6, 10, 10, 0, tzinfo=datetime.UTC)


def _waiting_on_locks(count: int, timeout: float = 20.0) -> None:
    with psycopg.connect(dbname=connection.settings_dict["NAME"], autocommit=True) as watcher:
        deadline = time.monotonic() + timeout
        while watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                              " AND datname = current_database()").fetchone()[0] < count:
            assert time.monotonic() < deadline, f"{count} transactions never waited on the row"
            time.sleep(0.01)


def _in_thread(results: dict, name: str, call):
    def run():
        try:
            results[name] = call()
        except Exception as error:  # noqa: BLE001 - the test reads what each side was told
            results[name] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _race(request: PaymentRequest, calls: dict, before_release=None) -> dict:
    """Runs `calls` in threads while a blocker holds the request's row, releases it once
    they all wait on it, and returns what each was told."""
    results: dict = {}
    with psycopg.connect(dbname=connection.settings_dict["NAME"]) as blocker:
        blocker.execute(f"SELECT 1 FROM {PaymentRequest._meta.db_table} WHERE id = %s FOR UPDATE", [request.pk])
        threads = [_in_thread(results, name, call) for name, call in calls.items()]
        _waiting_on_locks(len(calls))
        if before_release:
            before_release()
        blocker.rollback()
    for thread in threads:
        thread.join(30)
    return results


def _confirm(member, request):
    return lambda: payment_requests.confirm_request(code=request.code, household=member.household,
                                                    user=member.user)


def test_two_phones_confirming_one_request_at_once_make_one_purchase():
    shop = make_vendor()
    first, second = make_member("F-2210", balance=5_000), make_member("F-2211", balance=5_000)
    request, _ = payment_requests.create_request(vendor=shop, idempotency_key="r-1", amount=1_500)

    results = _race(request, {"first": _confirm(first, request), "second": _confirm(second, request)})

    purchases = [value for value in results.values() if isinstance(value, Purchase)]
    refusals = [value for value in results.values() if not isinstance(value, Purchase)]
    assert len(purchases) == 1 and len(refusals) == 1, results
    assert isinstance(refusals[0], payment_requests.RequestAlreadyPaid)
    assert Purchase.objects.count() == 1
    request.refresh_from_db()
    assert request.status == "paid" and request.purchase_id == purchases[0].pk
    wallets = sorted(m.household.wallet.__class__.objects.get(pk=m.household.wallet_id).balance
                     for m in (first, second))
    assert wallets == [3_500, 5_000]  # money moved once
    call_command("check_ledger")


def test_a_confirmation_and_the_shops_cancel_at_once_one_wins_and_the_other_is_told():
    shop = make_vendor()
    member = make_member("F-2212", balance=5_000)
    request, _ = payment_requests.create_request(vendor=shop, idempotency_key="r-2", amount=900)

    results = _race(request, {
        "phone": _confirm(member, request),
        "shop": lambda: payment_requests.cancel_request(vendor=shop, request_id=request.pk),
    })

    request.refresh_from_db()
    if request.status == "paid":
        assert isinstance(results["phone"], Purchase)
        assert isinstance(results["shop"], payment_requests.RequestAlreadyPaid)
        assert Purchase.objects.count() == 1
    else:
        assert request.status == "cancelled" and request.purchase_id is None
        assert isinstance(results["phone"], payment_requests.RequestCancelled)
        assert not Purchase.objects.exists()
    call_command("check_ledger")


def test_a_confirmation_that_waited_past_the_expiry_is_refused_time_frozen():
    shop = make_vendor()
    member = make_member("F-2213", balance=5_000)
    with time_machine.travel(NOON, tick=False) as traveller:
        request, _ = payment_requests.create_request(vendor=shop, idempotency_key="r-3", amount=900)
        # The phone checked the request while it was open, then waited on its row; by the
        # time it has the row, the three minutes are over.
        results = _race(request, {"phone": _confirm(member, request)},
                        before_release=lambda: traveller.move_to(request.expires_at))

    assert isinstance(results["phone"], payment_requests.RequestExpired), results
    assert not Purchase.objects.exists() and PaymentRequest.objects.get().status == "pending"
    member.household.wallet.refresh_from_db()
    assert member.household.wallet.balance == 5_000
    call_command("check_ledger")
