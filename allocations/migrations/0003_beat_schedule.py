"""The ledger's periodic check, in django-celery-beat's database schedule.

Created here rather than in a `beat_schedule` setting, which would overwrite the
coordinators' edits in the admin at every start.
"""

from django.db import migrations


def forward(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Europe/Paris"
    )
    PeriodicTask.objects.get_or_create(
        name="Check the ledger",
        defaults={"task": "allocations.tasks.check_ledger_task", "crontab": nightly},
    )


def backward(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="Check the ledger").delete()


class Migration(migrations.Migration):
    dependencies = [("allocations", "0002_ledger_guarantees"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forward, backward)]
