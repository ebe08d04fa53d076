"""Issue 19: every person's journey in Chromium, through the real sign-in (the second
factor for staff), axe-core on every page opened (any violation fails), a screenshot of
each page kept under test-output/journeys for people to look at.

360 px for the public, member, terminal and committee pages; 1280 px for coordination."""

import pytest

from .browser_checks import visit

pytestmark = pytest.mark.browser


def test_the_applicant_from_the_home_page_to_the_confirmation(page, transactional_db):
    base = page.live_server_url
    page.goto(base + "/")
    visit(page, "applicant-1-home-360")
    page.get_by_role("link", name="Demander l’aide pour mon foyer").click()
    page.wait_for_url(base + "/apply/")
    visit(page, "applicant-2-form-360")

    page.get_by_role("button", name="Envoyer ma demande").click()  # nothing filled in: the summary first
    summary = page.get_by_test_id("error-summary")
    summary.wait_for()
    visit(page, "applicant-3-errors-360")
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_first_name"

    page.get_by_label("Prénom").fill("Awa")
    page.get_by_label("Téléphone").fill("06 12 34 56 78")
    page.get_by_label("Adresse postale").fill("3 rue des Lilas")
    page.get_by_label("Code postal").fill("34000")
    page.locator("[name=income_bracket]").first.check()
    page.locator("[name=age_bracket]").first.check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.locator("#application-number").wait_for()
    visit(page, "applicant-4-confirmation-360")


def test_the_public_pages_a_shop_and_a_developer_open(page, transactional_db):
    base = page.live_server_url
    page.goto(base + "/")
    page.get_by_role("link", name="Un commerce qui veut rejoindre la caisse").click()
    page.wait_for_url(base + "/vendor/apply/")
    visit(page, "shop-apply-360")
    page.goto(base + "/api/v1/docs/")
    visit(page, "api-reference-360")
    page.goto(base + "/nulle-part/")
    visit(page, "not-found-360")
