"""Issue 19: a way in for each person — the home page, a navigation that hides nothing,
French 404 and 403 pages that say where to go."""

import pytest
from django.urls import reverse

from .governance_fixtures import make_committee
from .member_fixtures import make_member

pytestmark = pytest.mark.django_db


def test_the_home_page_leads_the_public_to_applying_signing_in_and_the_shops_form(client):
    body = client.get("/").content.decode()
    for url in (reverse("households:apply"), reverse("vendors:apply"), reverse("account_login")):
        assert f'href="{url}"' in body
    assert reverse("api-docs") not in body  # "Shops" no longer opens the English API reference
    assert 'href="#main"' in body and 'id="main"' in body  # the skip link


def test_a_missing_page_says_where_to_go_in_french(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Cette page n’existe pas" in body and f'href="{reverse("account_login")}"' in body


def test_a_refused_page_says_where_to_go_with_the_person_s_spaces(client):
    member = make_member("F-1900")
    client.force_login(member.user)
    response = client.get(reverse("vendors:terminal"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "Cette page ne vous est pas ouverte" in body and f'href="{reverse("members:portal")}"' in body


def test_a_committee_member_without_a_household_sees_no_dead_end_tabs(client):
    [seat] = make_committee(1, prefix="sans-foyer")
    client.force_login(seat)
    body = client.get(reverse("governance:home")).content.decode()
    assert f'href="{reverse("governance:register")}"' in body
    for url in (reverse("members:history"), reverse("members:cards"), reverse("households:my_data")):
        assert f'href="{url}"' not in body  # pages that would only answer "not linked to a household"


def test_the_member_s_tabs_all_show_and_the_spaces_are_one_tap_away(client):
    member = make_member("F-1901")
    client.force_login(member.user)
    body = client.get(reverse("members:portal")).content.decode()
    for url in (reverse("members:cards"), reverse("households:my_contribution"), reverse("households:my_data"),
                reverse("members:reports")):
        assert f'href="{url}"' in body


def test_every_page_carries_the_content_security_and_permissions_policies(client):
    for url in ("/", "/api/v1/docs/", "/accounts/login/"):
        response = client.get(url)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "object-src 'none'" in policy
        assert "camera=(self)" in response.headers["Permissions-Policy"]


def test_no_template_carries_inline_script_or_style_that_the_policy_would_block():
    """The Content-Security-Policy forbids inline script and style: a handler written in a
    template (onclick=…) or a style attribute would silently do nothing in the browser."""
    import re
    from pathlib import Path

    inline = re.compile(r"""<script(?![^>]*\bsrc=)(?![^>]*type="application/json")[^>]*>|\son[a-z]+\s*=\s*["']|\sstyle\s*=\s*["']""")
    root = Path(__file__).resolve().parent.parent / "templates"
    found = [f"{path.relative_to(root)}: {match.group(0).strip()}"
             for path in sorted(root.rglob("*.html")) for match in inline.finditer(path.read_text())]
    assert found == []
