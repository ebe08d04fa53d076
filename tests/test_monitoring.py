"""Alarms when the night goes wrong: runs recorded, one alarm per cause, shown on the
dashboard until acknowledged and e-mailed once; beat's silence noticed; the status endpoint."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django_celery_beat.models import PeriodicTask

from caisse import tasks as caisse_tasks
from caisse.sentry import scrub
from operations import tasks
from operations.models import Alarm, TaskRun

from .staff import log_in_staff

START = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def schedule(db):
    """The beat schedule of operations' migration (a transactional test elsewhere may have
    flushed the rows migrations made)."""
    from django.apps import apps

    importlib.import_module("operations.migrations.0002_schedule").forward(apps, None)


@pytest.fixture
def unreachable_target(settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.BACKUP_DIR = blocker / "backups"


def _banner(client, user):
    log_in_staff(client, user)  # again after each jump in time: an idle staff session ends
    page = client.get("/coordination/")
    assert page.status_code == 200
    return page.content.decode()


def test_periodic_task_runs_are_recorded_and_other_tasks_are_not():
    tasks.heartbeat_task.apply()
    caisse_tasks.ping.apply()
    run = TaskRun.objects.get()
    assert (run.task, run.outcome, run.result) == ("operations.tasks.heartbeat_task", "ok", "alive")
    assert run.finished_at >= run.started_at


def test_a_failing_periodic_task_raises_one_alarm_shown_and_mailed_once_until_acknowledged(
    unreachable_target, admin_user, client, django_capture_on_commit_callbacks
):
    assert 'data-testid="alarms"' not in _banner(client, admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.backup_task.apply()
        tasks.backup_task.apply()

    runs = TaskRun.objects.filter(task="operations.tasks.backup_task")
    assert [r.outcome for r in runs] == ["failed", "failed"]
    assert "Impossible d’écrire dans le dossier des sauvegardes" in runs[0].error
    alarm = Alarm.objects.get()
    assert alarm.occurrences == 2
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["admin@example.com"]
    assert "operations.tasks.backup_task" in mail.outbox[0].subject
    page = _banner(client, admin_user)
    assert 'data-testid="alarms"' in page and "operations.tasks.backup_task" in page

    client.post(f"/coordination/alarms/{alarm.pk}/acknowledge/")
    alarm.refresh_from_db()
    assert alarm.acknowledged_by == admin_user
    assert 'data-testid="alarms"' not in _banner(client, admin_user)

    # Failing again after the acknowledgment is a new alarm, told again.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.backup_task.apply()
    assert Alarm.objects.filter(acknowledged_at__isnull=True).count() == 1
    assert len(mail.outbox) == 2


def test_beat_stopped_past_its_interval_raises_exactly_one_alarm_on_the_dashboard(
    settings, admin_user, client, django_capture_on_commit_callbacks
):
    settings.WATCH_ON_PAGES = True
    with time_machine.travel(START, tick=False) as traveller:
        PeriodicTask.objects.update(date_changed=START)  # the schedule as it was set
        tasks.heartbeat_task.apply()
        traveller.move_to(START + timedelta(minutes=4))
        with django_capture_on_commit_callbacks(execute=True):
            assert 'data-testid="alarms"' not in _banner(client, admin_user)
        assert Alarm.objects.count() == 0

        # Beat stops: no heartbeat for an hour; every task is late, one cause is told.
        traveller.move_to(START + timedelta(hours=1))
        with django_capture_on_commit_callbacks(execute=True):
            first = _banner(client, admin_user)
            _banner(client, admin_user)
    alarm = Alarm.objects.get()
    assert alarm.key == "overdue:beat"
    assert alarm.occurrences == 2
    assert 'data-testid="alarms"' in first and alarm.title in first
    assert len(mail.outbox) == 1


def test_a_periodic_task_not_run_when_due_raises_its_own_alarm(django_capture_on_commit_callbacks):
    from operations import monitoring

    with time_machine.travel(START, tick=False) as traveller:
        PeriodicTask.objects.update(date_changed=START)
        traveller.move_to(START + timedelta(hours=2))
        tasks.heartbeat_task.apply()  # beat is alive…
        with django_capture_on_commit_callbacks(execute=True):
            overdue = monitoring.check_overdue()
    # …but the 15-minute check (never run since it was scheduled) is late.
    assert "operations.tasks.check_overdue_task" in [s.task for s in overdue]
    assert "overdue:operations.tasks.check_overdue_task" in set(Alarm.objects.values_list("key", flat=True))
    assert "overdue:beat" not in set(Alarm.objects.values_list("key", flat=True))


def test_the_status_endpoint_needs_its_token_and_reports_each_part(settings, client):
    settings.STATUS_TOKEN = ""
    assert client.get("/status").status_code == 404
    settings.STATUS_TOKEN = "monitor-token"
    assert client.get("/status").status_code == 401
    assert client.get("/status", headers={"Authorization": "Bearer wrong"}).status_code == 401

    with time_machine.travel(START, tick=False) as traveller:
        PeriodicTask.objects.update(date_changed=START)
        silent = client.get("/status", headers={"Authorization": "Bearer monitor-token"})
        assert silent.status_code == 503
        assert silent.json()["checks"]["beat"] == "no recent heartbeat"

        tasks.heartbeat_task.apply()
        traveller.move_to(START + timedelta(minutes=3))
        alive = client.get("/status", headers={"Authorization": "Bearer monitor-token"})
    body = alive.json()
    assert alive.status_code == 200, body
    assert body["checks"] == {"database": "ok", "redis": "ok", "beat": "ok", "worker": "ok"}
    heartbeat = next(t for t in body["tasks"] if t["task"] == "operations.tasks.heartbeat_task")
    assert heartbeat["last_outcome"] == "ok" and not heartbeat["overdue"]
    assert client.get("/healthz").json() == {"status": "ok"}  # liveness stays cheap and open


def test_sentry_events_lose_personal_data():
    event = {
        "request": {"data": {"iban": "FR76…"}, "cookies": {"sessionid": "x"}, "query_string": "q=Dupont",
                    "headers": {"User-Agent": "x", "Cookie": "sessionid=x", "Authorization": "Bearer y"}},
        "user": {"email": "a@b.c"},
        "exception": {"values": [{"stacktrace": {"frames": [{"function": "f", "vars": {"pin": "1234"}}]}}]},
        "breadcrumbs": {"values": [{"message": "SELECT … Dupont"}]},
    }
    scrubbed = scrub(event)
    assert scrubbed["request"] == {"headers": {"User-Agent": "x"}}
    assert "user" not in scrubbed and "breadcrumbs" not in scrubbed
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"] == [{"function": "f"}]
