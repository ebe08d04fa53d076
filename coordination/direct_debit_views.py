"""The coordinators' direct debit pages, under /coordination/direct-debits/: prepare a
month's collection, download its pain.008, confirm it, record the bank's returns.
Thin: members.direct_debits does the work."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocations import periods
from members import direct_debits
from members.models import ContributionPayment, DirectDebitCollection

from .decorators import coordinator_required


def _error(request, error: ValidationError) -> None:
    messages.error(request, " ".join(getattr(error, "messages", [str(error)])))


@coordinator_required
def collections(request):
    if request.method == "POST":
        try:
            collection = direct_debits.prepare_collection(request.POST.get("period", "").strip(), by=request.user)
        except ValidationError as error:
            _error(request, error)
            return redirect("coordination:direct_debits")
        return redirect("coordination:direct_debit", collection.pk)
    return render(request, "coordination/direct_debits.html", {
        "collections": DirectDebitCollection.objects.order_by("-period", "-presentation")[:24],
        "next_period": periods.current(),
        "returns": [(payment, direct_debits.reason_label(payment.rejection_reason)) for payment in
                    ContributionPayment.objects.filter(rejected_at__isnull=False)
                    .select_related("household").order_by("-rejected_at")[:50]],
        "reasons": sorted(direct_debits.REASONS.items()),
    })


@coordinator_required
def collection_detail(request, pk: int):
    collection = get_object_or_404(DirectDebitCollection, pk=pk)
    debits = list(collection.debits.select_related("mandate", "household").order_by("id"))
    return render(request, "coordination/direct_debit_collection.html", {
        "collection": collection,
        "debits": debits,
        "total": sum(debit.amount for debit in debits),
    })


@coordinator_required
def collection_file(request, pk: int):
    collection = get_object_or_404(DirectDebitCollection, pk=pk)
    try:
        payment_file = direct_debits.collection_file(collection)
    except ValidationError as error:
        _error(request, error)
        return redirect("coordination:direct_debit", collection.pk)
    response = HttpResponse(payment_file.content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{payment_file.filename}"'
    return response


@require_POST
@coordinator_required
def confirm(request, pk: int):
    collection = get_object_or_404(DirectDebitCollection, pk=pk)
    try:
        count = direct_debits.confirm_collection(collection, by=request.user)
        messages.success(request, _("%(count)s direct debits recorded as paid.") % {"count": count})
    except ValidationError as error:
        _error(request, error)
    return redirect("coordination:direct_debit", collection.pk)


@require_POST
@coordinator_required
def present_again(request, pk: int):
    collection = get_object_or_404(DirectDebitCollection, pk=pk)
    try:
        again = direct_debits.prepare_representation(collection.period, by=request.user)
    except ValidationError as error:
        _error(request, error)
        return redirect("coordination:direct_debit", collection.pk)
    return redirect("coordination:direct_debit", again.pk)


def _presentation(request) -> int:
    """Which presentation of the month the bank returned (1 unless it was presented again)."""
    value = request.POST.get("presentation", "1").strip()
    return int(value) if value.isdigit() and 0 < int(value) < 100 else 1


@require_POST
@coordinator_required
def reject(request):
    try:
        payment = direct_debits.record_rejection(
            request.POST.get("mandate", "").strip(), request.POST.get("period", "").strip(),
            request.POST.get("reason", ""), by=request.user,
            presentation=_presentation(request),
        )
        messages.success(request, _("Return recorded: the contribution of %(household)s for %(period)s is owed again.")
                         % {"household": payment.household.reference, "period": payment.period})
    except ValidationError as error:
        _error(request, error)
    return redirect("coordination:direct_debits")
