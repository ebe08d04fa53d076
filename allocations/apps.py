from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationsConfig(AppConfig):
    name = "allocations"
    verbose_name = _("Ledger and allocations")

    def ready(self):
        from kernel import four_eyes, fund_identity

        from . import fund, grants
        from .integrity import register_check
        from .models import Approval

        register_check("allocations.grant_receipts", grants.receipts_agree)

        # The fund's name and unit for the layers below (kernel.money, users), and one
        # read of the fund's settings per request.
        fund_identity.register(fund.cached)
        fund.watch_requests()

        four_eyes.register(Approval.Action.FORCED_ISSUANCE, label=Approval.Action.FORCED_ISSUANCE.label,
                           execute="allocations.approvals.execute_forced_issuance")
        four_eyes.register(Approval.Action.REVERSAL, label=Approval.Action.REVERSAL.label,
                           execute="allocations.approvals.execute_reversal")
        four_eyes.register("fund_bank_change", label=_("change of the fund's bank account"),
                           execute="allocations.fund.execute_bank_change", refuse="allocations.fund.bank_change_refused")
