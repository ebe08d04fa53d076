from django.contrib import admin

from .models import Account, Transfer


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
class TransferAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "kind", "debit", "credit", "amount", "unit", "memo")
    list_filter = ("kind", "unit")
    search_fields = ("idempotency_key", "memo")
    list_select_related = ("debit", "credit")
    raw_id_fields = ("debit", "credit", "reverses")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
