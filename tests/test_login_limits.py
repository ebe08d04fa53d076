"""Limits on signing in that fit a fund (issue 17): one count per account whatever form of
its identifier is typed, the member's address behind a trusted proxy, and a meeting of 60
members on one Wi-Fi all signed in."""

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.utils import timezone

from kernel.web import client_address

from .member_fixtures import PASSWORD, make_member

pytestmark = pytest.mark.django_db


def sign_in(client, login, password, address="192.0.2.10", **headers):
    return client.post("/accounts/login/", {"login": login, "password": password}, REMOTE_ADDR=address, **headers)


def signed_in(response) -> bool:
    return response.status_code == 302


def test_one_limit_per_account_whatever_form_of_the_identifier_was_typed():
    member = make_member("F-0011")
    spaced = " ".join(member.card.number[i:i + 4] for i in range(0, 16, 4))
    typed = [member.user.username.upper(), f" {member.user.username} ", member.card.number, spaced,
             member.user.username.title()]
    client = Client()
    for login in typed:  # five wrong passwords, under five spellings of one account
        response = sign_in(client, login, "pas-le-bon-mot")
        assert response.status_code == 200 and "Trop de" not in response.content.decode(), login
    refused = sign_in(client, member.user.username, PASSWORD)
    assert not signed_in(refused) and "Trop de" in refused.content.decode()
    # Other accounts, from the same address, are not held back by it.
    other = make_member("F-0012")
    assert signed_in(sign_in(Client(), other.user.username, PASSWORD))


def test_sixty_members_signing_in_from_one_address_within_five_minutes_all_succeed():
    members = [make_member(f"F-{n:04d}") for n in range(100, 160)]
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for n, member in enumerate(members):
            client = Client()
            # Half of them mistype their password first, as people do at a meeting.
            if n % 2:
                assert not signed_in(sign_in(client, member.user.username, "mot-de-passe-faux"))
            assert signed_in(sign_in(client, member.user.username.upper(), PASSWORD)), n
            clock.shift(1)  # all 60 within a minute, as at the start of a meeting


def test_the_address_comes_from_the_trusted_proxy_only(settings):
    factory = RequestFactory()
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    behind = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    assert client_address(behind) == "203.0.113.7"  # what the proxy appended, not what the client wrote
    forged = factory.get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client_address(forged) == "198.51.100.9"  # not from the proxy: the header is ignored
    chained = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.8, 10.1.1.1")
    assert client_address(chained) == "203.0.113.8"
    settings.TRUSTED_PROXIES = []
    assert client_address(behind) == "10.0.0.2"


def test_behind_the_proxy_each_members_failures_count_on_their_own_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    members = [make_member(f"F-{n:04d}") for n in range(200, 204)]
    # One address guesses at many accounts: stopped after the per-address limit...
    for n in range(60):
        sign_in(Client(), f"personne-{n}", "devine", address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.66")
    blocked = sign_in(Client(), members[0].user.username, PASSWORD, address="10.0.0.2",
                      HTTP_X_FORWARDED_FOR="198.51.100.66")
    assert not signed_in(blocked)
    # ...while members behind the same proxy, from their own addresses, sign in.
    for n, member in enumerate(members):
        assert signed_in(sign_in(Client(), member.user.username, PASSWORD, address="10.0.0.2",
                                 HTTP_X_FORWARDED_FOR=f"203.0.113.{n + 1}"))
