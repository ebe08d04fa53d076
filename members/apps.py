from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Households")

    def ready(self):
        from users.backends import register_identifier

        from .logins import user_of_card

        register_identifier(user_of_card)
