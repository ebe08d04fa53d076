"""Staff sign in in Chromium through the real forms: the second factor set up from the
secret the page shows, then asked at every sign-in, whichever way in.

No `force_login` and no authenticator written to the database here: each person sets
their factor up as a new coordinator or volunteer would. The clock is frozen while a
code is computed and typed (a code changes every 30 s, and allauth refuses a code used
twice), and moved on by hand to the next code or past the idle timeout.
"""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import mail

from users import roles, second_factor
from users.models import SecondFactorReset, User

from .browser_checks import axe_clean

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Sésame-de-coordination-42"


@pytest.fixture
def clock():
    # Mid-period, so that typing a code never crosses into the next one.
    start = datetime.now(UTC).replace(second=10, microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def staff(username, role, **fields):
    user = User.objects.create_user(username=username, password=PASSWORD, **fields)
    user.groups.add(Group.objects.get(name=role))
    return user


def submit(page):
    page.locator("main form button").first.click()


def sign_in(page, username, password=PASSWORD, path="/accounts/login/"):
    page.goto(page.live_server_url + path)
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    submit(page)


def sign_out(page):
    page.locator("header form[action='/accounts/logout/'] button").click()
    page.wait_for_url(re.compile(r"/$"))


def set_up_totp(page, password=PASSWORD):
    """From the first sign-in: confirm the password once, set the app up, keep the codes."""
    page.wait_for_url("**/accounts/reauthenticate/**")
    axe_clean(page)  # allauth's second-factor pages, as every page (issue 19)
    page.fill("input[name=password]", password)
    submit(page)
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    axe_clean(page)
    assert page.locator("main img[src^='data:image/svg+xml']").count() == 1  # the QR code
    secret = page.input_value("#authenticator_secret")  # and the secret, as text
    page.fill("input[name=code]", second_factor.current_code(secret))
    submit(page)
    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    axe_clean(page)
    codes = page.input_value("#recovery_codes").split()
    assert len(codes) == 10
    page.click("#continue")
    return secret, codes


def type_code(page, code):
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    axe_clean(page)
    page.fill("input[name=code]", code)
    submit(page)


def next_code(clock, secret):
    clock.shift(timedelta(seconds=30))  # allauth refuses a code already used
    return second_factor.current_code(secret)


def spaces_offered(page):
    return set(page.locator("header [data-space]").evaluate_all("links => links.map(l => l.dataset.space)"))


def test_a_new_coordinator_sets_up_a_second_factor_then_signs_in_with_a_code_or_a_recovery_code(page, clock):
    coordinator = staff("camille", roles.COORDINATOR)
    assert not coordinator.is_superuser and not coordinator.is_staff

    sign_in(page, "camille")
    secret, codes = set_up_totp(page)
    page.wait_for_url("**/coordination/")
    assert spaces_offered(page) == {"coordination", "desk", "admin"}
    assert page.locator("main h1").count() == 1

    sign_out(page)
    sign_in(page, "camille")
    assert page.url.endswith("/accounts/2fa/authenticate/")
    page.goto(page.live_server_url + "/coordination/")  # the password alone opens nothing
    assert "/accounts/2fa/authenticate/" in page.url
    type_code(page, next_code(clock, secret))
    page.wait_for_url("**/coordination/")

    sign_out(page)
    sign_in(page, "camille")
    type_code(page, codes[0])  # the phone left at home
    page.wait_for_url("**/coordination/")


def test_a_new_volunteer_lands_on_the_desk_and_an_idle_session_is_signed_out(page, clock):
    staff("sami", roles.VOLUNTEER)
    sign_in(page, "sami")
    secret, _codes = set_up_totp(page)
    page.wait_for_url("**/desk/")
    assert spaces_offered(page) == {"desk"}
    page.goto(page.live_server_url + "/coordination/")
    assert page.locator("h1").inner_text() != ""  # 403 for a volunteer, not a sign-in page
    assert "/accounts/login/" not in page.url

    clock.shift(timedelta(seconds=settings.STAFF_IDLE_TIMEOUT + 60))
    page.goto(page.live_server_url + "/desk/")
    page.wait_for_url(re.compile(r"/accounts/login/\?next=%2Fdesk%2F$"))
    assert "sans activité" in page.locator(".messages").inner_text()
    page.fill("input[name=login]", "sami")  # the sign-in page, on the way back to the desk
    page.fill("input[name=password]", PASSWORD)
    submit(page)
    type_code(page, next_code(clock, secret))
    page.wait_for_url("**/desk/")


def test_the_admin_login_and_a_password_reset_each_ask_for_the_code(page, clock):
    staff("noor", roles.COORDINATOR, email="noor@example.org")
    sign_in(page, "noor")
    secret, _codes = set_up_totp(page)
    sign_out(page)

    page.goto(page.live_server_url + "/admin/")
    page.wait_for_url(re.compile(r"/accounts/login/\?next=%2Fadmin%2F$"))
    sign_in(page, "noor", path="/accounts/login/?next=/admin/")
    type_code(page, next_code(clock, secret))
    page.wait_for_url("**/admin/")
    assert page.locator("#site-name").count() == 1
    sign_out_of_admin = page.locator("#logout-form button")
    sign_out_of_admin.click()

    page.goto(page.live_server_url + "/accounts/password/reset/")
    page.fill("input[name=email]", "noor@example.org")
    submit(page)
    page.wait_for_url("**/accounts/password/reset/done/")
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mail.outbox[-1].body).group(0)
    page.goto(page.live_server_url + urlparse(link).path)
    new_password = "Un-tout-nouveau-sésame-77"
    page.fill("input[name=password1]", new_password)
    page.fill("input[name=password2]", new_password)
    submit(page)
    page.goto(page.live_server_url + "/coordination/")
    assert "/accounts/login/" in page.url  # the reset signed nobody in
    sign_in(page, "noor", new_password)
    type_code(page, next_code(clock, secret))
    page.wait_for_url("**/coordination/")


