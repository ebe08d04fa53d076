from django.urls import path

from . import views

app_name = "vendors"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("terminal/", views.terminal, name="terminal"),
    path("terminal/pay/", views.terminal_pay, name="terminal_pay"),
    path("terminal/refund/<int:purchase_id>/", views.terminal_refund, name="terminal_refund"),
    path("apply/", views.apply, name="apply"),
    path("statements/<str:number>/", views.statement, name="statement"),
    path("statements/<str:number>/csv/", views.statement_csv, name="statement_csv"),
]
