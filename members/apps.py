from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Households")

    def ready(self):
        from users.backends import register_identifier

        from .logins import user_of_card

        register_identifier(user_of_card)

        from allocations.integrity import register_check

        from .integrity import contributions_agree, exited_wallets_empty

        register_check("members.contributions", contributions_agree)
        register_check("members.exited_wallets", exited_wallets_empty)

        from kernel import four_eyes

        from .contributions import CONTRIBUTION_CORRECTION

        four_eyes.register(CONTRIBUTION_CORRECTION, label=_("correction of a contribution paid"),
                           execute="members.contributions.execute_correction")
