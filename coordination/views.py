"""The coordinators' pages of the allocations app: approvals (four eyes) for now.
Thin: services do the work."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocations import approvals, fund
from allocations.models import Approval

from .decorators import coordinator_required


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
    decision = request.POST.get("decision")
    if decision not in ("approve", "refuse"):
        # Nothing chosen (or a garbled form) decides nothing: it never counts as a refusal.
        messages.error(request, _("Choose to approve or to refuse this request."))
        return redirect("coordination:approvals")
    try:
        if decision == "approve":
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


# --- Grants -----------------------------------------------------------------------------

from django import forms  # noqa: E402
from django.core.validators import MinValueValidator  # noqa: E402
from django.db.models import Q, Sum  # noqa: E402
from django.utils.text import slugify  # noqa: E402
from django.utils.translation import gettext_lazy  # noqa: E402

from allocations import grants as grant_services  # noqa: E402
from allocations.models import Grant  # noqa: E402
from kernel.money import EurosField  # noqa: E402


class GrantForm(forms.ModelForm):
    amount_euros = EurosField(label=_("Amount promised (€)"), validators=[MinValueValidator(1, gettext_lazy("The amount must be more than zero."))])

    class Meta:
        model = Grant
        fields = ["funder_type", "funder_name", "reference", "promised_on", "earmark", "period_start", "period_end",
                  "notes"]
        widgets = {name: forms.DateInput(attrs={"type": "date"}) for name in ("promised_on", "period_start", "period_end")}


class ReceiptForm(forms.Form):
    amount_euros = EurosField(label=_("Amount received (€)"), validators=[MinValueValidator(1, gettext_lazy("The amount must be more than zero."))])
    received_on = forms.DateField(label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"}))
    bank_reference = forms.CharField(label=_("Bank reference"), max_length=64)


@coordinator_required
def grant_list(request):
    form = GrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        amount = data.pop("amount_euros")
        try:
            grant = grant_services.create_grant(amount=amount, **data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            return redirect("coordination:grant", grant.pk)
    # Net of receipts reversed (typed twice, returned): what the books say was received.
    grants = Grant.objects.annotate(received=Sum("receipts__amount",
                                                 filter=Q(receipts__transfer__reversed_by__isnull=True)))
    return render(request, "coordination/grants.html", {
        "grants": grants, "form": form, "agreement": grant_services.books_and_register()})


@coordinator_required
def grant_detail(request, pk: int):
    grant = get_object_or_404(Grant, pk=pk)
    form = ReceiptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        grant_services.record_receipt(grant, amount=data["amount_euros"], received_on=data["received_on"],
                                      bank_reference=data["bank_reference"], by=request.user)
        messages.success(request, _("Receipt recorded: the treasury is credited."))
        return redirect("coordination:grant", grant.pk)
    return render(request, "coordination/grant.html", {"report": grant_services.report(grant), "form": form})


def _report_rows(report) -> list[list]:
    """The per-grant report for the funder, as rows: the grant, its receipts, what the fund did."""
    grant = report.grant
    rows = [
        [_("Funder"), grant.funder_name], [_("Reference"), grant.reference],
        [_("Given for"), grant.earmark], [_("Promised on"), grant.promised_on.isoformat()],
        [_("Promised (€)"), _euros(grant.amount)], [_("Received (€)"), _euros(report.received)],
        [_("Still to receive (€)"), _euros(report.outstanding)],
        [_("Period from"), report.start.isoformat() if report.start else ""],
        [_("Period to"), report.end.isoformat() if report.end else ""],
        [_("Money in over the period, grants and contributions, net of returns (€)"), _euros(report.money_in)],
        [_("of which returned or corrected, shown apart (€)"), _euros(report.money_returned)],
        [_("This grant's share of it (%)"), f"{100 * report.share:.1f}".replace(".", ",")],
        [_("Allocations issued (units)"), _euros(report.allocations_issued)],
        [_("Households served"), report.households_served],
        [_("Paid to approved vendors for members' food, net (€)"), _euros(report.reimbursed_to_vendors)],
        [_("of which this grant's share (€)"), _euros(report.grant_part_of_reimbursements)],
        [],
        [_("Received on"), _("Amount (€)"), _("Bank reference")],
    ]
    rows += [[r.received_on.isoformat(), _euros(r.amount), r.bank_reference, _("reversed: not counted") if r.reversed else ""]
             for r in report.receipts]
    return rows


def _euros(cents: int) -> str:
    return f"{cents / 100:.2f}".replace(".", ",")


@coordinator_required
def grant_report_csv(request, pk: int):
    grant = get_object_or_404(Grant, pk=pk)
    return kernel_csv.response(_report_rows(grant_services.report(grant)), f"subvention-{slugify(grant.reference) or grant.pk}.csv")


@coordinator_required
def grant_report_print(request, pk: int):
    """The per-grant report as a page of its own, ready to print or save as PDF."""
    grant = get_object_or_404(Grant, pk=pk)
    return render(request, "coordination/grant_print.html", {"report": grant_services.report(grant)})


# --- Dashboard and CSV tables -----------------------------------------------------------

from django.conf import settings  # noqa: E402
from django.http import Http404, HttpResponseBadRequest  # noqa: E402

from kernel import csv as kernel_csv  # noqa: E402
from operations import monitoring  # noqa: E402

from . import charts, reports  # noqa: E402
from .waiting import waiting  # noqa: E402


def _span(request):
    """The span the dashboard's `period` parameter asks for, and the error to show if it
    is not one (then the default span: the last 12 months)."""
    try:
        return reports.span(request.GET.get(reports.PERIOD_PARAMETER)), None
    except reports.InvalidSpan as error:
        return reports.span(), str(error)


@coordinator_required
def dashboard(request):
    if settings.WATCH_ON_PAGES:
        # Beat may be dead: then no task of its can tell, this page must.
        monitoring.check_overdue()
    span, error = _span(request)
    if error:
        messages.error(request, error + " " + _("The page shows the last 12 months."))
    data = reports.dashboard(span)
    trends = data.trends
    unit = fund.cached().unit_label
    chart_specs = [
        ("issued", _("Units issued"), unit), ("spent", _("Units spent"), unit),
        ("contributions", _("Contributions received"), "€"), ("grants", _("Grants received"), "€"),
    ]
    share = data.participation.share_households
    return render(request, "coordination/dashboard.html", {
        "d": data,
        "charts": [(label, charts.bar_chart([(row.period, getattr(row, key)) for row in trends], title=str(label),
                                            unit=chart_unit, x_label=_("Month")))
                   for key, label, chart_unit in chart_specs],
        "share_spent_pct": None if data.participation.share_spent is None
        else round(100 * data.participation.share_spent),
        "share_households_pct": None if share is None else round(100 * share),
        "min_cell": reports.MIN_CELL,
        "waiting": waiting(),
        "span_choices": reports.span_choices(),
    }, status=400 if error else 200)


@coordinator_required
def export_table(request, name: str):
    if name not in reports.TABLES:
        raise Http404
    span, error = _span(request)
    if error:
        return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
    header, rows = reports.table(name, span)
    return kernel_csv.response([header, *rows], f"{name}-{span.key}.csv" if span.key else f"{name}.csv")
