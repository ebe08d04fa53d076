from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from . import roles, second_factor
from .models import ActivationCode, SecondFactorReset, User

# Who may open the admin is decided with every other role question.
admin.site.has_permission = lambda request: roles.may_use_admin(request.user)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("Contact"), {"fields": ("phone",)}),)
    list_display = ("username", "email", "phone", "is_staff", "is_active")
    actions = ["reset_second_factor"]
    # What a coordinator edits: names, contact, whether the login works, and its roles.
    # Superuser status, staff status and loose permissions stay with superusers: a
    # coordinator must not grant themselves more than the coordinator group holds.
    coordinator_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "phone")}),
        (_("Roles"), {"fields": ("is_active", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return self.coordinator_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ("last_login", "date_joined")

    def user_change_password(self, request, id, form_url=""):
        # Staff passwords are theirs (reset by e-mail): setting another coordinator's
        # password, then resetting their second factor, would be taking their account.
        user = self.get_object(request, id)
        if user is not None and not request.user.is_superuser and roles.requires_second_factor(user):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    @admin.action(description=_("Reset the second factor (lost phone)"))
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            try:
                second_factor.reset(user=user, by=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(user)s sets up a new second factor at their next sign-in; they have been told by e-mail if they have one.")
                    % {"user": user.get_username()},
                    messages.SUCCESS,
                )


@admin.register(SecondFactorReset)
class SecondFactorResetAdmin(admin.ModelAdmin):
    list_display = ("user", "by", "at")
    readonly_fields = ("user", "by", "at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ActivationCode)
class ActivationCodeAdmin(admin.ModelAdmin):
    """Codes are shown once, on the letter: only their state shows here."""

    list_display = ("user", "created_at", "expires_at", "used_at", "created_by")
    fields = ("user", "created_at", "expires_at", "used_at", "created_by")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False
