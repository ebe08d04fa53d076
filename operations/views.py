"""The status endpoint of an external monitor: more than /healthz, behind a token."""

import hmac

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from . import backups, monitoring


def _token(request) -> str:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else request.GET.get("token", "")


@never_cache
def status(request):
    if not settings.STATUS_TOKEN:
        raise Http404
    if not hmac.compare_digest(_token(request).encode(), settings.STATUS_TOKEN.encode()):
        return JsonResponse({"error": "a valid token is required (Authorization: Bearer …)"}, status=401)
    checks: dict = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    checks["database"] = "ok"
    try:
        key = "status-probe"
        cache.set(key, "ok", 10)
        checks["redis"] = "ok" if cache.get(key) == "ok" else "unreadable"
    except Exception as error:
        checks["redis"] = f"error: {type(error).__name__}"
    # The dead-man check runs here too: an external monitor polling /status raises the
    # alarm even when beat, the worker and the coordinators are all away.
    overdue = monitoring.check_overdue()
    statuses = monitoring.task_statuses()
    heartbeat = next((s for s in statuses if s.task == monitoring.HEARTBEAT), None)
    beat_alive = heartbeat is not None and not heartbeat.overdue and heartbeat.last_started is not None
    checks["beat"] = "ok" if beat_alive else "no recent heartbeat"
    checks["worker"] = "ok" if beat_alive and heartbeat.last_outcome == "ok" else "no recent heartbeat run"
    try:
        age = backups.latest_backup_age()
    except backups.BackupError:
        age = None
    open_alarms = monitoring.open_alarms().count()
    healthy = (
        all(value == "ok" for value in checks.values())
        and not overdue
        and open_alarms == 0
    )
    return JsonResponse(
        {
            "status": "ok" if healthy else "degraded",
            "at": timezone.now().isoformat(),
            "checks": checks,
            "open_alarms": open_alarms,
            "latest_backup_age_hours": round(age.total_seconds() / 3600, 1) if age is not None else None,
            "tasks": [s.as_dict() for s in statuses],
        },
        status=200 if healthy else 503,
    )
