"""The second factor of staff: has this session passed it, and a coordinator's reset of it."""

from __future__ import annotations

import time

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kernel import fund_identity, mail

from . import roles
from .models import SecondFactorReset


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _mfa_records(request) -> list[dict]:
    return [r for r in get_authentication_records(request, request.user) if r.get("method") == "mfa"]


def passed(request) -> bool:
    """Whether this session's sign-in passed a second factor the person still has.

    A reset deletes the authenticators: every session that passed with them stops passing.
    """
    ids = [record.get("id") for record in _mfa_records(request)]
    return bool(ids) and Authenticator.objects.filter(user=request.user, pk__in=ids).exists()


def tried(request) -> bool:
    """Whether this session ever passed a second factor (even one since reset)."""
    return bool(_mfa_records(request))


@transaction.atomic
def reset(*, user, by) -> SecondFactorReset:
    """Remove `user`'s second factor (a lost phone): they set up a new one at next sign-in.

    A second coordinator does it, never the person for themselves; it is recorded, the
    person is told; their open sessions end at their next request (`passed` fails).
    """
    if not roles.is_coordinator(by):
        raise PermissionDenied(_("Only a coordinator may reset a second factor."))
    if by.pk == user.pk:
        raise ValidationError(_("Another coordinator must reset your second factor."), code="self")
    if not Authenticator.objects.filter(user=user).exists():
        raise ValidationError(
            _("%(user)s has no second factor to reset.") % {"user": user.get_username()}, code="none"
        )
    Authenticator.objects.filter(user=user).delete()
    record = SecondFactorReset.objects.create(user=user, by=by)
    if user.email:
        subject = _("%(fund)s: your second factor was reset") % {"fund": fund_identity.name()}
        message = _(
            "%(by)s reset the second factor of your account %(user)s. At your next sign-in you will set up "
            "a new authenticator app. If you did not ask for it, tell another coordinator at once."
        ) % {"by": by.get_full_name() or by.get_username(), "user": user.get_username()}
        mail.send_after_commit([(subject, message, user.email)])
    return record


def current_code(secret: str) -> str:
    """The code an authenticator app set up with `secret` shows now."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))
