"""The heartbeat, the dead-man check, the nightly backup and the weekly restore drill,
in django-celery-beat's database schedule (coordinators may move them in the admin)."""

from django.db import migrations

PARIS = "Europe/Paris"
CRONTABS = [
    # name, task, (minute, hour, day_of_week)
    ("Back up the database", "operations.tasks.backup_task", ("30", "2", "*")),
    ("Restore drill: restore the latest backup and check it", "operations.tasks.restore_drill_task", ("0", "5", "0")),
]
INTERVALS = [
    # name, task, minutes
    ("Heartbeat (proves beat and a worker run)", "operations.tasks.heartbeat_task", 5),
    ("Check that every periodic task ran when due", "operations.tasks.check_overdue_task", 15),
]


def forward(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, (minute, hour, day_of_week) in CRONTABS:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week=day_of_week, day_of_month="*", month_of_year="*", timezone=PARIS
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})
    for name, task, minutes in INTERVALS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


def backward(apps, schema_editor):
    names = [t[0] for t in CRONTABS + INTERVALS]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("operations", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forward, backward)]
