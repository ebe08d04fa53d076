from django.contrib import admin

from .models import CommitteeMembership


@admin.register(CommitteeMembership)
class CommitteeMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "starts_on", "ends_on")
    list_filter = ("role",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
