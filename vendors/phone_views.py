"""Paying from one's own phone (vendors.payment_requests): the shop's request screen,
which polls its request until it is paid, the stall's printed code, and the member's
pages in the portal (a vendors page, as the shops' directory: members does not import
vendors). Thin: forms in, the services called, templates out."""

from __future__ import annotations

import uuid

import segno
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kernel.money import format_cents
from members.portal import member_required
from members.selectors import paying_card

from . import payment_requests, payments
from .models import PaymentRequest, Purchase
from .views import _till_label, _today_purchases, _typed_amount, vendor_staff_required


def _qr(url: str, title: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=6, border=2, title=title)


# --- The shop's side --------------------------------------------------------------------


@vendor_staff_required
def request_new(request):
    """The shop types the amount; the request is made and its QR code shown."""
    error = None
    if request.method == "POST":
        amount = _typed_amount(request.POST.get("amount", ""))
        try:
            if amount is None:
                raise payments.InvalidRequest(_("Type the amount in euros, e.g. 12,50."), param="amount")
            payment_request, _replayed = payment_requests.create_request(
                vendor=request.vendor, idempotency_key=request.POST.get("idempotency_key", ""), amount=amount,
                reference=request.POST.get("reference", "")[:255], till=_till_label(request))
        except payments.PaymentError as refusal:
            error = refusal.message
        else:
            return redirect("vendors:payment_request", request_id=payment_request.pk)
    return render(request, "vendors/payment_request_new.html", {
        "vendor": request.vendor, "error": error, "idempotency_key": uuid.uuid4().hex,
        "values": request.POST if request.method == "POST" else {},
    }, status=400 if error else 200)


def _request_state(payment_request: PaymentRequest) -> dict:
    """What the shop's screen says of its request: status and words, nothing of the member."""
    status = payment_requests.status_of(payment_request)
    headline = {
        "pending": _("Waiting for the member's phone"),
        "paid": _("Paid"),
        "expired": str(payment_requests.RequestExpired.message),
        "cancelled": _("Cancelled"),
    }[status]
    detail = ""
    if status == "paid" and payment_request.purchase_id:
        purchase = payment_request.purchase
        rest = purchase.requested - purchase.amount
        detail = (_("%(paid)s paid by the fund, %(rest)s left to pay") % {
            "paid": format_cents(purchase.amount), "rest": format_cents(rest)} if rest else
            _("%(paid)s paid by the fund") % {"paid": format_cents(purchase.amount)})
    return {"status": status, "headline": headline, "detail": detail,
            "at": timezone.localtime(payment_request.decided_at).strftime("%H:%M") if payment_request.decided_at else ""}


@vendor_staff_required
def request_show(request, request_id: int):
    payment_request = get_object_or_404(PaymentRequest.objects.select_related("purchase"), pk=request_id,
                                         vendor=request.vendor)
    pay_url = request.build_absolute_uri(reverse("phone:pay", args=[payment_request.code]))
    return render(request, "vendors/payment_request.html", {
        "vendor": request.vendor, "payment_request": payment_request, "state": _request_state(payment_request),
        "qr": _qr(pay_url, _("Payment request QR code")),
    })


@vendor_staff_required
def request_status(request, request_id: int):
    """Polled by the request screen until the request is paid, expired or cancelled."""
    payment_request = get_object_or_404(PaymentRequest.objects.select_related("purchase"), pk=request_id,
                                        vendor=request.vendor)
    return JsonResponse(_request_state(payment_request))


@require_POST
@vendor_staff_required
def request_cancel(request, request_id: int):
    try:
        payment_requests.cancel_request(vendor=request.vendor, request_id=request_id)
    except payment_requests.RequestNotFound:
        return redirect("vendors:payment_request_new")
    except payments.PaymentError:
        pass  # the screen says what happened (paid, expired)
    return redirect("vendors:payment_request", request_id=request_id)


@vendor_staff_required
def stall(request):
    """The stall's printed code: its QR code, and the codes of the coming days to keep
    beside it; today's payments from members' phones."""
    vendor = request.vendor
    url = request.build_absolute_uri(reverse("phone:stall", args=[vendor.slug, payment_requests.stall_token(vendor)]))
    return render(request, "vendors/stall.html", {
        "vendor": vendor, "qr": _qr(url, _("Stall QR code")), "today_code": payment_requests.stall_code(vendor),
        "codes": payment_requests.stall_codes(vendor),
        "today": _today_purchases(vendor).filter(till="stall")[:100],
    })


