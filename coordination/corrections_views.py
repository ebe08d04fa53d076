"""The coordinators' corrections (issue 15): a purchase refunded by a coordinator, cash held
above the desk's ceiling, desk closings with a difference. Thin: vendors.payments and
members.desk decide; these pages ask and show.

No page here names the member behind a purchase: a correction needs the purchase, not who
made it (and the shop, which sees the refund, must never learn more)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MinValueValidator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from allocations.models import Approval
from kernel.errors import DomainError
from kernel.money import EurosField, format_cents
from members import desk
from members.models import DeskSession, HeldCash
from vendors import payments, selectors
from vendors.models import Purchase

from .decorators import coordinator_required

# --- A coordinator's refund of a purchase -------------------------------------------------


class RefundForm(forms.Form):
    amount_euros = EurosField(label=gettext_lazy("Amount to give back (€)"),
                              validators=[MinValueValidator(1, gettext_lazy("The amount must be more than zero."))],
                              error_messages={"required": gettext_lazy("Say how much to give back, in euros.")})
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=255,
                             error_messages={"required": gettext_lazy("Say why this purchase is refunded.")})


# The service names the parameter at fault; the form names its field.
_REFUND_FIELDS = {"amount": "amount_euros", "reason": "reason"}


@coordinator_required
def refund_search(request):
    query = request.GET.get("q", "").strip()
    found = selectors.purchases_matching(query) if query else []
    if len(found) == 1:
        return redirect("coordination:refund", found[0].pk)
    return render(request, "coordination/refund_search.html", {"query": query, "found": found})


@coordinator_required
def refund_purchase(request, pk: int):
    purchase = get_object_or_404(Purchase.objects.select_related("vendor"), pk=pk)
    form = RefundForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                outcome = payments.coordinator_refund(purchase_id=purchase.pk, amount=form.cleaned_data["amount_euros"],
                                                      reason=form.cleaned_data["reason"], by=request.user)
            except (DomainError, PermissionDenied) as error:
                field = _REFUND_FIELDS.get(getattr(error, "param", None) or "")
                form.add_error(field, getattr(error, "messages", None) or [str(error)])
            else:
                if isinstance(outcome, Approval):
                    messages.success(request, _("Asked: above %(limit)s, a second coordinator approves the refund on "
                                                "the approvals page.") % {"limit": format_cents(payments.refund_four_eyes_above())})
                else:
                    messages.success(request, _("Refunded: %(amount)s back to the member's wallet.")
                                     % {"amount": format_cents(outcome.amount)})
                return redirect("coordination:refund", purchase.pk)
        status = 400
    return render(request, "coordination/refund.html", {
        "purchase": purchase,
        "refunds": purchase.refunds.select_related("recorded_by").order_by("pk"),
        "waiting": Approval.objects.filter(action=payments.PURCHASE_REFUND, status=Approval.Status.PENDING,
                                           target__startswith=f"{purchase.pk}:").select_related("requested_by"),
        "refundable": purchase.amount - purchase.refunded,
        "four_eyes_above": payments.refund_four_eyes_above(),
        "form": form,
    }, status=status)


# --- Cash held above the desk's ceiling ----------------------------------------------------


def _held_cash_page(request, *, error_pk=None, error="", status=200):
    waiting = desk.held_cash_waiting().select_related("household", "session__desk", "taken_by").order_by("taken_at", "pk")
    decided = (HeldCash.objects.filter(decided_at__isnull=False).select_related("household", "decided_by", "payment__desk")
               .order_by("-decided_at", "-pk")[:20])
    return render(request, "coordination/held_cash.html", {
        "waiting": waiting, "decided": decided, "error_pk": error_pk, "error": error, "posted": request.POST,
        "ceiling": desk.cash_ceiling(),
    }, status=status)


@coordinator_required
def held_cash(request):
    return _held_cash_page(request)


@require_POST
@coordinator_required
def held_cash_decide(request, pk: int):
    held = get_object_or_404(HeldCash, pk=pk)
    decision = request.POST.get("decision")
    try:
        if decision == "confirm":
            payment = desk.confirm_held_cash(held, by=request.user)
            messages.success(request, _("Payment recorded, receipt %(receipt)s.") % {"receipt": payment.receipt_label})
        elif decision == "refuse":
            desk.refuse_held_cash(held, by=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("Refused: nothing enters the books."))
        else:
            raise ValidationError(_("Choose to confirm or to refuse this cash."))
    except (ValidationError, PermissionDenied) as error:
        return _held_cash_page(request, error_pk=held.pk, error=" ".join(getattr(error, "messages", [str(error)])),
                               status=400)
    return redirect("coordination:held_cash")


# --- Desk closings with a difference --------------------------------------------------------


def _differences_page(request, *, error_pk=None, error="", status=200):
    waiting = desk.unexplained_differences().select_related("desk", "closed_by").order_by("closed_at", "pk")
    explained = (DeskSession.objects.filter(difference_explained_at__isnull=False)
                 .select_related("desk", "difference_explained_by").order_by("-difference_explained_at", "-pk")[:20])
    return render(request, "coordination/desk_differences.html", {
        "waiting": waiting, "explained": explained, "error_pk": error_pk, "error": error, "posted": request.POST,
    }, status=status)


@coordinator_required
def desk_differences(request):
    return _differences_page(request)


@require_POST
@coordinator_required
def explain_difference(request, pk: int):
    session = get_object_or_404(DeskSession, pk=pk)
    try:
        desk.explain_difference(session, by=request.user, explanation=request.POST.get("explanation", ""))
    except (ValidationError, PermissionDenied) as error:
        return _differences_page(request, error_pk=session.pk, error=" ".join(getattr(error, "messages", [str(error)])),
                                 status=400)
    messages.success(request, _("Explained: the difference leaves the list."))
    return redirect("coordination:desk_differences")
