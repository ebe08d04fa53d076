"""Members without e-mail get a login from a coordinator and activate it with a code on paper."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError

from members.logins import create_login_with_letter
from members.models import Household, Person
from members.notices import notify_payment
from members.services import create_household
from users.models import ActivationCode

from .member_fixtures import make_member
from .staff import log_in_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    household = create_household(reference="F-0042", status=Household.Status.ACTIVE)
    return Person.objects.create(household=household, first_name="Aïcha", last_name="Diallo")


def test_coordinator_creates_logins_and_prints_letters_from_the_admin(client, person):
    coordinator = get_user_model().objects.create_superuser("coord", password="x-long-enough-1")
    TOTP.activate(coordinator, generate_totp_secret())
    log_in_staff(client, coordinator)
    response = client.post(
        "/admin/members/person/", {"action": "activation_letters", "_selected_action": [person.pk]}
    )
    assert response.status_code == 200
    person.refresh_from_db()
    body = response.content.decode()
    assert person.user is not None and person.user.username in body
    assert not person.user.has_usable_password()
    assert "/accounts/activate/" in body
    assert ActivationCode.objects.filter(user=person.user, used_at__isnull=True).count() == 1


def test_a_member_activates_with_the_code_once_then_logs_in(client, person):
    username, code = create_login_with_letter(person)
    response = client.post(
        "/accounts/activate/",
        {"username": username, "code": code.lower(), "password1": "Mon-jardin-2026", "password2": "Mon-jardin-2026"},
    )
    assert response.status_code == 302 and response["Location"] == "/portal/"
    client.logout()
    again = client.post(
        "/accounts/activate/",
        {"username": username, "code": code, "password1": "Autre-chose-2026", "password2": "Autre-chose-2026"},
    )
    assert again.status_code == 400 and "le code a expiré" in again.content.decode()
    assert client.post("/accounts/login/", {"login": username, "password": "Mon-jardin-2026"}).status_code == 302


def test_a_wrong_code_is_refused_in_french_and_changes_nothing(client, person):
    username, code = create_login_with_letter(person)
    response = client.post(
        "/accounts/activate/",
        {"username": username, "code": "AAAAA-BBBBB", "password1": "Mon-jardin-2026", "password2": "Mon-jardin-2026"},
    )
    assert response.status_code == 400
    assert "ne correspondent pas" in response.content.decode()
    person.refresh_from_db()
    assert not person.user.has_usable_password()


def test_guessing_codes_is_rate_limited(client, person):
    username, code = create_login_with_letter(person)
    for attempt in range(6):
        client.post("/accounts/activate/", {"username": username, "code": f"WRONG-{attempt}", "password1": "Mon-jardin-2026", "password2": "Mon-jardin-2026"})
    response = client.post(
        "/accounts/activate/", {"username": username, "code": code, "password1": "Mon-jardin-2026", "password2": "Mon-jardin-2026"}
    )
    assert "Trop d" in response.content.decode()
    person.refresh_from_db()
    assert not person.user.has_usable_password()


def test_a_new_letter_voids_the_old_code(person):
    from users import activation

    username, first = create_login_with_letter(person)
    _same, second = create_login_with_letter(person)
    with pytest.raises(ValidationError):
        activation.activate(username=username, code=first, password="Mon-jardin-2026")
    assert activation.activate(username=username, code=second, password="Mon-jardin-2026")


def test_members_who_ask_get_an_email_for_each_payment(client, mail_after_commit):
    member = make_member("F-0077", email="nadia@example.org", balance=5_000)
    assert notify_payment(wallet_id=member.household.wallet_id, amount=1_250, shop="Biocoop") == 0
    client.force_login(member.user)
    client.post("/portal/history/", {"email_each_payment": "on"})
    with mail_after_commit():
        assert notify_payment(wallet_id=member.household.wallet_id, amount=1_250, shop="Biocoop") == 1
    assert mail.outbox[-1].to == ["nadia@example.org"]
    assert "12,50" in mail.outbox[-1].subject and "Biocoop" in mail.outbox[-1].subject
