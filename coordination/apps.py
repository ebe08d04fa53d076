from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoordinationConfig(AppConfig):
    name = "coordination"
    verbose_name = _("Coordination")

    def ready(self):
        from kernel import four_eyes

        from .books import YEAR_CLOSING

        # Closing a financial year freezes its FEC for good: a second coordinator approves.
        four_eyes.register(YEAR_CLOSING, label=_("closing of a financial year"),
                           execute="coordination.books.execute_year_closing")