# --- The member's side ------------------------------------------------------------------


def _pin_value(request) -> str | None:
    return request.POST.get("pin") or None


@member_required
def enter_code(request):
    """The member types the shop's short code instead of scanning it."""
    code = payment_requests.normalize_code(request.GET.get("code", ""))
    if code:
        return redirect("phone:pay", code=code)
    return render(request, "portal/pay_code.html", {})


@member_required
def pay(request, code: str):
    """The member sees the shop and the amount, and confirms (with the PIN above the fund's amount)."""
    try:
        payment_request = payment_requests.request_by_code(code)
    except payment_requests.RequestNotFound as refusal:
        return render(request, "portal/pay_code.html", {"error": refusal.message, "code": code}, status=404)
    error, offer_partial = None, False
    if request.method == "POST":
        try:
            purchase = payment_requests.confirm_request(
                code=code, household=request.household, user=request.user, pin=_pin_value(request),
                partial=request.POST.get("partial") == "1")
        except payments.PaymentError as refusal:
            error, offer_partial = refusal.message, refusal.code == "insufficient_funds"
        else:
            return redirect("phone:done", purchase_id=purchase.pk)
    status = payment_requests.status_of(payment_request)
    closed = None if status == "pending" else {
        "expired": payment_requests.RequestExpired.message, "cancelled": payment_requests.RequestCancelled.message,
        "paid": payment_requests.RequestAlreadyPaid.message}[status]
    return render(request, "portal/pay.html", {
        "payment_request": payment_request, "vendor": payment_request.vendor, "amount": payment_request.amount,
        "card": paying_card(request.household, request.user), "needs_pin": payment_requests.needs_pin(
            payment_request.amount), "error": error, "closed": closed, "offer_partial": offer_partial,
        "balance": request.household.wallet.balance,
    }, status=400 if error else 200)


@member_required
def done(request, purchase_id: int):
    """The member's proof of payment: shop, amount, time, reference, and for a stall its
    code of the day of the payment (today's list at the stall shows today's)."""
    purchase = get_object_or_404(Purchase.objects.select_related("vendor"), pk=purchase_id,
                                 wallet_id=request.household.wallet_id)
    day = timezone.localdate(purchase.created_at)
    return render(request, "portal/pay_done.html", {
        "purchase": purchase, "vendor": purchase.vendor, "rest": purchase.requested - purchase.amount,
        "stall_code": payment_requests.stall_code(purchase.vendor, day) if purchase.till == "stall" else None,
        "paid_today": day == timezone.localdate(),
    })


@member_required
def stall_pay(request, slug: str, token: str):
    """A stall without any device: the member types the amount, sees the shop, the amount
    and the stall's code of the day, and confirms."""
    vendor = payment_requests.stall_vendor(slug, token)
    if vendor is None or not vendor.takes_payments:
        return render(request, "portal/pay_code.html", {"error": _("This stall does not take payments from phones.")},
                      status=404)
    raw_amount = request.POST.get("amount", request.GET.get("amount", ""))
    amount = _typed_amount(raw_amount) if raw_amount else None
    error, offer_partial = None, False
    if raw_amount and amount is None:
        error = _("Type the amount in euros, e.g. 12,50.")
    elif amount is not None:
        try:
            payments.validate_amount(amount)
        except payments.PaymentError as refusal:
            error, amount = refusal.message, None
    if request.method == "POST" and amount is not None:
        try:
            purchase = payment_requests.pay_at_stall(
                vendor=vendor, household=request.household, user=request.user, amount=amount,
                code_of_the_day=request.POST.get("code_of_the_day", ""),
                idempotency_key=request.POST.get("idempotency_key", ""), pin=_pin_value(request),
                partial=request.POST.get("partial") == "1")
        except payments.PaymentError as refusal:
            error, offer_partial = refusal.message, refusal.code == "insufficient_funds"
        else:
            return redirect("phone:done", purchase_id=purchase.pk)
    return render(request, "portal/pay_stall.html", {
        "vendor": vendor, "amount": amount, "raw_amount": raw_amount, "error": error, "offer_partial": offer_partial,
        "code_of_the_day": payment_requests.stall_code(vendor), "card": paying_card(request.household, request.user),
        "needs_pin": amount is not None and payment_requests.needs_pin(amount),
        "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        "balance": request.household.wallet.balance,
    }, status=400 if error else 200)
