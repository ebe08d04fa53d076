"""Issue 16, point 4: the fund's name, unit and caps come from its settings in the database,
read through one cache (allocations.fund.cached): a change made on /coordination/fund/ shows
on the next page and is enforced at the till within its refresh window, while the pages
and the purchase make the same SQL queries (and the purchase the same Redis commands) as
when these came from the environment."""

import json
import uuid
from datetime import datetime

import pytest
import redis
import time_machine
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from allocations import fund
from allocations.models import FundSettings
from coordination.audit import services as audit
from kernel import versioned_cache
from kernel.money import format_units
from users.adapter import MFAAdapter
from vendors.models import Purchase

from .conftest import set_fund_settings
from .member_fixtures import make_member
from .settlement_fixtures import coordinators
from .staff import log_in_staff
from .vendor_fixtures import make_key, make_vendor

pytestmark = pytest.mark.django_db

# What one purchase at the till costs without any read of the fund's caps (as when they were
# read from the environment): the API key with its vendor and the card, then the one
# statement that tries the PIN, posts and records the purchase; one Redis command, the
# key's rate count.
PURCHASE_SQL = 2
PURCHASE_REDIS = ["EVALSHA"]

PAGE = {"settings-name": "Caisse alimentaire du Lez", "settings-unit_label": "Lez", "settings-collection_day": "5",
        "settings-max_purchase_cents": "500", "settings-daily_cap_per_card_cents": "0",
        "settings-phone_pin_above_cents": "20", "settings-refund_four_eyes_above_cents": "50",
        "settings-desk_cash_ceiling_cents": "200"}


@pytest.fixture
def coordinator_client():
    first, second = coordinators()
    client = log_in_staff(Client(), first)
    client.coordinators = (first, second)
    return client


def save_on_the_page(client, django_capture_on_commit_callbacks, **changes):
    """Post the settings form as a coordinator, and run what the commit runs."""
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/coordination/fund/", {**PAGE, **changes})


def till_pays(key, member, amount):
    return Client().post("/api/v1/purchases", json.dumps({"card": member.card.number, "pin": member.pin,
                                                          "amount": amount}),
                         content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
                         HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)


# --- The name and the unit ------------------------------------------------------------------


def test_a_new_name_and_unit_show_on_the_home_page_the_portal_and_a_coordinator_page(
        coordinator_client, django_capture_on_commit_callbacks):
    member = make_member("F-0100", balance=5_000)
    portal = Client()
    portal.force_login(member.user)
    assert "Caisse alimentaire du Lez" not in Client().get("/").content.decode()

    response = save_on_the_page(coordinator_client, django_capture_on_commit_callbacks)
    assert response.status_code == 302

    home = Client().get("/").content.decode()
    assert "<h1>Caisse alimentaire du Lez</h1>" in home and "en Lez" in home
    page = portal.get("/portal/").content.decode()
    assert "Caisse alimentaire du Lez" in page
    assert "50,00\u00a0Lez" in page and "1 Lez = 1 €" in page  # the balance in the new unit
    dashboard = coordinator_client.get("/coordination/").content.decode()
    assert "<title>Coordination · Caisse alimentaire du Lez</title>" in dashboard
    # And below allocations: the money formatter, the authenticator apps' issuer.
    assert format_units(1_250) == "12,50\u00a0Lez"
    assert MFAAdapter().get_totp_issuer() == "Caisse alimentaire du Lez"


def test_the_staff_mails_carry_the_fund_s_name_as_it_is_now(coordinator_client, django_capture_on_commit_callbacks,
                                                            mail_after_commit):
    from django.core import mail

    from users import second_factor

    first, second = coordinator_client.coordinators
    first.email = "a@example.org"
    first.save()
    save_on_the_page(coordinator_client, django_capture_on_commit_callbacks)
    with mail_after_commit():
        second_factor.reset(user=first, by=second)
    assert mail.outbox[-1].subject.startswith("Caisse alimentaire du Lez")


def test_pages_make_the_same_queries_before_and_after_a_change(coordinator_client, django_capture_on_commit_callbacks):
    member = make_member("F-0100", balance=5_000)
    portal = Client()
    portal.force_login(member.user)
    pages = [(Client(), "/"), (portal, "/portal/"), (coordinator_client, "/coordination/fund/")]

    def counts():
        result = []
        for client, path in pages:
            client.get(path)  # the session's first request may write it
            with CaptureQueriesContext(connection) as queries:
                assert client.get(path).status_code == 200
            result.append(len(queries.captured_queries))
        return result

    before = counts()
    assert save_on_the_page(coordinator_client, django_capture_on_commit_callbacks).status_code == 302
    assert counts() == before
    # The home page reads nothing of the fund's settings from the database.
    with CaptureQueriesContext(connection) as queries:
        Client().get("/")
    assert not [query for query in queries.captured_queries if "allocations_fundsettings" in query["sql"]]


