from django.urls import path

from . import phone_views, views

app_name = "vendors"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("terminal/", views.terminal, name="terminal"),
    path("terminal/pay/", views.terminal_pay, name="terminal_pay"),
    path("terminal/refund/<int:purchase_id>/", views.terminal_refund, name="terminal_refund"),
    path("terminal/requests/", phone_views.request_new, name="payment_request_new"),
    path("terminal/requests/<int:request_id>/", phone_views.request_show, name="payment_request"),
    path("terminal/requests/<int:request_id>/status", phone_views.request_status, name="payment_request_status"),
    path("terminal/requests/<int:request_id>/cancel/", phone_views.request_cancel, name="payment_request_cancel"),
    path("stall/", phone_views.stall, name="stall"),
    path("apply/", views.apply, name="apply"),
    path("statements/<str:number>/", views.statement, name="statement"),
    path("statements/<str:number>/csv/", views.statement_csv, name="statement_csv"),
]
