from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoordinationConfig(AppConfig):
    name = "coordination"
    verbose_name = _("Coordination")

    def ready(self):
        from kernel import four_eyes

        from .bank import BANK_MATCH
        from .books import YEAR_CLOSING

        # Closing a financial year freezes its FEC for good: a second coordinator approves.
        four_eyes.register(YEAR_CLOSING, label=_("closing of a financial year"),
                           execute="coordination.books.execute_year_closing")
        # A person linking a bank line to a settlement, as the settlements' paper path does.
        four_eyes.register(BANK_MATCH, label=_("a bank line matched by hand to a settlement"),
                           execute="coordination.bank.execute_pick")
