"""What an adopted proposal does, applied by code in the close's transaction.

If the effect cannot apply (the vendor's status moved meanwhile, a rules version already
starts next period), the outcome still stands, the proposal stays `adopted` rather than
`applied`, and the reason is written for the coordinators: a vote is never lost to a
failed effect, and a half-applied effect is rolled back by its savepoint.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from allocations import periods
from allocations import rules as fund_rules
from vendors import services as vendor_services

from .models import Kind, Proposal


def apply(proposal: Proposal, *, by=None) -> Proposal:
    from .proposals import VENDOR_TARGET, next_period_start, record

    if proposal.kind == Kind.MOTION:
        # A motion is only recorded: its adoption is the decision.
        return proposal
    try:
        with transaction.atomic():
            if proposal.kind in VENDOR_TARGET:
                vendor_services.change_status(
                    proposal.vendor, VENDOR_TARGET[proposal.kind], by=by,
                    reason=_("Committee decision %(ref)s: %(title)s") % {"ref": proposal.reference,
                                                                         "title": proposal.title},
                    decision=proposal.reference,
                )
                note = _("Vendor status is now: %(status)s.") % {
                    "status": vendor_services.S(VENDOR_TARGET[proposal.kind]).label}
            elif proposal.kind == Kind.CHANGE_RULES:
                start = next_period_start()  # never the current period: it may be issued already
                fund_rules.create_version(effective_from=start, created_by=proposal.author,
                                          decision_reference=proposal.reference, **proposal.proposed_rules)
                note = _("New fund rules in force from %(period)s.") % {"period": periods.of(start)}
    except ValidationError as error:
        proposal.effect_note = _("Adopted, but the effect could not be applied: %(error)s") % {
            "error": " ".join(error.messages)}
        proposal.save(update_fields=["effect_note"])
        return proposal
    proposal.effect_note = note
    record(proposal, Proposal.State.APPLIED, by=by, note=note)
    proposal.save(update_fields=["effect_note", "state"])
    return proposal
