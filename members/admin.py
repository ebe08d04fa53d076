from django.contrib import admin

from kernel.admin_mixins import ReadOnlyAdmin

from .models import DirectDebit, DirectDebitCollection, DirectDebitMandate, Household, Notice


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ("reference", "status", "adults", "children", "district", "joined_on")
    list_filter = ("status", "district")
    search_fields = ("reference",)
    raw_id_fields = ("wallet",)
    # A status moves only through the services (enrolment, the draw, the desk), each move
    # recorded; households enter by their application and are never deleted (money history).
    # A possible duplicate is cleared at the desk (members.enrolment.clear_duplicate), recorded.
    readonly_fields = ("wallet", "status", "status_changed_at", "joined_on", "erased_at", "draw_code", "duplicate_of",
                       "duplicate_flagged_at", "duplicate_cleared_at", "duplicate_cleared_by")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("household", "kind", "period", "created_at", "read_at")
    list_filter = ("kind", "period")
    search_fields = ("household__reference",)
    raw_id_fields = ("household",)
    readonly_fields = ("created_at",)


# --- Cards, logins and reports (the portal's side) -------------------------------------

from django.contrib import messages  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402

from . import cards as card_services  # noqa: E402
from . import logins, reports  # noqa: E402
from .models import Card, CardEvent, Person, ShopReport  # noqa: E402


class CardEventInline(admin.TabularInline):
    model = CardEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "at", "by", "until", "note")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = ("__str__", "household", "holder", "status", "locked_indefinitely", "locked_until", "issued_at")
    list_filter = ("status", "locked_indefinitely")
    search_fields = ("number", "household__reference")
    # The PIN's hash and the QR token never show; every change goes through the services.
    fields = ("household", "holder", "number", "status", "failed_pin_attempts", "lock_level", "locked_until",
              "locked_indefinitely", "name_printed", "replaces", "issued_at", "blocked_at")
    readonly_fields = fields
    inlines = [CardEventInline]
    actions = ["unlock", "block"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Unlock the selected cards"))
    def unlock(self, request, queryset):
        for card in queryset:
            card_services.unlock_card(card, by=request.user)
        messages.success(request, _("Cards unlocked."))

    @admin.action(description=_("Block the selected cards (lost or stolen)"))
    def block(self, request, queryset):
        for card in queryset:
            card_services.block_card(card, by=request.user, note="admin")
        messages.success(request, _("Cards blocked."))


@admin.register(CardEvent)
class CardEventAdmin(ReadOnlyAdmin):
    list_display = ("card", "kind", "at", "by", "until")
    list_filter = ("kind",)
    readonly_fields = ("card", "kind", "at", "by", "until", "note")


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("__str__", "household", "is_adult", "user")
    search_fields = ("first_name", "last_name", "household__reference")
    raw_id_fields = ("household",)
    # A login is made for its person by the letter action, never attached by hand: attaching
    # someone else's login would let its letter sign in as them.
    readonly_fields = ("user",)
    actions = ["activation_letters"]

    def has_delete_permission(self, request, obj=None):
        return False  # people leave through erasure (members.privacy), which keeps the money records

    @admin.action(description=_("Create a login and print an activation letter"))
    def activation_letters(self, request, queryset):
        letters = []
        for person in queryset.select_related("household"):
            try:
                username, code = logins.create_login_with_letter(person, by=request.user)
            except ValidationError as refused:
                self.message_user(request, " ".join(refused.messages), messages.ERROR)
                continue
            letters.append({"person": person, "username": username, "code": code})
        if not letters:
            return None
        return render(request, "members/activation_letters.html", {"letters": letters})


@admin.register(ShopReport)
class ShopReportAdmin(admin.ModelAdmin):
    list_display = ("__str__", "vendor", "status", "anonymous", "created_at")
    list_filter = ("status", "category", "anonymous")
    fields = ("vendor", "category", "description", "anonymous", "household", "created_at", "status", "answer")
    readonly_fields = ("vendor", "category", "description", "anonymous", "household", "created_at")

    def has_add_permission(self, request):
        return False

    def lookup_allowed(self, lookup, value, request=None):
        # The filters on the side and nothing else: Django would otherwise take any lookup
        # on the model's own fields from the address (`?follow_up__startswith=…`), and
        # one report's fields must not let anyone find the others of its household.
        return lookup.split("__")[0] in self.list_filter

    def save_model(self, request, obj, form, change):
        reports.answer_report(obj, answer=form.cleaned_data["answer"], by=request.user, status=form.cleaned_data["status"])

from . import household_admin  # noqa: E402,F401  (issue 3: draws, erasures, contributions, desk)


@admin.register(DirectDebitMandate)
class DirectDebitMandateAdmin(admin.ModelAdmin):
    """Mandates are recorded here; the model's validators check the IBAN and BIC."""

    list_display = ("reference", "household", "signed_on", "revoked_on")
    search_fields = ("reference", "household__reference")
    list_filter = ("revoked_on",)
    raw_id_fields = ("household",)
    readonly_fields = ("created_at", "created_by")

    def has_delete_permission(self, request, obj=None):
        return False  # a mandate is revoked (revoked_on), its collections keep pointing to it

    def save_model(self, request, obj, form, change):
        # One mandate in force per household (a constraint): revoke the old one first.
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class DirectDebitInline(admin.TabularInline):
    model = DirectDebit
    extra = 0
    can_delete = False
    readonly_fields = ("household", "mandate", "amount", "sequence", "end_to_end_id")


@admin.register(DirectDebitCollection)
class DirectDebitCollectionAdmin(admin.ModelAdmin):
    """Read-only: collections are made and confirmed by members.direct_debits (the
    coordinators' page /coordination/direct-debits/)."""

    list_display = ("period", "collection_date", "confirmed_at")
    inlines = [DirectDebitInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DirectDebit)
class DirectDebitAdmin(admin.ModelAdmin):
    list_display = ("collection", "household", "mandate", "amount", "sequence")
    list_select_related = ("collection", "household", "mandate")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
