from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.dispatch import receiver


@receiver(authenticator_added)
def _setting_up_totp_proves_it(sender, request, user, authenticator, **kwargs):
    # The person just typed a code from the new app: this session has passed the second
    # factor (allauth records it for a sign-in, not for a set-up).
    if request is not None and authenticator.type == Authenticator.Type.TOTP:
        record_authentication(request, user, method="mfa", id=authenticator.pk, type=authenticator.type)
