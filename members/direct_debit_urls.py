"""Direct debits, for coordinators: /coordination/direct-debits/."""

from django.urls import path

from . import direct_debit_views as views

app_name = "direct_debits"

urlpatterns = [
    path("", views.collections, name="collections"),
    path("<int:pk>/", views.collection_detail, name="collection"),
    path("<int:pk>/pain008.xml", views.collection_file, name="file"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("returns/", views.reject, name="reject"),
]
