"""The coordinators' screens of the registry. Changes of status and IBAN go through the
services (vendors.services), never through a plain field edit."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel.admin_mixins import ReadOnlyAdmin
from kernel.links import decision_link

from . import services
from .models import (
    ApiKey,
    IbanChange,
    IdempotencyRecord,
    PaymentRequest,
    Purchase,
    Refund,
    StatusChange,
    Vendor,
    VendorStaff,
)


class VendorStaffInline(admin.TabularInline):
    model = VendorStaff
    raw_id_fields = ("user",)
    extra = 0


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "by", "reason", "decision", "emergency")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("decision reference"))
    def decision(self, obj):
        return decision_link(obj.decision_reference)


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("label", "prefix", "created_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("new status"), choices=Vendor.Status.choices)
    reason = forms.CharField(label=gettext_lazy("reason"), widget=forms.Textarea(attrs={"rows": 3}))
    decision = forms.CharField(label=gettext_lazy("decision reference"), required=False)
    emergency = forms.BooleanField(label=gettext_lazy("emergency suspension (at once, the committee is told)"),
                                   required=False)


class IbanForm(forms.Form):
    iban = forms.CharField(label="IBAN")
    bic = forms.CharField(label="BIC")
    reason = forms.CharField(label=gettext_lazy("reason"), required=False)


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ("display_name", "slug", "kind", "status", "district")
    list_filter = ("kind", "status", "district")
    search_fields = ("display_name", "legal_name", "slug", "siret", "rna")
    prepopulated_fields = {"slug": ("display_name",)}
    readonly_fields = ("account", "status", "iban", "bic", "created_at")
    inlines = [VendorStaffInline, StatusChangeInline, ApiKeyInline]
    change_form_template = "vendors/admin_change_form.html"

    def get_urls(self):
        return [
            path("<int:pk>/status/", self.admin_site.admin_view(self.status_view), name="vendors_vendor_status"),
            path("<int:pk>/iban/", self.admin_site.admin_view(self.iban_view), name="vendors_vendor_iban"),
        ] + super().get_urls()

    def status_view(self, request, pk):
        vendor = Vendor.objects.get(pk=pk)
        form = StatusForm(request.POST or None, initial={"status": vendor.status})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["emergency"]:
                    services.suspend_now(vendor, by=request.user, reason=data["reason"])
                else:
                    services.change_status(vendor, data["status"], by=request.user, reason=data["reason"],
                                           decision=data["decision"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Status changed."))
                return redirect(reverse("admin:vendors_vendor_change", args=[pk]))
        return render(request, "vendors/admin_form.html", {
            **self.admin_site.each_context(request), "form": form, "vendor": vendor, "title": _("Change the status"),
        })

    def iban_view(self, request, pk):
        vendor = Vendor.objects.get(pk=pk)
        form = IbanForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.request_iban_change(vendor, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The new IBAN waits for a second coordinator's confirmation."))
                return redirect(reverse("admin:vendors_vendor_change", args=[pk]))
        return render(request, "vendors/admin_form.html", {
            **self.admin_site.each_context(request), "form": form, "vendor": vendor, "title": _("Change the IBAN"),
        })

    def save_model(self, request, obj, form, change):
        if not change:  # a new vendor gets its account and a first status record
            services.prepare_new_vendor(obj)
        super().save_model(request, obj, form, change)
        if not change:
            StatusChange.objects.create(vendor=obj, from_status="", to_status=obj.status, by=request.user,
                                        reason=_("Registered by a coordinator"))

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ("status", "iban", "bic", "created_at")

    def has_delete_permission(self, request, obj=None):
        return False  # a vendor is revoked by the committee; its purchases and settlements stay

    def get_exclude(self, request, obj=None):
        return ("account",) if obj is None else ()


@admin.register(IbanChange)
class IbanChangeAdmin(admin.ModelAdmin):
    list_display = ("vendor", "iban", "bic", "status", "requested_by", "requested_at", "decided_by")
    list_filter = ("status",)
    readonly_fields = ("vendor", "iban", "bic", "status", "reason", "requested_by", "requested_at", "decided_by",
                       "decided_at")
    actions = ["confirm", "cancel"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=gettext_lazy("Confirm the selected IBAN changes (second coordinator)"))
    def confirm(self, request, queryset):
        for change in queryset:
            try:
                services.confirm_iban_change(change, by=request.user)
            except (ValidationError, PermissionDenied) as error:
                text = " ".join(getattr(error, "messages", None) or [str(error)])
                self.message_user(request, f"{change}: {text}", messages.ERROR)
            else:
                self.message_user(request, _("IBAN of %(vendor)s changed.") % {"vendor": change.vendor})

    @admin.action(description=gettext_lazy("Cancel the selected IBAN changes"))
    def cancel(self, request, queryset):
        for change in queryset:
            services.cancel_iban_change(change, by=request.user)


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ("at", "vendor", "from_status", "to_status", "by", "emergency", "decision")
    list_filter = ("to_status", "emergency")
    readonly_fields = ("vendor", "from_status", "to_status", "by", "reason", "decision", "emergency", "at")
    exclude = ("decision_reference",)  # shown as a link to the committee's decision

    @admin.display(description=gettext_lazy("decision reference"))
    def decision(self, obj):
        return decision_link(obj.decision_reference)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "vendor", "till", "amount", "requested", "refunded", "card_last4")
    list_filter = ("vendor",)
    readonly_fields = [f.name for f in Purchase._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VendorStaff)
class VendorStaffAdmin(admin.ModelAdmin):
    list_display = ("user", "vendor")
    raw_id_fields = ("user", "vendor")


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    # Keys are created by the vendor's dashboard or `create_vendor_key`; the hash is not shown.
    list_display = ("vendor", "label", "prefix", "created_at", "revoked_at")
    exclude = ("key_hash",)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "purchase", "amount", "reason")


@admin.register(PaymentRequest)
class PaymentRequestAdmin(ReadOnlyAdmin):
    """Read only: a request is paid from the member's phone and cancelled by its shop."""

    list_display = ("id", "vendor", "amount", "status", "created_at", "expires_at", "decided_at")
    list_filter = ("status",)
    exclude = ("capture_key",)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("vendor", "key", "status_code", "created_at")


# --- Settlements: made by runs and paid with four eyes (/coordination/settlements/) -------

from .models import Settlement, SettlementRun  # noqa: E402


@admin.register(SettlementRun)
class SettlementRunAdmin(ReadOnlyAdmin):
    list_display = ("cutoff", "status", "created_by", "paid_at", "message_id")
    list_filter = ("status",)


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ("number", "vendor", "cutoff", "amount", "status", "paid_at")
    list_filter = ("status",)
    search_fields = ("number", "vendor__display_name")
