"""The coordinators' settlement pages: runs, their approval (four eyes), the SEPA file,
the bank's confirmation entered by hand (four eyes) and the returns.
Thin: vendors.settlements and vendors.sepa do the work."""

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocations import approvals, fund
from allocations.models import Approval
from kernel.errors import DomainError
from vendors import selectors, sepa, settlements
from vendors.models import Settlement, SettlementRun

from .decorators import coordinator_required


def _errors(error) -> str:
    return " ".join(getattr(error, "messages", [str(error)]))


def _bank_date(request) -> date | None:
    try:
        return date.fromisoformat(request.POST.get("value_date", "").strip())
    except ValueError:
        messages.error(request, _("Enter the bank's date as on its statement (a date, e.g. 2026-11-30)."))
        return None


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
        "returned": selectors.returned_settlements(limit=20),
        "committed": selectors.committed_total(),
    })


@coordinator_required
def run_detail(request, pk: int):
    run = get_object_or_404(SettlementRun, pk=pk)
    rows = list(run.settlements.select_related("vendor").order_by("number"))
    return render(request, "coordination/settlement_run.html", {
        "run": run,
        "settlements": rows,
        "unpayable": [s for s in rows if s.status == Settlement.Status.CARRIED],
        "without_iban": [s for s in rows if s.status == Settlement.Status.PENDING
                         and not settlements.vendor_payable(s.vendor)],
        "returned": [s for s in rows if s.status == Settlement.Status.RETURNED],
        "approval": approvals.pending(Approval.Action.SETTLEMENT_PAYMENT, run.pk),
        "confirmation": settlements.pending_confirmation(run),
        "bank_configured": fund.bank_configured(),
        "schemas": sepa.SCHEMAS,
    })


@require_POST
@coordinator_required
def request_payment(request, pk: int):
    run = get_object_or_404(SettlementRun, pk=pk)
    try:
        settlements.request_payment(run, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, _("Asked: a second coordinator must now approve the payment."))
    except (DomainError, ValidationError, PermissionDenied) as error:
        messages.error(request, _errors(error))
    return redirect("coordination:settlement_run", run.pk)


@require_POST
@coordinator_required
def request_confirmation(request, pk: int):
    run = get_object_or_404(SettlementRun, pk=pk)
    value_date = _bank_date(request)
    if value_date is not None:
        try:
            settlements.request_bank_confirmation(run, value_date=value_date, by=request.user,
                                                  reason=request.POST.get("reason", ""))
            messages.success(request, _("Asked: a second coordinator must now confirm the bank's date."))
        except (DomainError, ValidationError, PermissionDenied) as error:
            messages.error(request, _errors(error))
    return redirect("coordination:settlement_run", run.pk)


@require_POST
@coordinator_required
def request_return(request, pk: int, number: str):
    settlement = get_object_or_404(Settlement, run_id=pk, number=number)
    value_date = _bank_date(request)
    if value_date is not None:
        try:
            settlements.request_return(settlement, returned_on=value_date, by=request.user,
                                       reason=request.POST.get("reason", ""))
            messages.success(request, _("Asked: a second coordinator must now confirm the return."))
        except (DomainError, ValidationError, PermissionDenied) as error:
            messages.error(request, _errors(error))
    return redirect("coordination:settlement_run", pk)


@coordinator_required
def payment_file(request, pk: int):
    run = get_object_or_404(SettlementRun, pk=pk)
    try:
        payment = sepa.credit_transfer_file(run, schema=request.GET.get("schema", sepa.DEFAULT_SCHEMA))
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("coordination:settlement_run", run.pk)
    settlements.mark_file_issued(run)
    response = HttpResponse(payment.content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{payment.filename}"'
    return response
