"""The coordinators' audit page: /coordination/audit/, filtered by model and dates,
paginated (a fixed number of queries per page). Thin: caisse.audit.services reads."""

from datetime import date

from django.core.paginator import Paginator
from django.shortcuts import render

from allocations.coordination import coordinator_required
from users.models import User

from . import services

PAGE_SIZE = 50


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@coordinator_required
def audit(request):
    model = request.GET.get("model", "")
    since, until = _date(request.GET.get("since", "")), _date(request.GET.get("until", ""))
    context = {"models": list(services.TRACKED), "model": model, "since": since, "until": until}
    page = Paginator(services.events(model=model, since=since, until=until), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = list(page.object_list)
    user_ids = {(row.pgh_context or {}).get("user") for row in rows} - {None}
    names = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "username"))
    for row in rows:
        row.who = names.get((row.pgh_context or {}).get("user"), "")
        row.changes = sorted((row.pgh_diff or {}).items())
    context.update(page=page, rows=rows)
    return render(request, "coordination/audit.html", context)
