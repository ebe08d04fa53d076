from django.urls import path

from . import portal

app_name = "members"

urlpatterns = [
    path("", portal.home, name="portal"),
    path("history/", portal.history, name="history"),
    path("cards/", portal.card_list, name="cards"),
    path("cards/<int:card_id>/", portal.card_detail, name="card"),
    path("cards/<int:card_id>/print/", portal.card_print, name="card_print"),
    path("cards/<int:card_id>/<str:action>/", portal.card_action, name="card_action"),
    path("reports/", portal.report_list, name="reports"),
]
