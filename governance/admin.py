"""The committee in the admin. Coordinators edit policies and memberships and read the
proposals' records. Ballots, receipts and participations (electors) are not here at all:
an admin screen listing them beside each other, refreshed while a vote is open, is how a
coordinator could watch a secret ballot appear next to its voter. Votes are cast in the
portal, through the services; results are read on the results page. A meeting's paper
count of a secret ballot shows its total only (see MeetingTallyAdmin)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kernel.admin_mixins import ReadOnlyAdmin

from .models import (
    Amendment,
    CommitteeMembership,
    Meeting,
    MeetingTally,
    Notification,
    Policy,
    Proposal,
    Transition,
    VoteHistory,
)


@admin.register(CommitteeMembership)
class CommitteeMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "starts_on", "ends_on")
    list_filter = ("role",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ("kind", "method", "quorum_percent", "voting_days", "secret", "results_before_close")

    def has_add_permission(self, request):
        return False  # one per kind, created by migration

    def has_delete_permission(self, request, obj=None):
        return False


class TransitionInline(admin.TabularInline):
    model = Transition
    fields = ("from_state", "to_state", "by", "at", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    """Read-only: proposals are written, opened and closed through the services (portal)."""

    list_display = ("reference", "title", "kind", "state", "closes_at", "secret")
    list_filter = ("kind", "state", "secret")
    search_fields = ("title",)
    inlines = [TransitionInline]
    exclude = ("tally",)
    readonly_fields = ("counts",)

    @admin.display(description=_("tally"))
    def counts(self, obj):
        # Totals only: a tally holds no name.
        return ", ".join(f"{k}: {v}" for k, v in (obj.tally or {}).items() if k != "objections") or "-"


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdmin):
    list_display = ("proposal", "from_state", "to_state", "by", "at")
    list_select_related = ("proposal", "by")


@admin.register(VoteHistory)
class VoteHistoryAdmin(ReadOnlyAdmin):
    list_display = ("proposal", "voter", "choice", "proxy_by", "at")


@admin.register(Amendment)
class AmendmentAdmin(ReadOnlyAdmin):
    list_display = ("proposal", "at")


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ("title", "starts_at", "place")
    filter_horizontal = ("agenda", "attendees")


_PER_CHOICE = ("votes_for", "votes_against", "abstentions", "consents", "objections", "objection_reasons")


@admin.register(MeetingTally)
class MeetingTallyAdmin(ReadOnlyAdmin):
    """A secret ballot's paper count, split by choice, is a sub-total of a few named
    attendees (whose participation is on the record): it shows as a total only."""

    list_display = ("proposal", "meeting", "how", "votes")
    list_select_related = ("proposal", "meeting")

    @admin.display(description=_("votes"))
    def votes(self, obj):
        if obj.proposal.secret:
            return obj.total
        return ", ".join(f"{MeetingTally._meta.get_field(name).verbose_name}: {getattr(obj, name)}"
                         for name in _PER_CHOICE[:-1])

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and obj.proposal.secret:
            return [f for f in fields if f not in _PER_CHOICE]
        return [f for f in fields if f != "votes"]

    def get_readonly_fields(self, request, obj=None):
        return ["votes"]

    def lookup_allowed(self, lookup, value, request=None):
        # `?votes_for__gte=1` would sort secret paper counts by choice.
        if lookup.split("__")[0] in _PER_CHOICE:
            return False
        return super().lookup_allowed(lookup, value, request)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("user", "proposal", "kind", "created_at", "read_at")
