from django.urls import path

from . import household_views as views
from . import life_views

app_name = "households"

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("apply/check/", life_views.rank_check, name="rank_check"),
    path("draws/<str:cohort>/", views.draw_result, name="draw"),
    path("desk/", views.desk_home, name="desk"),
    path("desk/open/", views.desk_open, name="desk_open"),
    path("desk/close/", views.desk_close, name="desk_close"),
    path("desk/apply/", views.desk_apply, name="desk_apply"),
    path("desk/import/", views.import_households, name="import"),
    path("desk/receipts/<int:payment_id>/", views.receipt, name="receipt"),
    path("desk/households/<str:reference>/", views.desk_household, name="desk_household"),
    path("desk/households/<str:reference>/cash/", views.desk_cash, name="desk_cash"),
    path("desk/households/<str:reference>/contact/", views.desk_contact, name="desk_contact"),
    path("desk/households/<str:reference>/payment/", views.record_payment, name="record_payment"),
    path("desk/households/<str:reference>/cards/<int:card_id>/<str:action>/", views.desk_card, name="desk_card"),
    path("desk/households/<str:reference>/persons/<int:person_id>/card/", views.desk_issue_card, name="desk_issue_card"),
    path("desk/households/<str:reference>/place/<str:action>/", life_views.desk_place, name="desk_place"),
    path("desk/households/<str:reference>/contribution/", life_views.desk_contribution, name="desk_contribution"),
    path("desk/households/<str:reference>/contribution/set/", life_views.coordinator_contribution,
         name="coordinator_contribution"),
    path("desk/households/<str:reference>/persons/<int:person_id>/login/", life_views.desk_login, name="desk_login"),
    path("desk/households/<str:reference>/pause/", life_views.desk_pause, name="desk_pause"),
    path("desk/households/<str:reference>/resume/", life_views.desk_resume, name="desk_resume"),
    path("desk/households/<str:reference>/exit/", life_views.desk_exit, name="desk_exit"),
    path("desk/households/<str:reference>/not-a-duplicate/", life_views.desk_clear_duplicate, name="desk_clear_duplicate"),
    path("portal/my-contribution/", views.my_contribution, name="my_contribution"),
    path("portal/my-data/", views.my_data, name="my_data"),
    path("portal/my-data/export.json", views.my_data_json, name="my_data_json"),
    path("portal/my-data/export.csv", views.my_data_csv, name="my_data_csv"),
]
