"""Roles: one module decides; groups hold exactly their permissions; nothing skips the
second factor; each person lands where their work is."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from allocations import approvals
from allocations.models import Transfer, TransferKind
from users import roles, second_factor
from users.models import ActivationCode, SecondFactorReset, User

from .member_fixtures import PASSWORD, make_member
from .settlement_fixtures import fund_treasury
from .staff import log_in_staff
from .vendor_fixtures import make_staff, make_user, make_vendor

pytestmark = pytest.mark.django_db


def coordinator(username="coord-x"):
    """A coordinator as another coordinator makes one in the admin: the group, no flags."""
    user = make_user(username, roles.COORDINATOR)
    assert not user.is_staff and not user.is_superuser
    return user


def log_in(client, login, password=PASSWORD):
    return client.post("/accounts/login/", {"login": login, "password": password})


# --- The groups ------------------------------------------------------------------------


def test_a_fresh_database_gives_each_group_exactly_its_permissions():
    held = set(
        Group.objects.get(name=roles.COORDINATOR).permissions.values_list("content_type__app_label", "codename")
    )
    wanted = {
        (app, f"{action}_{model}")
        for app, models in roles.GROUP_PERMISSIONS[roles.COORDINATOR].items()
        for model, actions in models.items()
        for action in actions
    }
    assert held == wanted
    assert ("members", "change_household") in held and ("allocations", "add_grant") in held
    assert not any(codename.startswith("delete_") and app != "vendors" for app, codename in held)
    # A secret ballot stays secret from those who run the fund.
    assert not any(app == "governance" and codename.endswith(("ballot", "votehistory", "receipt", "elector"))
                   for app, codename in held)
    assert not Group.objects.get(name=roles.VOLUNTEER).permissions.exists()


COORDINATION_PAGES = [
    "/coordination/", "/coordination/approvals/", "/coordination/grants/", "/coordination/books/",
    "/coordination/research/", "/coordination/settlements/", "/coordination/direct-debits/",
    "/coordination/audit/", "/desk/", "/admin/",
]


def test_a_coordinator_who_is_not_a_superuser_does_every_coordinator_task(client, ledger_is_clean):
    first, second = coordinator("coord-a"), coordinator("coord-b")
    log_in_staff(client, second)
    for url in COORDINATION_PAGES:
        assert client.get(url).status_code == 200, url
    for app, models in roles.GROUP_PERMISSIONS[roles.COORDINATOR].items():
        for model in models:
            url = reverse(f"admin:{app}_{model}_changelist")
            assert client.get(url).status_code == 200, url

    # The writes of the work: a grant recorded, a reversal asked by one and approved by the other.
    response = client.post(
        "/coordination/grants/",
        {"funder_type": "city", "funder_name": "Ville", "reference": "G-1", "promised_on": "2026-01-05",
         "amount_euros": "1000", "period_start": "2026-01-01", "period_end": "2026-12-31", "earmark": "", "notes": ""},
    )
    assert response.status_code in (200, 302)
    fund_treasury()
    from allocations import ledger
    from allocations.models import AccountKind

    member = make_member("F-1", balance=5_000)
    # An allocation credited twice by hand: no object owns it, the generic reversal undoes it.
    transfer = ledger.transfer(debit=ledger.system_account(AccountKind.ISSUANCE), credit=member.household.wallet_id,
                               amount=1_000, kind=TransferKind.ALLOCATION).transfer
    approval = approvals.request_reversal(transfer.pk, by=first, reason="crédité deux fois")
    client.post(f"/coordination/approvals/{approval.pk}/", {"decision": "approve"})
    assert Transfer.objects.filter(reverses=transfer).exists()
    household_url = reverse("admin:members_household_change", args=[member.household.pk])
    assert client.get(household_url).status_code == 200
    ledger_is_clean()


def test_who_is_who():
    member = make_member("F-0001")
    volunteer = make_user("benevole", roles.VOLUNTEER)
    coord = coordinator()
    shop_staff = make_staff(make_vendor("boulangerie"))
    assert [roles.is_coordinator(u) for u in (member.user, volunteer, coord, shop_staff)] == [False, False, True, False]
    assert [roles.may_use_desk(u) for u in (member.user, volunteer, coord, shop_staff)] == [False, True, True, False]
    assert [roles.requires_second_factor(u) for u in (member.user, volunteer, coord, shop_staff)] == [
        False, True, True, False]
    assert roles.is_vendor_staff(shop_staff) and roles.is_member(member.user)
    assert list(roles.coordinators()) == [coord]


# --- Landing and the header ---------------------------------------------------------------


def test_each_person_lands_where_their_work_is(client):
    from django.utils import timezone

    from governance.models import CommitteeMembership

    member = make_member("F-0002")
    assert log_in(client, member.user.username)["Location"] == "/portal/"
    client.logout()
    seat = make_user("comite")
    seat.set_password(PASSWORD)
    seat.save()
    CommitteeMembership.objects.create(user=seat, role="member", starts_on=timezone.localdate())
    assert log_in(client, "comite")["Location"] == "/committee/"
    client.logout()
    assert roles.landing_url(make_user("benevole", roles.VOLUNTEER)) == "/desk/"
    assert roles.landing_url(coordinator()) == "/coordination/"
    assert roles.landing_url(make_staff(make_vendor("primeur"))) == "/vendor/terminal/"


def test_the_header_offers_only_the_spaces_a_person_has(client):
    member = make_member("F-0003")
    client.force_login(member.user)
    page = client.get("/portal/").content.decode()
    assert 'data-space="portal"' in page
    assert 'data-space="coordination"' not in page and 'data-space="desk"' not in page
    log_in_staff(client, make_user("benevole", roles.VOLUNTEER))
    page = client.get("/desk/").content.decode()
    assert 'data-space="desk"' in page and 'data-space="coordination"' not in page and 'data-space="admin"' not in page


# --- Nothing skips the second factor --------------------------------------------------------


def test_a_staff_session_that_skipped_the_code_is_signed_out(client):
    coord = coordinator()
    TOTP.activate(coord, generate_totp_secret())
    client.force_login(coord)  # what a login outside allauth's stages looks like
    response = client.get("/coordination/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_staff_who_are_also_members_still_meet_the_second_factor(client):
    for role in (roles.VOLUNTEER, roles.COORDINATOR):
        member = make_member(f"F-01{len(role)}")
        member.user.groups.add(Group.objects.get(name=role))
        response = log_in(client, member.user.username)
        assert response.status_code == 302
        # Signed in with the password, the person is sent to set the factor up, not to a page.
        for url in ("/portal/", "/desk/", response["Location"]):
            assert client.get(url)["Location"] == "/accounts/2fa/totp/activate/", url
        # Allauth asks for the password again first: the funnel lets that through (no loop).
        to_confirm = client.get("/accounts/2fa/totp/activate/")
        assert to_confirm["Location"].startswith("/accounts/reauthenticate/")
        assert client.get(to_confirm["Location"]).status_code == 200
        client.logout()


def test_a_login_cannot_be_attached_to_another_person_in_the_admin(client):
    coord = coordinator()
    member = make_member("F-0004")
    other = make_member("F-0005")
    log_in_staff(client, coord)
    url = reverse("admin:members_person_change", args=[member.person.pk])
    assert 'name="user"' not in client.get(url).content.decode()
    client.post(url, {"household": member.household.pk, "first_name": "X", "last_name": "Y", "user": coord.pk})
    member.person.refresh_from_db()
    assert member.person.user_id == member.user.pk
    assert other.person.user_id == other.user.pk


def test_activation_letters_are_for_members_only(client):
    from members.models import Person

    coord, volunteer = coordinator(), make_user("benevole", roles.VOLUNTEER)
    member = make_member("F-0006")
    Person.objects.filter(pk=member.person.pk).update(user=volunteer)  # however it came to be
    log_in_staff(client, coord)
    response = client.post(
        reverse("admin:members_person_changelist"),
        {"action": "activation_letters", "_selected_action": [member.person.pk]},
        follow=True,
    )
    assert "réservées aux membres" in response.content.decode()
    assert not ActivationCode.objects.filter(user=volunteer).exists()


def test_a_coordinator_cannot_raise_their_own_rights_or_set_a_staff_password(client):
    coord, other = coordinator("coord-a"), coordinator("coord-b")
    log_in_staff(client, coord)
    url = reverse("admin:users_user_change", args=[coord.pk])
    page = client.get(url).content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
    client.post(url, {"username": coord.username, "is_active": "on", "is_superuser": "on",
                      "groups": [Group.objects.get(name=roles.COORDINATOR).pk]})
    coord.refresh_from_db()
    assert not coord.is_superuser
    assert client.get(f"/admin/users/user/{other.pk}/password/").status_code == 403
    member = make_member("F-0007")
    assert client.get(f"/admin/users/user/{member.user.pk}/password/").status_code == 200


# --- A lost phone ------------------------------------------------------------------------------


def test_a_second_coordinator_resets_a_factor_recorded_and_told(mail_after_commit):
    lost, other = coordinator("coord-a"), coordinator("coord-b")
    lost.email = "a@example.org"
    lost.save()
    TOTP.activate(lost, generate_totp_secret())
    with pytest.raises(ValidationError):
        second_factor.reset(user=lost, by=lost)
    with pytest.raises(PermissionDenied):
        second_factor.reset(user=lost, by=make_user("benevole", roles.VOLUNTEER))
    with mail_after_commit():  # by the mail task, after the commit (kernel.mail)
        second_factor.reset(user=lost, by=other)
    assert not Authenticator.objects.filter(user=lost).exists()
    assert SecondFactorReset.objects.get(user=lost).by == other
    assert mail.outbox[-1].to == ["a@example.org"] and "coord-b" in mail.outbox[-1].body
    with pytest.raises(ValidationError):
        second_factor.reset(user=lost, by=other)  # nothing left to reset


# --- Desk computers ----------------------------------------------------------------------------


def test_closing_the_desk_signs_the_volunteer_out(client):
    log_in_staff(client, make_user("benevole", roles.VOLUNTEER))
    client.get("/desk/")
    client.post("/desk/open/")
    response = client.post("/desk/close/", {"counted_cash": "0"})
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


# --- The demo's codes --------------------------------------------------------------------------


def test_demo_totp_prints_the_code_of_demo_accounts_only(capsys):
    secret = generate_totp_secret()
    demo = make_user("coordination")
    User.objects.filter(pk=demo.pk).update(is_demo=True)
    TOTP.activate(demo, secret)
    real = make_user("coordination-reelle", roles.COORDINATOR)
    TOTP.activate(real, generate_totp_secret())

    call_command("demo_totp", "coordination")
    assert capsys.readouterr().out.strip() == second_factor.current_code(secret)
    with pytest.raises(CommandError, match="démonstration"):
        call_command("demo_totp", "coordination-reelle")
    with pytest.raises(CommandError):
        call_command("demo_totp", "personne")
