from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VendorsConfig(AppConfig):
    name = "vendors"
    verbose_name = _("Vendors")

    def ready(self):
        from kernel import four_eyes

        from .services import IBAN_CHANGE
        from .settlements import SETTLEMENT_PAYMENT

        four_eyes.register(SETTLEMENT_PAYMENT, label=_("payment of a settlement run"),
                           execute="vendors.settlements.execute_payment")
        four_eyes.register(IBAN_CHANGE, label=_("change of a vendor's IBAN"),
                           execute="vendors.services.execute_iban_change", refuse="vendors.services.iban_change_refused")
