"""Signing staff in where the sign-in is not what a test is about.

`client.force_login` alone is what a bypass looks like: the middleware signs such a
session out. `log_in_staff` records on the session that it passed the second factor,
as allauth does after the code (the journeys in test_staff_sign_in go through the forms).
"""

import time

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from users.middleware import LAST_SEEN_KEY


def log_in_staff(client, user):
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is None:
        totp = TOTP.activate(user, generate_totp_secret()).instance
    client.force_login(user)
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": time.time()},
        {"method": "mfa", "at": time.time(), "id": totp.pk, "type": "totp"},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session[LAST_SEEN_KEY] = time.time()  # as the first request after a sign-in records it
    session.save()
    return client
