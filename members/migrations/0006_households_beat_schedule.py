"""The data protection and arrears tasks, in django-celery-beat's database schedule."""

from django.db import migrations

TASKS = (
    ("Apply data retention periods", "members.tasks.apply_retention_task", {"minute": "15", "hour": "4"}),
    ("Remind households in arrears", "members.tasks.remind_arrears_task", {"minute": "0", "hour": "10", "day_of_month": "5"}),
)


def forward(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, when in TASKS:
        schedule, _ = CrontabSchedule.objects.get_or_create(
            **{"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*", **when},
            timezone="Europe/Paris",
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": schedule})


def backward(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[name for name, *_ in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [("members", "0005_cards_and_shop_reports"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forward, backward)]