def test_an_emptied_cache_costs_one_query_once_and_shows_the_row(coordinator_client,
                                                                django_capture_on_commit_callbacks):
    save_on_the_page(coordinator_client, django_capture_on_commit_callbacks)
    visitor = Client()
    with CaptureQueriesContext(connection) as warm:
        visitor.get("/")
    from django.core.cache import cache

    cache.delete(fund.CACHE_KEY)  # Redis restarted empty
    fund.forget_process_copy()
    with CaptureQueriesContext(connection) as cold:
        page = visitor.get("/").content.decode()
    assert "Caisse alimentaire du Lez" in page
    assert len(cold.captured_queries) == len(warm.captured_queries) + 1
    with CaptureQueriesContext(connection) as again:
        visitor.get("/")
    assert len(again.captured_queries) == len(warm.captured_queries)


def test_the_cache_keeps_the_newest_version_whatever_the_order_of_the_writes():
    versioned_cache.publish("test:value", 2, {"name": "second"})
    assert not versioned_cache.publish("test:value", 1, {"name": "first"})  # committed earlier, written later
    assert versioned_cache.read("test:value") == (2, {"name": "second"})
    assert versioned_cache.publish("test:value", 3, {"name": "third"})
    assert versioned_cache.read("test:value") == (3, {"name": "third"})


def test_after_a_restore_of_an_older_database_the_cache_follows_the_row(django_capture_on_commit_callbacks):
    set_fund_settings(name="Nom d'après la sauvegarde")
    FundSettings.objects.filter(pk=1).update(name="Nom de la sauvegarde", version=3)  # the restored row
    fund.forget_process_copy()
    assert fund.cached().name == "Nom d'après la sauvegarde"  # the cache holds a newer version
    # restore_backup reloads it; and the next change outranks whatever the cache held.
    assert fund.reload_cache().name == "Nom de la sauvegarde" and fund.cached().name == "Nom de la sauvegarde"
    FundSettings.objects.filter(pk=1).update(version=2)
    versioned_cache.publish(fund.CACHE_KEY, 10**15, {**fund.Snapshot.of(fund.current()).__dict__, "name": "Vieux"})
    set_fund_settings(name="Après la restauration")
    assert fund.cached().name == "Après la restauration"


def test_a_change_rolled_back_leaves_the_cache_as_it_was(django_capture_on_commit_callbacks):
    before = fund.cached()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        fund.update_settings(by=None, name="Jamais enregistrée")
        raise RuntimeError
    fund.forget_process_copy()
    assert fund.cached() == before


# --- The caps -------------------------------------------------------------------------------


def test_a_cap_changed_on_the_page_is_what_the_till_enforces_within_the_refresh_window(
        coordinator_client, django_capture_on_commit_callbacks):
    key = make_key(make_vendor("epicerie-du-coin"))
    member = make_member("F-0100", balance=200_000)
    start = timezone.make_aware(datetime(2026, 3, 2, 10, 0))
    with time_machine.travel(start, tick=False) as clock:
        assert till_pays(key, member, 40_000).status_code == 201  # the environment's 500 €

        response = save_on_the_page(coordinator_client, django_capture_on_commit_callbacks,
                                    **{"settings-max_purchase_cents": "300"})
        assert response.status_code == 302
        assert fund.current().max_purchase_cents == 30_000
        # Within the window, the till still has its copy: not a query nor a command per purchase.
        clock.shift(fund.TILL_REFRESH_SECONDS - 1)
        assert till_pays(key, member, 40_000).status_code == 201

        clock.shift(1)  # the window has passed: every till enforces the new maximum
        refused = till_pays(key, member, 40_000)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "invalid_request" and refused.json()["error"]["param"] == "amount"
        assert till_pays(key, member, 30_000).status_code == 201
    assert Purchase.objects.count() == 3


def test_a_daily_cap_set_on_the_page_is_enforced_at_the_till(coordinator_client, django_capture_on_commit_callbacks):
    key = make_key(make_vendor("epicerie-du-coin"))
    member = make_member("F-0100", balance=10_000)
    save_on_the_page(coordinator_client, django_capture_on_commit_callbacks,
                     **{"settings-daily_cap_per_card_cents": "20"})
    fund.forget_process_copy()  # as the window's seconds do
    assert till_pays(key, member, 1_500).status_code == 201
    over = till_pays(key, member, 600)
    assert over.status_code == 402 and over.json()["error"]["code"] == "limit_exceeded"


