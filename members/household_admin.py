"""Admin screens of issue 3: draws, erasure requests, contributions and the desk's records.

Money and history are read-only here: payments are recorded through the desk pages and
`members.contributions`, so that each is a ledger transfer."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kernel.admin_mixins import ReadOnlyMixin

from . import lottery, privacy
from .models import (
    ContributionChoice,
    ContributionPayment,
    Desk,
    DeskAction,
    DeskSession,
    Draw,
    DrawEntry,
    ErasureRequest,
    HeldCash,
    HouseholdStatusChange,
)


class DrawEntryInline(ReadOnlyMixin, admin.TabularInline):
    model = DrawEntry
    fields = ("application_number", "stratum", "rank", "initial_outcome", "outcome", "waitlist_position")
    readonly_fields = fields
    ordering = ("rank",)


def _run(modeladmin, request, queryset, service, done):
    for draw in queryset:
        try:
            service(draw)
            modeladmin.message_user(request, done % {"draw": draw.cohort})
        except ValidationError as error:
            modeladmin.message_user(request, f"{draw.cohort}: {' '.join(error.messages)}", messages.ERROR)


@admin.register(Draw)
class DrawAdmin(admin.ModelAdmin):
    list_display = ("cohort", "places", "status", "seed_published_at", "drawn_at")
    readonly_fields = ("status", "seed", "seed_published_at", "list_digest", "result_digest", "drawn_at", "drawn_by")
    inlines = [DrawEntryInline]
    actions = ["close_and_publish_seed", "draw"]

    def save_model(self, request, obj, form, change):
        lottery.validate_strata(obj.strata, obj.places)
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Close applications and publish the seed"))
    def close_and_publish_seed(self, request, queryset):
        _run(self, request, queryset, lottery.close_applications, _("Seed of %(draw)s published."))

    @admin.action(description=_("Run the draw"))
    def draw(self, request, queryset):
        _run(self, request, queryset, lambda d: lottery.run_draw(d, by=request.user), _("%(draw)s drawn."))


@admin.register(ErasureRequest)
class ErasureRequestAdmin(admin.ModelAdmin):
    list_display = ("household", "status", "requested_at", "decided_at", "decided_by")
    list_filter = ("status",)
    readonly_fields = ("household", "status", "requested_at", "decided_at", "decided_by")
    actions = ["confirm"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Confirm: erase the personal data"))
    def confirm(self, request, queryset):
        for erasure in queryset.filter(status=ErasureRequest.Status.PENDING):
            privacy.confirm_erasure(erasure, by=request.user)
        self.message_user(request, _("Personal data erased; money records kept."))


@admin.register(ContributionPayment)
class ContributionPaymentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("household", "period", "amount", "method", "paid_on", "desk", "receipt_number", "recorded_by")
    list_filter = ("method", "period", "desk")
    search_fields = ("household__reference", "reference", "mandate_reference")


@admin.register(Desk)
class DeskAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "next_receipt")
    readonly_fields = ("next_receipt",)


@admin.register(DeskSession)
class DeskSessionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("desk", "opened_by", "opened_at", "closed_by", "closed_at", "counted_cash", "difference",
                    "difference_explained_at")
    list_filter = ("desk",)


@admin.register(HeldCash)
class HeldCashAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Cash above the desk's ceiling, read-only: a coordinator confirms or refuses it on the
    coordination page (coordination:held_cash), the one way, through members.desk."""

    list_display = ("household", "amount", "session", "taken_by", "taken_at", "decided_by", "payment", "refusal_reason")


@admin.register(DeskAction)
class DeskActionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("at", "actor", "kind", "household", "desk")
    list_filter = ("kind", "desk")


@admin.register(DrawEntry)
class DrawEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("draw", "application_number", "rank", "initial_outcome", "outcome", "waitlist_position")
    list_filter = ("draw", "outcome")
    search_fields = ("application_number",)


@admin.register(HouseholdStatusChange)
class HouseholdStatusChangeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("household", "status_from", "status_to", "at", "by")
    list_filter = ("status_to",)
    search_fields = ("household__reference",)


@admin.register(ContributionChoice)
class ContributionChoiceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("household", "effective_from", "amount", "chosen_at", "chosen_by")
    search_fields = ("household__reference",)
