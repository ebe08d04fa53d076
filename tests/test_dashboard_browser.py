"""The dashboard in Chromium, on a phone-sized screen, with a small fund."""

import pytest

from tests.dashboard_fixtures import small_fund

from .staff import log_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coordinator_reads_the_fund_at_a_glance(page, client):
    fund = small_fund()
    log_in_staff(client, fund["coordinators"][0])
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": page.live_server_url}])
    page.goto(page.live_server_url + "/coordination/")
    assert page.get_by_test_id("grants").inner_text().replace("\u202f", " ").replace("\xa0", " ") == "1 000,00 €"
    assert page.get_by_test_id("owed").inner_text().startswith("3,00")
    assert page.locator("svg.chart").count() == 4
    assert page.locator("svg.chart rect.bar").count() == 4 * 12
    # Two households: the district, the kinds and both shops hidden (and the shops together).
    assert page.get_by_test_id("districts").get_by_test_id("suppressed").count() == 1
    assert page.get_by_test_id("vendor-kinds").get_by_test_id("suppressed").count() == 1
    assert page.get_by_test_id("shops").get_by_test_id("suppressed").count() == 3
    # Every table has its CSV.
    with page.expect_download() as download:
        page.locator("a[href$='trends.csv']").click()
    assert download.value.suggested_filename == "trends.csv"
    # Choosing a month shows the page for that month, its CSV links too (no button needed).
    month = page.locator("#dashboard-period option").nth(4).get_attribute("value")
    page.select_option("#dashboard-period", month)
    page.wait_for_url(f"**/coordination/?period={month}")
    assert page.locator(f"a[href$='shops.csv?period={month}']").count() == 1
