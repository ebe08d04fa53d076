"""Keys apart (issue 17): rotating SECRET_KEY changes no PIN, no activation letter, no
report digest and no research pseudonym; production refuses to start without the keys of
their own."""

import hashlib
import hmac
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from coordination import research
from members import cards, reports
from members.logins import create_login_with_letter
from members.models import Person
from users import activation
from users.models import ActivationCode

from .member_fixtures import make_member
from .test_deployment import PRODUCTION_ENV

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def test_rotating_secret_key_keeps_pins_reports_and_letters(settings):
    alice = make_member("F-0501", pin="1357")
    report = reports.report_problem(household=alice.household, category="other", description="x", anonymous=True)
    person = Person.objects.create(household=alice.household, first_name="Awa")
    username, code = create_login_with_letter(person)
    pseudonym = research.pseudonym(alice.household.pk)

    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-brand-new-secret-key-after-rotation-0123456789-abcdefghij"
    assert cards.authorize(alice.card.number, "1357").card_id == alice.card.pk
    assert research.pseudonym(alice.household.pk) == pseudonym
    assert [r.pk for r in reports.reports_of(alice.household)] == [report.pk]
    user = activation.activate(username=username, code=code, password="Un-jardin-partage-2026")
    assert user.check_password("Un-jardin-partage-2026")


def test_a_letter_printed_before_codes_had_their_own_key_still_works(settings):
    alice = make_member("F-0502")
    person = Person.objects.create(household=alice.household, first_name="Awa")
    username, _code = create_login_with_letter(person)
    # As the code was stored before issue 17: keyed with SECRET_KEY.
    legacy_code = "ABCDE-FGHJK"
    legacy_hash = hmac.new(settings.SECRET_KEY.encode(), b"activation:ABCDEFGHJK", hashlib.sha256).hexdigest()
    ActivationCode.objects.filter(user__username=username).update(code_hash=legacy_hash, expires_at=timezone.now() + timezone.timedelta(days=1))
    assert activation.activate(username=username, code=legacy_code, password="Un-jardin-partage-2026")


def test_keys_of_their_own_are_not_derived_from_secret_key(settings):
    for name in ("PIN_HASH_KEY", "ACTIVATION_CODE_KEY", "REPORT_DIGEST_KEY", "RESEARCH_PSEUDONYM_KEY"):
        assert settings.SECRET_KEY not in getattr(settings, name)


def _production_pseudonym(household_id: int, **overrides) -> str:
    """The research pseudonym of a household as production's settings make it, read from
    the environment by a process of its own (as a restart after a rotation does)."""
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({**PRODUCTION_ENV, **overrides})
    result = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c",
                             f"from coordination import research; print(research.pseudonym({household_id}))"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_secret_key_rotation_keeps_the_research_pseudonyms_and_only_their_key_changes_them():
    before = _production_pseudonym(42)
    rotated = _production_pseudonym(42, SECRET_KEY="a-brand-new-secret-key-after-rotation-0123456789-abcdefghij",
                                    SECRET_KEY_FALLBACKS=PRODUCTION_ENV["SECRET_KEY"])
    assert len(before) == 20 and rotated == before
    assert _production_pseudonym(42, RESEARCH_PSEUDONYM_KEY="another-research-key-0123456789-abcdefghij") != before


def test_an_upgrade_keeps_the_pseudonyms_derived_before_the_key_of_their_own():
    # Before issue 17's follow-up the key was "research:" followed by SECRET_KEY: set to that,
    # the pseudonyms already handed to researchers stay the same.
    secret = PRODUCTION_ENV["SECRET_KEY"]
    legacy = hmac.new(f"research:{secret}".encode(), b"household:42", hashlib.sha256).hexdigest()[:20]
    assert _production_pseudonym(42, RESEARCH_PSEUDONYM_KEY=f"research:{secret}") == legacy


@pytest.mark.parametrize("missing", ["PIN_HASH_KEY", "ACTIVATION_CODE_KEY", "REPORT_DIGEST_KEY",
                                     "RESEARCH_PSEUDONYM_KEY"])
def test_production_refuses_to_start_without_a_key_of_its_own(missing):
    env = {k: v for k, v in os.environ.items()
           if k not in PRODUCTION_ENV and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({k: v for k, v in PRODUCTION_ENV.items() if k != missing})
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr
