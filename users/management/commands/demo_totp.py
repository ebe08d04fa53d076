from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from users import second_factor


class Command(BaseCommand):
    help = gettext_lazy(
        "Print the current second-factor code of a demo account (made by seed_demo), to sign in "
        "without an authenticator app. It refuses every other account."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username__iexact=username.strip()).first()
        # The flag, not the name: a real account called like a demo one gets nothing.
        if user is None or not user.is_demo:
            raise CommandError(_("%(username)s is not a demo account: no code is given for it.") % {"username": username})
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if totp is None:
            raise CommandError(_("%(username)s has no second factor.") % {"username": username})
        self.stdout.write(second_factor.current_code(get_adapter().decrypt(totp.data["secret"])))
