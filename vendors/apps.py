from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VendorsConfig(AppConfig):
    name = "vendors"
    verbose_name = _("Vendors")

    def ready(self):
        from allocations.integrity import register_check
        from kernel import four_eyes

        from .integrity import payment_requests_agree, purchases_agree, settlements_agree
        from .payments import PURCHASE_REFUND
        from .services import IBAN_CHANGE
        from .settlements import SETTLEMENT_CONFIRMATION, SETTLEMENT_PAYMENT, SETTLEMENT_RETURN

        register_check("vendors.purchases", purchases_agree)
        register_check("vendors.settlements", settlements_agree)
        register_check("vendors.payment_requests", payment_requests_agree)

        four_eyes.register(SETTLEMENT_PAYMENT, label=_("payment of a settlement run"),
                           execute="vendors.settlements.execute_payment")
        four_eyes.register(SETTLEMENT_CONFIRMATION, label=_("a settlement run paid, on the bank's date"),
                           execute="vendors.settlements.execute_bank_confirmation")
        four_eyes.register(SETTLEMENT_RETURN, label=_("a settlement returned by the bank"),
                           execute="vendors.settlements.execute_return")
        four_eyes.register(IBAN_CHANGE, label=_("change of a vendor's IBAN"),
                           execute="vendors.services.execute_iban_change", refuse="vendors.services.iban_change_refused")
        four_eyes.register(PURCHASE_REFUND, label=_("refund of a purchase by a coordinator"),
                           execute="vendors.payments.execute_coordinator_refund")
