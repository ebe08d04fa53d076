"""Anonymous means anonymous (issue 17): nothing a coordinator, the admin or a copy of the
table shows links an anonymous report to its household, which still finds it."""

import pytest
from django.test import Client

from members import reports
from members.models import ShopReport

from .member_fixtures import make_member
from .staff import log_in_staff
from .vendor_fixtures import make_coordinator, make_vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return make_vendor("epicerie-du-coin")


def test_two_reports_of_one_household_share_nothing_to_match_on(shop):
    alice = make_member("F-0401")
    named = reports.report_problem(household=alice.household, category="treatment", description="Nommé", vendor=shop)
    first = reports.report_problem(household=alice.household, category="amount", description="A", vendor=shop, anonymous=True)
    second = reports.report_problem(household=alice.household, category="amount", description="B", vendor=shop, anonymous=True)
    rows = ShopReport.objects.values("pk", "household_id", "follow_up", "follow_up_salt")
    by_pk = {row["pk"]: row for row in rows}
    assert by_pk[named.pk]["follow_up"] == "" and by_pk[named.pk]["household_id"] == alice.household.pk
    assert by_pk[first.pk]["household_id"] is None and by_pk[second.pk]["household_id"] is None
    assert by_pk[first.pk]["follow_up"] != by_pk[second.pk]["follow_up"]
    # Nothing of the household's id or reference in what is stored.
    for row in (by_pk[first.pk], by_pk[second.pk]):
        stored = " ".join(str(value) for value in row.values())
        assert alice.household.reference not in stored
    # The household finds all three, another household none.
    assert {r.pk for r in reports.reports_of(alice.household)} == {named.pk, first.pk, second.pk}
    bob = make_member("F-0402")
    assert list(reports.reports_of(bob.household)) == []


def test_an_anonymous_report_keeps_only_its_day(shop):
    alice = make_member("F-0403")
    report = reports.report_problem(household=alice.household, category="other", description="x", anonymous=True)
    from django.utils import timezone

    local = timezone.localtime(report.created_at)
    assert (local.hour, local.minute, local.second) == (0, 0, 0)


def test_the_admins_filters_and_lookups_find_no_link(client, shop):
    alice = make_member("F-0404")
    reports.report_problem(household=alice.household, category="treatment", description="Nommé", vendor=shop)
    anonymous = reports.report_problem(household=alice.household, category="amount", description="Anonyme",
                                       vendor=shop, anonymous=True)
    log_in_staff(client, make_coordinator())
    url = "/admin/members/shopreport/"
    assert client.get(url).status_code == 200
    page = client.get(f"{url}{anonymous.pk}/change/").content.decode()
    assert anonymous.follow_up not in page and anonymous.follow_up_salt not in page and alice.household.reference not in page
    # The filters the campaign used: by digest prefix, by household, by salt.
    for query in (f"follow_up__startswith={anonymous.follow_up[:2]}", f"household__id={alice.household.pk}",
                  f"follow_up_salt__startswith={anonymous.follow_up_salt[:2]}", "household__isnull=False",
                  f"household__reference={alice.household.reference}", f"follow_up={anonymous.follow_up}"):
        response = client.get(f"{url}?{query}")
        # Refused: Django's admin answers a lookup it does not allow with a 400 (DisallowedModelAdminLookup).
        assert response.status_code == 400, query
        assert f"/admin/members/shopreport/{anonymous.pk}/change/" not in response.content.decode(), query
    # The household itself sees its anonymous report and the answer.
    member_client = Client()
    member_client.force_login(alice.user)
    reports.answer_report(anonymous, answer="Nous avons appelé la boutique.", by=make_coordinator("coord-2"))
    body = member_client.get("/portal/reports/").content.decode()
    assert "Anonyme" in body and "Nous avons appelé la boutique." in body


def test_the_migration_re_keys_reports_written_with_the_old_per_household_digest(settings, shop):
    import hashlib
    import hmac
    from importlib import import_module

    from django.apps import apps

    migration = import_module("members.migrations.0017_anonymous_reports_salted")
    alice = make_member("F-0405")
    old = hmac.new(settings.SECRET_KEY.encode(), f"shop-report:{alice.household.pk}".encode(), hashlib.sha256).hexdigest()
    named = ShopReport.objects.create(household=alice.household, category="other", description="n", follow_up=old)
    anonymous = ShopReport.objects.create(anonymous=True, category="other", description="a", follow_up=old)
    orphan = ShopReport.objects.create(anonymous=True, category="other", description="o", follow_up="f" * 64)

    migration.salt_anonymous_reports(apps, None)

    named.refresh_from_db(), anonymous.refresh_from_db(), orphan.refresh_from_db()
    assert named.follow_up == "" and orphan.follow_up == ""
    assert anonymous.follow_up not in ("", old) and len(anonymous.follow_up_salt) == 32
    assert {r.pk for r in reports.reports_of(alice.household)} == {named.pk, anonymous.pk}
