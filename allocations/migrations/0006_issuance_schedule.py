"""The monthly issuance and its companions, in django-celery-beat's database schedule.

Rows, not a `beat_schedule` setting, so coordinators' edits in the admin survive a
restart. Both issuance rows run the same "issue what is due" task: on the 1st at 00:05
it issues the new month; the daily run catches up, in order, any period missed while
the workers were down (and credits households that joined since).
"""

from django.db import migrations

PARIS = "Europe/Paris"
TASKS = [
    # name, task, (minute, hour, day_of_month)
    ("Issue the monthly allocations", "allocations.tasks.issue_due_task", ("5", "0", "1")),
    ("Issue what is due (catch-up)", "allocations.tasks.issue_due_task", ("0", "6", "*")),
    ("Check the fund's runway", "allocations.tasks.check_runway_task", ("0", "7", "*")),
    ("Remind members of expiring balances", "allocations.tasks.remind_expiring_balances_task", ("0", "10", "*")),
]


def forward(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, (minute, hour, day_of_month) in TASKS:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month=day_of_month, month_of_year="*", timezone=PARIS
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


def backward(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[t[0] for t in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [("allocations", "0005_initial_fund_rules"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forward, backward)]
