from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import ActivationCode, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("Contact"), {"fields": ("phone",)}),)
    list_display = ("username", "email", "phone", "is_staff", "is_active")


@admin.register(ActivationCode)
class ActivationCodeAdmin(admin.ModelAdmin):
    """Codes are shown once, on the letter: only their state shows here."""

    list_display = ("user", "created_at", "expires_at", "used_at", "created_by")
    fields = ("user", "created_at", "expires_at", "used_at", "created_by")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False