def test_an_activation_letter_never_signs_staff_in(page, clock):
    from members.logins import create_login_with_letter
    from members.models import Person

    from .member_fixtures import make_member

    member = make_member("F-0300")
    person = Person.objects.get(user=member.user)
    username, code = create_login_with_letter(person)  # a letter printed while a member
    member.user.groups.add(Group.objects.get(name=roles.VOLUNTEER))  # then made a volunteer

    page.goto(page.live_server_url + "/accounts/activate/")
    page.fill("input[name=username]", username)
    page.fill("input[name=code]", code)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    submit(page)
    assert "réservées aux membres" in page.locator("main").inner_text()
    page.goto(page.live_server_url + "/desk/")
    assert "/accounts/login/" in page.url


def test_a_second_coordinator_resets_a_lost_phone_and_a_new_factor_is_set_up(page, clock, browser, live_server,
                                                                             tasks_run_at_once):
    lost = staff("ines", roles.COORDINATOR, email="ines@example.org")
    sign_in(page, "ines")
    old_secret, _codes = set_up_totp(page)
    page.wait_for_url("**/coordination/")

    # The second coordinator, in another browser, resets Inès's factor in the admin.
    other = browser.new_context(locale="fr-FR").new_page()
    staff("hugo", roles.COORDINATOR)
    other.live_server_url = live_server.url
    clock.shift(timedelta(seconds=30))
    sign_in(other, "hugo")
    set_up_totp(other)
    other.goto(live_server.url + "/admin/users/user/")
    other.check(f"input[name=_selected_action][value='{lost.pk}']")
    other.select_option("select[name=action]", "reset_second_factor")
    other.locator("button[name=index]").click()
    other.locator("ul.messagelist li.success").wait_for()
    other.context.close()
    assert SecondFactorReset.objects.get(user=lost).by.username == "hugo"
    assert mail.outbox[-1].to == ["ines@example.org"]

    page.goto(page.live_server_url + "/coordination/")  # the session open with the lost phone ends
    assert "/accounts/login/" in page.url
    sign_in(page, "ines")
    new_secret, _codes = set_up_totp(page)
    assert new_secret != old_secret
    page.wait_for_url("**/coordination/")
