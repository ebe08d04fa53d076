from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from operations import views as operations_views
from users import views as users_views
from vendors import api_urls as vendor_api_urls

from . import api_reference, views

# The admin's login goes through allauth: its rate limits and second factor apply.
admin.site.login = users_views.admin_login(admin.site.login)

urlpatterns = [
    # The tills' API first (each payment resolves its address; no need to try the pages'
    # patterns), then a JSON 404 for anything else under /api/v1/.
    path("api/v1/", include("vendors.api_urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(api_version="v1"), name="api-schema"),
    # The reference, readable and accessible; the schema above for tools (caisse/api_reference.py).
    path("api/v1/docs/", api_reference.api_reference, name="api-docs"),
    path("api/v1/", include(vendor_api_urls.fallback)),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("status", operations_views.status, name="status"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/activate/", users_views.activate, name="activate"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    # Where to spend: the vendors app serves it inside the portal.
    path("portal/shops/", include("vendors.directory_urls")),
    path("portal/", include("members.urls")),
    # Applying, the desk, the household's contribution and data pages, draw results.
    path("", include("members.household_urls")),
    # The vendors' pages.
    path("vendor/", include("vendors.urls")),
    # The citizen committee: votes, results, the register of decisions, meetings.
    path("committee/", include("governance.urls")),
    # The coordinators: dashboard, settlements, approvals, books, exports, audit.
    path("coordination/", include("coordination.urls")),
]
