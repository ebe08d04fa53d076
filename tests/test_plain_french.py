"""Issue 19 point 4: French where people read — admin actions and messages, approvals,
direct debits' headers — and nothing in the fund's catalogue left untranslated."""

import re
from pathlib import Path

import pytest
from django.utils import translation

from members.household_admin import DrawAdmin

PO = Path(__file__).resolve().parent.parent / "locale" / "fr" / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("english, french", [
    ("Run the draw", "Faire le tirage au sort"),
    ("Period", "Période"),
    ("Recorded at", "Enregistré le"),
    ("%(paid)s paid, %(carried)s carried over (no valid IBAN)", "%(paid)s payés, %(carried)s reportés (pas d’IBAN valide)"),
])
def test_the_words_coordinators_read_are_french(english, french):
    with translation.override("fr"):
        assert translation.gettext(english) == french


def test_the_admin_s_draw_action_is_named_in_french():
    with translation.override("fr"):
        labels = [str(getattr(DrawAdmin, name).short_description) for name in DrawAdmin.actions]
    assert "Faire le tirage au sort" in labels and "Run the draw" not in labels


def test_no_entry_of_the_catalogue_is_left_empty():
    text = PO.read_text(encoding="utf-8")
    empty = re.findall(r'^msgid "(.+)"\nmsgstr ""\n\n', text, re.M)
    assert empty == []


@pytest.mark.django_db
def test_member_pages_use_no_midpoint_forms(client):
    from .member_fixtures import make_member

    midpoint = re.compile(r"\w·\w")
    assert not midpoint.findall(client.get("/apply/").content.decode())
    member = make_member("F-1990")
    client.force_login(member.user)
    for url in ("/portal/", "/portal/my-data/", "/portal/my-contribution/", "/portal/cards/", "/portal/reports/"):
        assert not midpoint.findall(client.get(url).content.decode()), url
