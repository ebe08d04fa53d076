"""Browser tests in Debian's Chromium, at 360 px: the application form and the desk screen."""

import uuid

import pytest
from django.contrib.auth.models import Group

from members import enrolment
from members.models import ContributionPayment, Household
from users import roles
from users.models import User

from .staff import log_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_browser_apply_on_a_phone(page):
    page.goto(page.live_server_url + "/apply/")
    assert page.locator("h1").inner_text() == "Demander à rejoindre la caisse"
    assert fits_the_screen(page)
    page.click("form.stack button[type=submit]")  # empty: the errors say what is missing, nothing saved
    page.locator(".errorlist").first.wait_for()
    assert not Household.objects.exists()
    page.fill("#id_first_name", "Nadia")
    page.fill("#id_phone", "06 12 34 56 78")
    page.fill("#id_address", "4 rue des Écoles")
    page.fill("#id_postal_code", "34080")
    page.check("input[name=income_bracket][value=low]")
    page.check("input[name=age_bracket][value='30_44']")
    page.click("form.stack button[type=submit]")
    number = page.locator("#application-number").inner_text()
    household = Household.objects.get()
    assert number == household.reference and household.status == "applicant"
    assert fits_the_screen(page)


def test_browser_desk_takes_cash_and_prints_a_receipt_on_a_small_screen(page, client):
    volunteer = User.objects.create_user(username=f"vol-{uuid.uuid4().hex[:6]}", password="x")
    volunteer.groups.add(Group.objects.get_or_create(name=roles.VOLUNTEER)[0])
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(user=volunteer, type=Authenticator.Type.TOTP, data={"secret": "unused"})
    household = enrolment.apply(persons=[{"first_name": "Karim", "last_name": "Haddad"}], income_bracket="low", age_bracket="45_59")
    Household.objects.filter(pk=household.pk).update(monthly_contribution=4321)
    log_in_staff(client, volunteer)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": page.live_server_url}])

    page.goto(page.live_server_url + "/desk/")
    assert fits_the_screen(page)
    page.click("#cash-book button[type=submit]")  # open the desk
    page.fill("input[name=q]", "haddad")
    page.click("form[role=search] button")
    page.click(f"text={household.reference}")
    body = page.content()
    assert "43,21" not in body and "pauvreté" not in body
    page.fill("#id_amount", "5")
    page.click("#cash button[type=submit]")
    assert "000001" in page.locator("#receipt h1").inner_text()
    assert "5,00\u00a0€" in page.locator("#receipt").inner_text()
    assert fits_the_screen(page)
    assert ContributionPayment.objects.get().receipt_number == 1
