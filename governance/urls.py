from django.urls import path

from . import views

app_name = "governance"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.new_proposal, name="new"),
    path("p/<int:pk>/", views.proposal_detail, name="proposal"),
    path("p/<int:pk>/vote/", views.vote, name="vote"),
    path("p/<int:pk>/recuse/", views.recuse, name="recuse"),
    path("p/<int:pk>/results/", views.results, name="results"),
    path("p/<int:pk>/results.csv", views.results_csv, name="results_csv"),
    path("p/<int:pk>/receipt/", views.check_receipt, name="check_receipt"),
    path("p/<int:pk>/edit/", views.edit_proposal, name="edit"),
    path("p/<int:pk>/<str:action>/", views.act, name="act"),
    path("register/", views.register, name="register"),
    # What vendors' status changes and fund rules versions point to ("CC-12").
    path("decisions/<str:reference>/", views.decision, name="decision"),
    path("my-votes/", views.my_history, name="history"),
    path("meetings/", views.meeting_list, name="meetings"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("vendor/", views.vendor_votes, name="vendor_votes"),
]
