from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VendorsConfig(AppConfig):
    name = "vendors"
    verbose_name = _("Vendors")

    def ready(self):
        from allocations.integrity import register_check

        from .integrity import purchases_agree, settlements_agree

        register_check("vendors.purchases", purchases_agree)
        register_check("vendors.settlements", settlements_agree)
