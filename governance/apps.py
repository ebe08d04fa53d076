from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Governance")

    def ready(self):
        from allocations import rules as fund_rules
        from vendors import services as vendor_services

        from .vendor_hooks import decision_allows, rules_decision_adopted, tell_committee_of_emergency

        fund_rules.register_decision_check(rules_decision_adopted)
        vendor_services.register_decision_check(decision_allows)
        vendor_services.register_committee_notice(tell_committee_of_emergency)
