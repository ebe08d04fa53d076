from django.urls import path, re_path

from . import api
from .api_errors import not_found

urlpatterns = [
    path("purchases", api.PurchasesView.as_view(), name="api-purchases"),
    path("purchases/<str:purchase_id>", api.PurchaseView.as_view(), name="api-purchase"),
    path("purchases/<str:purchase_id>/refunds", api.RefundsView.as_view(), name="api-refunds"),
    path("payment_requests", api.PaymentRequestsView.as_view(), name="api-payment-requests"),
    path("payment_requests/<str:request_id>", api.PaymentRequestView.as_view(), name="api-payment-request"),
    path("payment_requests/<str:request_id>/cancel", api.PaymentRequestCancelView.as_view(),
         name="api-payment-request-cancel"),
    path("vendor", api.VendorView.as_view(), name="api-vendor"),
]
# Registered after the schema and docs routes in caisse/urls.py: whatever else is asked
# under /api/v1/ gets a JSON 404, not an HTML page.
fallback = [re_path(r"^.*$", not_found)]