def test_a_purchase_makes_as_many_sql_queries_and_redis_commands_as_before(monkeypatch):
    key = make_key(make_vendor("epicerie-du-coin"))
    member = make_member("F-0100", balance=50_000)
    with time_machine.travel(timezone.make_aware(datetime(2026, 3, 2, 10, 0)), tick=False):
        assert till_pays(key, member, 100).status_code == 201  # the till's copy is read here, once
        commands = []
        send = redis.Redis.execute_command

        def counted(self, *args, **options):
            commands.append(args[0])
            return send(self, *args, **options)

        monkeypatch.setattr(redis.Redis, "execute_command", counted)
        for _ in range(3):
            commands.clear()
            with CaptureQueriesContext(connection) as queries:
                assert till_pays(key, member, 1_250).status_code == 201
            assert len(queries.captured_queries) == PURCHASE_SQL
            assert commands == PURCHASE_REDIS


def test_bad_input_on_the_page_is_refused_with_a_french_error_and_changes_nothing(
        coordinator_client, django_capture_on_commit_callbacks):
    before_row = fund.current()
    before = fund.cached()
    events = apps.get_model("audit.FundSettingsEvent").objects.count()
    bad = [
        ("settings-max_purchase_cents", "0", "Le maximum doit être supérieur à zéro."),
        ("settings-max_purchase_cents", "1e3", "n'est pas un montant en euros"),
        ("settings-daily_cap_per_card_cents", "-5", "n'est pas un montant en euros"),
        ("settings-desk_cash_ceiling_cents", "20000", "Au plus 10\u00a0000,00\u00a0€."),
        ("settings-refund_four_eyes_above_cents", "", "Ce champ est obligatoire."),
        ("settings-phone_pin_above_cents", "beaucoup", "n'est pas un montant en euros"),
    ]
    labels = {"settings-max_purchase_cents": "Maximum pour un achat (€)",
              "settings-daily_cap_per_card_cents": "Plafond par carte, par commerce et par jour (€, 0 : aucun)",
              "settings-desk_cash_ceiling_cents": "Un paiement en espèces à une permanence au-delà de ce montant",
              "settings-refund_four_eyes_above_cents": "Un remboursement par la coordination au-delà de ce montant",
              "settings-phone_pin_above_cents": "Paiement depuis son téléphone"}
    for field, value, message in bad:
        response = save_on_the_page(coordinator_client, django_capture_on_commit_callbacks,
                                    **{"settings-name": "Autre nom", field: value})
        page = response.content.decode().replace("&#x27;", "'")
        assert response.status_code == 400, (field, value)
        summary = page.split('data-testid="error-summary"')[1].split("</div>")[0]
        assert labels[field] in summary and message in summary, (field, value, summary)
    row = fund.current()
    assert [getattr(row, name) for name in fund.PLAIN_FIELDS] == [getattr(before_row, name)
                                                                 for name in fund.PLAIN_FIELDS]
    assert fund.cached() == before
    assert apps.get_model("audit.FundSettingsEvent").objects.count() == events


def test_the_database_refuses_caps_out_of_range():
    fund.current()
    for values in ({"max_purchase_cents": 0}, {"daily_cap_per_card_cents": 1_000_001},
                   {"desk_cash_ceiling_cents": 2_000_000}):
        with pytest.raises(IntegrityError), transaction.atomic():
            FundSettings.objects.filter(pk=1).update(**values)


def test_a_change_of_caps_is_audited_with_who_made_it(coordinator_client, django_capture_on_commit_callbacks):
    fund.current()
    save_on_the_page(coordinator_client, django_capture_on_commit_callbacks, **{"settings-max_purchase_cents": "250"})
    event = audit.events(model="fund_settings").filter(pgh_label="update").first()
    assert event.pgh_data["max_purchase_cents"] == 25_000 and event.pgh_data["refund_four_eyes_above_cents"] == 5_000
    assert event.pgh_diff["max_purchase_cents"] == [50_000, 25_000]
    assert str(event.pgh_context["user"]) == str(coordinator_client.coordinators[0].pk)


def test_the_page_shows_the_caps_in_euros_and_when_they_take_effect(coordinator_client):
    page = coordinator_client.get("/coordination/fund/").content.decode()
    assert 'value="500,00"' in page and 'value="200,00"' in page
    assert f"en {fund.TILL_REFRESH_SECONDS} secondes au plus" in page and "S'applique tout de suite." in page
