"""What is tracked. Each tracked model gets a proxy here, tracked by pghistory: its
triggers fire on the real table (every insert, update — `queryset.update()` and raw SQL
included — and delete), and the events are stored in this app's tables.

Only the fields named are snapshot, and an update is recorded only when one of them
changes: a vendor's opening hours or a household's contact details are not audit matters
(and a household's personal data stays out of the trail).
"""

import pghistory

from allocations.models import FundRules, FundSettings
from coordination.models import ClosedYear
from governance.models import CommitteeMembership
from members.models import DeskSession, HeldCash, Household
from users.models import User
from vendors.models import Refund, Vendor


def row_events():
    # New trackers for each model: pghistory binds a tracker to the model it tracks.
    return pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent()


@pghistory.track(*row_events(), model_name="FundRulesEvent")
class AuditedFundRules(FundRules):
    class Meta:
        proxy = True


# The fund's settings: who changed its name, collection day, caps and thresholds or bank account,
# and when (the bank's details change only under four eyes: allocations.fund).
@pghistory.track(
    *row_events(),
    fields=["name", "unit_label", "bank_iban", "bank_bic", "sepa_creditor_id", "collection_day",
            "max_purchase_cents", "daily_cap_per_card_cents", "refund_four_eyes_above_cents",
            "desk_cash_ceiling_cents", "phone_pin_above_cents"],
    model_name="FundSettingsEvent",
)
class AuditedFundSettings(FundSettings):
    class Meta:
        proxy = True


@pghistory.track(*row_events(), fields=["status", "iban", "bic"], model_name="VendorEvent")
class AuditedVendor(Vendor):
    class Meta:
        proxy = True


@pghistory.track(*row_events(), fields=["reference", "status"], model_name="HouseholdEvent")
class AuditedHousehold(Household):
    class Meta:
        proxy = True


@pghistory.track(*row_events(), model_name="CommitteeMembershipEvent")
class AuditedCommitteeMembership(CommitteeMembership):
    class Meta:
        proxy = True


@pghistory.track(*row_events(), fields=["is_active", "is_staff", "is_superuser"], model_name="UserEvent")
class AuditedUser(User):
    class Meta:
        proxy = True


# Group membership: rows of the users ↔ groups table are added and removed, never updated.
@pghistory.track(
    pghistory.InsertEvent("group.add"), pghistory.DeleteEvent("group.remove"), obj_field=None,
    model_name="GroupMembershipEvent",
)
class AuditedGroupMembership(User.groups.through):
    class Meta:
        proxy = True




# The coordinators' corrections (issue 15). A shop's own refunds are the till's business,
# kept by the API's idempotency records: only a coordinator's refund is an audit matter.
@pghistory.track(
    pghistory.InsertEvent("refund.coordinator", condition=pghistory.Q(new__recorded_by__isnull=False)),
    fields=["purchase", "amount", "reason", "recorded_by"], model_name="CoordinatorRefundEvent",
)
class AuditedRefund(Refund):
    class Meta:
        proxy = True


@pghistory.track(pghistory.UpdateEvent("held_cash.decided"), fields=["amount", "decided_by", "payment", "refusal_reason"],
                 model_name="HeldCashEvent")
class AuditedHeldCash(HeldCash):
    class Meta:
        proxy = True


# Only the explanation fires it: a desk's closing is in its own records (DeskAction).
@pghistory.track(
    pghistory.UpdateEvent("desk.difference_explained",
                          condition=pghistory.AnyChange("difference_explanation", "difference_explained_by")),
    fields=["difference", "difference_explanation", "difference_explained_by"], model_name="DeskDifferenceEvent",
)
class AuditedDeskSession(DeskSession):
    class Meta:
        proxy = True


# The books (issue 16): who closed a financial year, and the hash of the FEC it froze; who
#
@pghistory.track(pghistory.InsertEvent("books.year_closed"), fields=["year", "closed_by", "last_transfer_id", "sha256"],
                 model_name="ClosedYearEvent")
class AuditedClosedYear(ClosedYear):
    class Meta:
        proxy = True

