"""The coordinators' settlement pages: runs, their payment (four eyes), the SEPA file.
Thin: vendors.settlements and vendors.sepa do the work."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocations import approvals
from allocations.models import Approval
from vendors import sepa, settlements
from vendors.models import SettlementRun

from .decorators import coordinator_required


@coordinator_required
def runs(request):
    if request.method == "POST":
        try:
            result = settlements.create_run(by=request.user)
        except settlements.SettlementError as error:
            messages.error(request, str(error))
            return redirect("coordination:settlement_runs")
        return redirect("coordination:settlement_run", result.run.pk)
    return render(request, "coordination/settlement_runs.html", {
        "runs": SettlementRun.objects.order_by("-cutoff")[:52],
    })


@coordinator_required
def run_detail(request, pk: int):
    run = get_object_or_404(SettlementRun, pk=pk)
    return render(request, "coordination/settlement_run.html", {
        "run": run,
        "settlements": run.settlements.select_related("vendor").order_by("number"),
        "unpayable": sepa.unpayable(run),
        "without_iban": [s for s in run.settlements.select_related("vendor").filter(status="pending")
                         if not settlements.vendor_payable(s.vendor)],
        "approval": approvals.pending(Approval.Action.SETTLEMENT_PAYMENT, run.pk),
        "schemas": sepa.SCHEMAS,
    })


@require_POST
@coordinator_required
def request_payment(request, pk: int):
    run = get_object_or_404(SettlementRun, pk=pk)
    try:
        settlements.request_payment(run, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, _("Asked: a second coordinator must now approve the payment."))
    except (settlements.SettlementError, ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("coordination:settlement_run", run.pk)


@coordinator_required
def payment_file(request, pk: int):
    run = get_object_or_404(SettlementRun, pk=pk)
    try:
        payment = sepa.credit_transfer_file(run, schema=request.GET.get("schema", sepa.DEFAULT_SCHEMA))
    except sepa.SepaError as error:
        messages.error(request, str(error))
        return redirect("coordination:settlement_run", run.pk)
    response = HttpResponse(payment.content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{payment.filename}"'
    return response
