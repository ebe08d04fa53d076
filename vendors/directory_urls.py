from django.urls import path

from . import directory

app_name = "directory"

urlpatterns = [path("", directory.shops, name="shops")]
