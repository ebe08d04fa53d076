"""The committee in the admin. Coordinators edit policies and memberships and read the
proposals' records; they never see how anyone voted on a secret ballot, because the
database does not know (see governance.votes). Ballots, electors and history are read-only:
votes are cast in the portal, through the services, never edited here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kernel.admin_mixins import ReadOnlyAdmin

from .models import (
    Amendment,
    Ballot,
    CommitteeMembership,
    Elector,
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


@admin.register(Elector)
class ElectorAdmin(ReadOnlyAdmin):
    """Who may vote and who took part; never how."""

    list_display = ("proposal", "user", "voted", "channel", "recused")
    list_filter = ("voted", "recused")
    list_select_related = ("proposal", "user")


@admin.register(Ballot)
class BallotAdmin(ReadOnlyAdmin):
    list_display = ("proposal", "choice", "public_voter", "proxy_by")
    list_filter = ("choice",)
    list_select_related = ("proposal", "voter", "proxy_by")
    fields = ("proposal", "choice", "reason", "public_voter", "proxy_by")
    readonly_fields = fields

    @admin.display(description=_("voter (public ballots only)"))
    def public_voter(self, obj):
        return obj.voter or _("secret")


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


@admin.register(MeetingTally)
class MeetingTallyAdmin(ReadOnlyAdmin):
    list_display = ("proposal", "meeting", "how", "votes_for", "votes_against", "abstentions", "consents", "objections")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("user", "proposal", "kind", "created_at", "read_at")
