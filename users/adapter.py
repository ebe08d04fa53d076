from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from . import roles


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Households join through enrolment (application, lottery); staff are created by coordinators.
        return False

    def get_login_redirect_url(self, request):
        user = request.user
        if user.is_staff or roles.is_coordinator(user):
            return reverse("admin:index")
        if hasattr(user, "vendor_staff"):
            return reverse("vendors:dashboard")
        return super().get_login_redirect_url(request)
