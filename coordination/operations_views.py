"""The coordinators' view of the platform's health: alarms, periodic tasks, backups, drills."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from operations import backups, monitoring
from operations.models import Alarm, RestoreDrill

from .decorators import coordinator_required


@coordinator_required
def operations_page(request):
    try:
        names, backup_error = backups.list_backups()[-10:], None
    except backups.BackupError as error:
        names, backup_error = [], str(error)
    return render(request, "coordination/operations.html", {
        "tasks": monitoring.task_statuses(),
        "backups": [(name, backups.taken_at(name)) for name in reversed(names)],
        "backup_error": backup_error,
        "drills": RestoreDrill.objects.all()[:10],
        "alarms": Alarm.objects.select_related("acknowledged_by")[:20],
    })


@require_POST
@coordinator_required
def acknowledge(request, pk: int):
    alarm = get_object_or_404(Alarm, pk=pk)
    monitoring.acknowledge(alarm_id=alarm.pk, by=request.user)
    messages.success(request, _("Alarm acknowledged: it is no longer shown."))
    back = request.POST.get("next") or request.headers.get("Referer", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("coordination:dashboard")
