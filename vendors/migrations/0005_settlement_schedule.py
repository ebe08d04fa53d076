"""The weekly settlement run, in django-celery-beat's database schedule (editable in the
admin; a setting would overwrite the coordinators' edits at every start)."""

from django.db import migrations

NAME = "Weekly settlement run"


def forward(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # Monday 06:00: the run's cut-off is Monday 00:00, so the week is complete.
    weekly, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="6", day_of_week="1", day_of_month="*", month_of_year="*", timezone="Europe/Paris"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME, defaults={"task": "vendors.tasks.weekly_settlement_run_task", "crontab": weekly}
    )


def backward(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("vendors", "0004_settlements"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forward, backward)]
