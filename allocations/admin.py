import logging

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy

from kernel.admin_mixins import ReadOnlyAdmin
from kernel.links import decision_link

from . import issuance
from .models import Account, FundRules, IssuanceChunk, IssuanceRun, Transfer
from .rules import create_version, validate_starts_in_future, validate_version

logger = logging.getLogger(__name__)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "code", "unit", "balance", "created_at")
    list_filter = ("kind", "unit")
    search_fields = ("code",)
    # Balances change only through ledger transfers.
    readonly_fields = ("kind", "unit", "code", "balance", "created_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind", "debit", "credit", "amount", "unit", "memo")
    list_filter = ("kind", "unit")
    search_fields = ("idempotency_key", "memo")
    list_select_related = ("debit", "credit")
    raw_id_fields = ("debit", "credit", "reverses")
    show_full_result_count = False


# --- Fund rules and issuance --------------------------------------------------------------


def _warn_if_runway_short(request):
    """Coordinators see the runway warning where they look at rules and runs."""
    try:
        report = issuance.runway()
    except Exception:  # noqa: BLE001 - a warning must never break the page
        logger.exception("runway could not be computed")
        return
    if report.short:
        messages.warning(request, issuance.runway_warning(report))


class FundRulesForm(forms.ModelForm):
    class Meta:
        model = FundRules
        exclude = ("created_by", "created_at")  # noqa: DJ006 (every rule the committee sets, whatever is added)

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            # The service's checks, shown on the form: history is not rewritten.
            validate_version(FundRules(**cleaned))
            validate_starts_in_future(cleaned["effective_from"])
        return cleaned


@admin.register(FundRules)
class FundRulesAdmin(admin.ModelAdmin):
    form = FundRulesForm
    list_display = (
        "effective_from",
        "allocation_per_household",
        "supplement_per_extra_adult",
        "supplement_per_child",
        "rollover_policy",
        "rollover_cap",
        "prorate_first_month",
        "decision",
        "created_by",
    )

    @admin.display(description=gettext_lazy("decision reference"))
    def decision(self, obj):
        return decision_link(obj.decision_reference)

    def changelist_view(self, request, extra_context=None):
        _warn_if_runway_short(request)
        return super().changelist_view(request, extra_context)

    # History is never rewritten: a version, once saved, is read only; a change is a
    # new version for a future period, validated by the service.
    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    # A new version comes from an adopted rules-change decision (governance applies it);
    # here only the fund's first version, at set-up.
    def has_add_permission(self, request):
        return not FundRules.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        values = {f: v for f, v in form.cleaned_data.items() if f not in ("effective_from", "decision_reference")}
        created = create_version(
            effective_from=form.cleaned_data["effective_from"],
            decision_reference=form.cleaned_data.get("decision_reference", ""),
            created_by=request.user,
            **values,
        )
        obj.pk, obj.created_by, obj.created_at = created.pk, created.created_by, created.created_at
        obj._state.adding = False


class IssuanceChunkInline(admin.TabularInline):
    model = IssuanceChunk
    fields = ("index", "lo", "hi", "done", "households_credited", "total_issued", "total_expired", "finished_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(IssuanceRun)
class IssuanceRunAdmin(admin.ModelAdmin):
    list_display = (
        "period",
        "status",
        "households_credited",
        "total_issued",
        "total_expired",
        "chunks_done",
        "chunks_total",
        "reserve_before",
        "reserve_after",
        "forced_by",
        "started_at",
        "finished_at",
    )
    list_filter = ("status",)
    inlines = [IssuanceChunkInline]

    def changelist_view(self, request, extra_context=None):
        _warn_if_runway_short(request)
        return super().changelist_view(request, extra_context)

    # Runs are written by the issuance service only (beat, `manage.py issue_allocations`).
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IssuanceChunk)
class IssuanceChunkAdmin(admin.ModelAdmin):
    list_display = ("run", "index", "lo", "hi", "done", "households_credited", "total_issued", "finished_at")
    list_filter = ("done",)
    list_select_related = ("run",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Four eyes and grants ----------------------------------------------------------------
# Approvals are asked and decided on /coordination/approvals/ (the services check who may);
# grant receipts are recorded there too, so that each moves the treasury through the ledger.

from .models import Approval, Grant, GrantReceipt  # noqa: E402


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    list_display = ("action", "target", "status", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("action", "status")


class GrantReceiptInline(admin.TabularInline):
    model = GrantReceipt
    fields = ("received_on", "amount", "bank_reference", "transfer", "recorded_by")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ("funder_name", "funder_type", "reference", "amount", "promised_on", "earmark")
    list_filter = ("funder_type",)
    inlines = [GrantReceiptInline]


@admin.register(GrantReceipt)
class GrantReceiptAdmin(ReadOnlyAdmin):
    list_display = ("grant", "received_on", "amount", "bank_reference")


# --- The fund's settings: changed on /coordination/fund/ (bank details under four eyes) ---

from .models import FundSettings  # noqa: E402


@admin.register(FundSettings)
class FundSettingsAdmin(ReadOnlyAdmin):
    list_display = ("name", "unit_label", "bank_iban", "bank_bic", "sepa_creditor_id", "collection_day", "updated_at")
