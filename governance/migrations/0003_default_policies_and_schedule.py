"""Default decision policies per kind, and the periodic tasks that close votes at their
deadline and remind those who have not voted.

Vendor decisions are secret by default: committee members are neighbours and customers
of the shops they judge. A revocation needs two thirds; a rules change is decided by
consent, as the committee works by consent first. Coordinators edit all of it in the admin.
The schedule lives in django-celery-beat's tables (not a setting) so that the admin's
edits survive restarts.
"""

from django.db import migrations

POLICIES = {
    "approve_vendor": {"method": "majority", "quorum_percent": 50, "voting_days": 14, "secret": True},
    "suspend_vendor": {"method": "majority", "quorum_percent": 50, "voting_days": 10, "secret": True},
    "revoke_vendor": {"method": "qualified", "qualified_numerator": 2, "qualified_denominator": 3,
                      "quorum_percent": 50, "voting_days": 14, "secret": True},
    "reinstate_vendor": {"method": "majority", "quorum_percent": 50, "voting_days": 10, "secret": True},
    "change_rules": {"method": "consent", "quorum_percent": 50, "voting_days": 21, "secret": False},
    "motion": {"method": "majority", "quorum_percent": 33, "voting_days": 14, "secret": False},
}

TASKS = {
    "Governance: close votes at their deadline": ("governance.tasks.close_due_proposals_task", "*/5", "*"),
    "Governance: remind who has not voted": ("governance.tasks.remind_voters_task", "0", "*"),
}


def forward(apps, schema_editor):
    Policy = apps.get_model("governance", "Policy")
    for kind, values in POLICIES.items():
        Policy.objects.get_or_create(kind=kind, defaults=values)
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, (task, minute, hour) in TASKS.items():
        schedule, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="Europe/Paris"
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": schedule})


def backward(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=list(TASKS)).delete()
    apps.get_model("governance", "Policy").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0002_proposals_votes_meetings"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(forward, backward)]
