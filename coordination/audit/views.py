"""The coordinators' audit page: /coordination/audit/, filtered by model and dates,
paginated (a fixed number of queries per page). Thin: coordination.audit.services reads."""

from datetime import date

from django.core.paginator import Paginator
from django.shortcuts import render

from coordination.decorators import coordinator_required

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
    context = {"models": services.tracked_labels(), "model": model, "since": since, "until": until}
    page = Paginator(services.events(model=model, since=since, until=until), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context.update(page=page, rows=services.describe(list(page.object_list)))
    return render(request, "coordination/audit.html", context)
