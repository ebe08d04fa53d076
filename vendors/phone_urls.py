"""The member's pages for paying from their own phone, inside the portal (/portal/pay/)."""

from django.urls import path

from . import phone_views

app_name = "phone"

urlpatterns = [
    path("", phone_views.enter_code, name="enter"),
    path("done/<int:purchase_id>/", phone_views.done, name="done"),
    path("stall/<slug:slug>/<str:token>/", phone_views.stall_pay, name="stall"),
    path("<str:code>/", phone_views.pay, name="pay"),
]
