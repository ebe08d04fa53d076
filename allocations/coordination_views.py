"""The coordinators' pages of the allocations app: approvals (four eyes) for now.
Thin: services do the work."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import approvals
from .coordination import coordinator_required
from .models import Approval


@coordinator_required
def approval_list(request):
    return render(request, "coordination/approvals.html", {
        "pending": Approval.objects.filter(status=Approval.Status.PENDING).select_related("requested_by"),
        "done": Approval.objects.exclude(status=Approval.Status.PENDING).select_related(
            "requested_by", "decided_by")[:50],
    })


@require_POST
@coordinator_required
def approval_decide(request, pk: int):
    approval = get_object_or_404(Approval, pk=pk)
    try:
        if request.POST.get("decision") == "approve":
            approvals.approve(approval, by=request.user)
            messages.success(request, _("Approved and carried out."))
        else:
            approvals.refuse(approval, by=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("Refused."))
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("coordination:approvals")


@require_POST
@coordinator_required
def request_reversal(request):
    try:
        approvals.request_reversal(int(request.POST.get("transfer", "0")), by=request.user,
                                   reason=request.POST.get("reason", ""))
        messages.success(request, _("Asked: a second coordinator must now approve the reversal."))
    except (ValueError, ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("coordination:approvals")
