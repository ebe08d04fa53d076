from django.contrib import admin

from .models import Household, Notice


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ("reference", "status", "adults", "children", "district", "joined_on")
    list_filter = ("status", "district")
    search_fields = ("reference",)
    raw_id_fields = ("wallet", "user")
    readonly_fields = ("wallet",)


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("household", "kind", "period", "created_at", "read_at")
    list_filter = ("kind", "period")
    search_fields = ("household__reference",)
    raw_id_fields = ("household",)
    readonly_fields = ("created_at",)
