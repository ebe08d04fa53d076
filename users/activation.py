"""Accounts for members without e-mail: created by a coordinator, activated with a code on paper."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import roles
from .models import ActivationCode


def _refuse_staff(user) -> None:
    # A letter sets a password that anyone at the mailbox can use: members only. Staff
    # sign in with a password and a second factor, set up at their first sign-in.
    if roles.requires_second_factor(user):
        raise ValidationError(
            _("Activation letters are for members only: %(user)s is staff and signs in with a second factor.")
            % {"user": user.get_username()},
            code="staff",
        )

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L to misread on paper
CODE_LENGTH = 10  # about 49 bits: out of reach of guessing under the login rate limit
VALID_FOR = timedelta(days=60)


def _hash(code: str, key: str | None = None) -> str:
    normalized = code.replace(" ", "").replace("-", "").upper()
    key = settings.ACTIVATION_CODE_KEY if key is None else key
    return hmac.new(key.encode(), f"activation:{normalized}".encode(), hashlib.sha256).hexdigest()


def _accepted_hashes(code: str) -> list[str]:
    # Letters printed before the codes had a key of their own were hashed with
    # SECRET_KEY (or a key it has since replaced): still good until they expire, so a
    # member with such a letter is not sent back to the desk.
    legacy = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return [_hash(code), *(_hash(code, key) for key in legacy)]


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


@transaction.atomic
def issue_activation(*, user, by=None) -> str:
    """A fresh code for `user` (earlier unused ones stop working); returns it for the letter."""
    _refuse_staff(user)
    ActivationCode.objects.filter(user=user, used_at__isnull=True).update(expires_at=timezone.now())
    code = _new_code()
    ActivationCode.objects.create(user=user, code_hash=_hash(code), expires_at=timezone.now() + VALID_FOR, created_by=by)
    return code


@transaction.atomic
def create_login(*, username: str, first_name: str = "", last_name: str = "", phone: str = "", by=None):
    """A login with no usable password yet, and its activation code."""
    user = get_user_model().objects.create_user(
        username=username, first_name=first_name, last_name=last_name, phone=phone, password=None
    )
    return user, issue_activation(user=user, by=by)


@transaction.atomic
def activate(*, username: str, code: str, password: str):
    """Set the password with a valid code; the code then stops working."""
    User = get_user_model()
    user = User.objects.filter(username__iexact=(username or "").strip()).first()
    activation = (
        ActivationCode.objects.select_for_update()
        .filter(user=user, code_hash__in=_accepted_hashes(code or ""), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
        if user is not None
        else None
    )
    if activation is None:
        raise ValidationError(_("This user name and code do not match, or the code has expired. The desk can print a new one."))
    _refuse_staff(user)
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    activation.used_at = timezone.now()
    activation.save(update_fields=["used_at"])
    return user
