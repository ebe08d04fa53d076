from django.contrib import admin

from .models import Vendor, VendorStaff


class VendorStaffInline(admin.TabularInline):
    model = VendorStaff
    raw_id_fields = ("user",)
    extra = 0


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ("display_name", "slug", "kind", "status", "district")
    list_filter = ("kind", "status", "district")
    search_fields = ("display_name", "legal_name", "slug")
    prepopulated_fields = {"slug": ("display_name",)}
    readonly_fields = ("account",)
    inlines = [VendorStaffInline]


@admin.register(VendorStaff)
class VendorStaffAdmin(admin.ModelAdmin):
    list_display = ("user", "vendor")
    raw_id_fields = ("user", "vendor")
