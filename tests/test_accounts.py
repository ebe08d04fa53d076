"""Logging in: by any identifier a member has, rate-limited, with a second factor for staff."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from users import roles

from .member_fixtures import PASSWORD, make_member

pytestmark = pytest.mark.django_db


def log_in(client, login, password=PASSWORD):
    return client.post("/accounts/login/", {"login": login, "password": password})


@pytest.fixture
def member():
    return make_member("F-0100", email="nadia@example.org", phone="06 12 34 56 78")


@pytest.mark.parametrize(
    "identifier",
    ["user-f-0100", "nadia@example.org", "NADIA@example.org", "0612345678", "+33 6 12 34 56 78", "card"],
)
def test_a_member_logs_in_with_username_email_phone_or_card_number(client, member, identifier):
    if identifier == "card":
        identifier = member.card.display_number
    response = log_in(client, identifier)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/portal/"
    assert client.get("/portal/").context["household"] == member.household


def test_a_wrong_password_is_refused_in_french(client, member):
    response = log_in(client, "nadia@example.org", "pas-le-bon")
    assert response.status_code == 200
    assert "incorrect" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session


def test_a_blocked_cards_number_no_longer_logs_in(client, member):
    from members import cards

    cards.replace_card(member.card)
    assert log_in(client, member.card.number).status_code == 200
    assert "_auth_user_id" not in client.session


def test_login_attempts_are_rate_limited(client, member):
    for _attempt in range(5):
        log_in(client, "user-f-0100", "faux")
    response = log_in(client, "user-f-0100")  # even the right password, once limited
    assert "_auth_user_id" not in client.session
    assert "Trop de tentatives de connexion" in response.content.decode()


def test_nobody_signs_up_alone(client):
    response = client.post(
        "/accounts/signup/", {"username": "x", "email": "x@example.org", "password1": "Zz9!long-pass", "password2": "Zz9!long-pass"}
    )
    assert not get_user_model().objects.filter(username="x").exists()
    assert response.status_code in (200, 302, 403)


@pytest.fixture
def coordinator():
    user = get_user_model().objects.create_user(username="coord", password=PASSWORD, is_staff=True, is_superuser=True)
    user.groups.add(Group.objects.get_or_create(name=roles.COORDINATOR)[0])
    return user


def test_staff_without_a_second_factor_is_sent_to_set_one_up_everywhere(client, coordinator):
    client.force_login(coordinator)
    for url in ("/admin/", "/admin/members/household/", "/portal/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/totp/activate/"), url


def test_volunteer_also_needs_a_second_factor(client):
    volunteer = get_user_model().objects.create_user(username="desk", password=PASSWORD)
    volunteer.groups.add(Group.objects.get_or_create(name=roles.VOLUNTEER)[0])
    client.force_login(volunteer)
    assert client.get("/portal/")["Location"].startswith("/accounts/2fa/totp/activate/")


def test_admin_login_goes_through_allauth_and_asks_for_the_second_factor(client, coordinator):
    secret = generate_totp_secret()
    TOTP.activate(coordinator, secret)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    response = log_in(client, "coord")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/admin/").status_code == 302  # not logged in until the code is given

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert Authenticator.objects.filter(user=coordinator, type=Authenticator.Type.TOTP).exists()


def test_a_member_without_staff_rights_never_reaches_the_admin(client, member):
    client.force_login(member.user)
    assert client.get("/admin/", follow=True).status_code == 403


def test_vendor_staff_land_on_their_terminal_after_login(client):
    from vendors.models import Vendor, VendorStaff
    from vendors.services import register_vendor

    vendor = register_vendor(slug="boulangerie", display_name="Boulangerie", kind=Vendor.Kind.BAKERY)
    staff = get_user_model().objects.create_user(username="boulanger", password=PASSWORD)
    VendorStaff.objects.create(user=staff, vendor=vendor)
    response = log_in(client, "boulanger")
    assert response.status_code == 302 and response["Location"] == "/vendor/terminal/"
