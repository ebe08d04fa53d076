"""The member portal: what a household sees of its fund, on a cheap phone.

Every view is scoped to the logged-in person's household; an object of another
household is a 404, never a 403 that would confirm it exists.
"""

from datetime import date
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocations import keys
from allocations.models import Transfer, TransferKind

from . import cards, reports
from .models import Card, Notice, Person
from .portal_forms import ChangePinForm, ShopReportForm
from .selectors import household_of, wallet_history


def member_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        household = household_of(request.user)
        if household is None:
            return render(request, "portal/no_household.html", status=403)
        request.household = household
        return view(request, *args, **kwargs)

    return wrapper


def _period(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _next_month_start(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@member_required
def home(request):
    household = request.household
    today = timezone.localdate()
    allocation = Transfer.objects.filter(
        idempotency_key=keys.allocation(household.wallet_id, _period(today)), kind=TransferKind.ALLOCATION
    ).only("amount", "created_at").first()
    notices = Notice.objects.filter(household=household).order_by("-created_at")[:3]
    return render(
        request,
        "portal/home.html",
        {
            "household": household,
            "balance": household.wallet.balance,
            "allocation": allocation,
            "next_allocation_on": _next_month_start(today),
            "notices": notices,
        },
    )


@member_required
def history(request):
    person = Person.objects.filter(user=request.user).first()
    if request.method == "POST" and person is not None:
        person.email_each_payment = request.POST.get("email_each_payment") == "on"
        person.save(update_fields=["email_each_payment"])
        messages.success(request, _("Your choice is saved."))
        return redirect("members:history")
    page = wallet_history(request.household, page=request.GET.get("page") or 1)
    return render(request, "portal/history.html", {"page": page, "person": person})


def _my_card(request, card_id) -> Card:
    return get_object_or_404(Card.objects.select_related("holder"), pk=card_id, household=request.household)


@member_required
def card_list(request):
    my_cards = request.household.cards.select_related("holder").order_by("-issued_at")
    return render(request, "portal/cards.html", {"cards": my_cards, "now": timezone.now()})


@member_required
def card_detail(request, card_id):
    card = _my_card(request, card_id)
    form = ChangePinForm()
    if request.method == "POST":
        form = ChangePinForm(request.POST)
        if form.is_valid():
            cards.change_pin(card, new_pin=form.cleaned_data["new_pin"], by=request.user)
            messages.success(request, _("Your new PIN is saved."))
            return redirect("members:card", card_id=card.pk)
    qr = cards.qr_svg(card)
    return render(request, "portal/card.html", {"card": card, "qr": qr, "form": form, "locked": card.is_locked()})


@member_required
@require_POST
def card_action(request, card_id, action):
    card = _my_card(request, card_id)
    if card.status != Card.Status.ACTIVE:
        messages.error(request, _("This card is no longer in use."))
        return redirect("members:cards")
    if action == "lock":
        cards.lock_card(card, by=request.user)
        messages.success(request, _("Your card is locked: nobody can pay with it until you unlock it."))
    elif action == "unlock":
        cards.unlock_card(card, by=request.user)
        messages.success(request, _("Your card is unlocked."))
    elif action == "replace":
        new_card, _pin = cards.replace_card(card, by=request.user, note="lost or damaged, from the portal")
        messages.success(
            request,
            _("Your old card is blocked. Here is your new card: its QR code works at once. Choose its PIN below."),
        )
        return redirect("members:card", card_id=new_card.pk)
    return redirect("members:card", card_id=card.pk)


@member_required
def card_print(request, card_id):
    card = _my_card(request, card_id)
    qr = cards.qr_svg(card)
    return render(request, "portal/card_print.html", {"card": card, "qr": qr})


@member_required
def report_list(request):
    form = ShopReportForm()
    if request.method == "POST":
        form = ShopReportForm(request.POST)
        if form.is_valid():
            reports.report_problem(household=request.household, **form.cleaned_data)
            messages.success(request, _("Thank you. The coordinators have your message and will answer here."))
            return redirect("members:reports")
    return render(request, "portal/reports.html", {"form": form, "reports": reports.reports_of(request.household)})
