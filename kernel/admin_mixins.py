"""What the admin screens share."""

from django.contrib import admin


class ReadOnlyMixin:
    """For records that only their services write (transfers, approvals, settlements,
    card events…): the admin shows them and changes nothing. Works on inlines too."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass
