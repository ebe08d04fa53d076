"""What governance tells the vendor registry and the fund rules, registered at startup (GovernanceConfig.ready):
whether a decision reference is an adopted decision (for that vendor and status, or a rules
change), and who to
tell of an emergency suspension. The registry does not import governance."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext as _

from .models import Proposal
from .selectors import current_seats


def decision_allows(reference: str, vendor_id: int, new_status: str) -> bool:
    from .proposals import VENDOR_TARGET

    if not reference.startswith("CC-") or not reference[3:].isdigit():
        return False
    proposal = Proposal.objects.filter(
        pk=int(reference[3:]), vendor_id=vendor_id, state__in=[Proposal.State.ADOPTED, Proposal.State.APPLIED]
    ).first()
    return proposal is not None and VENDOR_TARGET.get(proposal.kind) == new_status


def rules_decision_adopted(reference: str) -> bool:
    from .models import Kind

    if not reference.startswith("CC-") or not reference[3:].isdigit():
        return False
    return Proposal.objects.filter(pk=int(reference[3:]), kind=Kind.CHANGE_RULES,
                                   state__in=[Proposal.State.ADOPTED, Proposal.State.APPLIED]).exists()


def tell_committee_of_emergency(status_change_id: int) -> None:
    from vendors.models import StatusChange

    change = StatusChange.objects.select_related("vendor").get(pk=status_change_id)
    addresses = get_user_model().objects.filter(pk__in=current_seats().values("user_id")).exclude(email="")
    subject = _("Emergency suspension of %(vendor)s") % {"vendor": change.vendor.display_name}
    text = _("A coordinator suspended %(vendor)s at once: %(reason)s. The suspension lapses unless the committee "
             "confirms it by a vote.") % {"vendor": change.vendor.display_name, "reason": change.reason}
    get_connection().send_messages([EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [address])
                                    for address in addresses.values_list("email", flat=True)])
