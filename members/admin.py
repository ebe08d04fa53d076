from django.contrib import admin

from .models import Household


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ("reference", "status", "adults", "children", "district", "joined_on")
    list_filter = ("status", "district")
    search_fields = ("reference",)
    raw_id_fields = ("wallet", "user")
    readonly_fields = ("wallet",)
