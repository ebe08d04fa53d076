import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisse.settings")

app = Celery("caisse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The kernel is no Django app: its tasks are named here.
app.autodiscover_tasks(["kernel"], related_name="mail")
