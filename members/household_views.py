"""Pages of issue 3: the application form, the desk, the household's contribution and
data pages, a draw's published result. Thin: forms in, services called, templates out."""

from __future__ import annotations

import json
import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocations import periods
from kernel import ratelimit
from kernel.web import client_address
from users import roles

from . import cards, contributions, desk, enrolment, imports, lottery, privacy
from .household_forms import (
    ApplicationForm,
    CashForm,
    CloseDeskForm,
    ContactForm,
    ContributionChoiceForm,
    CoordinatorContributionForm,
    ExitForm,
    ImportForm,
    PauseForm,
    PaymentForm,
)
from .models import Card, ContributionPayment, Desk, Draw, Household
from .portal import member_required


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


def _with_role(decorator):
    def decorate(view):
        @decorator
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            request.is_coordinator = roles.is_coordinator(request.user)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


desk_required = _with_role(roles.desk_required)
coordinator_required = _with_role(roles.coordinator_required)


# --- Applying -------------------------------------------------------------------------


def _apply(request, *, by, template):
    form = ApplicationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        limit = int(getattr(settings, "CAISSE_APPLICATIONS_PER_HOUR", 10))
        if by is None and not ratelimit.allow("apply", client_address(request), limit=limit, window=3600):
            form.add_error(None, _("Too many applications were sent from here. Wait an hour, or come to the desk."))
            status = 429
        else:
            try:
                household = enrolment.apply(persons=form.persons(), by=by, **form.household_fields())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return render(request, "households/applied.html", {
                    "household": household, "at_desk": by is not None, "draw": household.cohort,
                    "draw_code": enrolment.display_draw_code(household.draw_code)})
    return render(request, template, {"form": form, "draw": lottery.current_draw(), "at_desk": by is not None},
                  status=status)


def apply(request):
    return _apply(request, by=None, template="households/apply.html")


@desk_required
def desk_apply(request):
    return _apply(request, by=request.user, template="households/apply.html")


def draw_result(request, cohort):
    draw = get_object_or_404(Draw, cohort=cohort)
    checked, status = None, 200
    if request.method == "POST":
        number, code = request.POST.get("number", "").strip(), request.POST.get("code", "")
        limit = int(getattr(settings, "CAISSE_RANK_CHECKS_PER_HOUR", 20))
        # The same limits as the rank check page: a code is not guessed here either.
        if not (ratelimit.allow("rank-check", client_address(request), limit=limit, window=3600)
                and ratelimit.allow("rank-check-number", number.upper(), limit=limit, window=3600)):
            messages.error(request, _("Too many tries. Wait an hour and try again."))
            status = 429
        else:
            checked = {"number": number, "rank": lottery.check_rank(draw, number, code)}
    return render(request, "households/draw.html", {"draw": draw, "result": lottery.published_result(draw),
                                                    "checked": checked}, status=status)


# --- The desk -------------------------------------------------------------------------


def _current_desk(request) -> Desk:
    code = request.GET.get("desk") or request.session.get("desk")
    found = Desk.objects.filter(code=code).first() if code else None
    found = found or Desk.objects.order_by("id").first() or Desk.objects.create(code="accueil", name=_("Reception"))
    request.session["desk"] = found.code
    return found


@desk_required
def desk_home(request):
    counter = _current_desk(request)
    query = request.GET.get("q", "")
    results = desk.find(query, by=request.user) if query else []
    return render(
        request,
        "households/desk.html",
        {
            "desk": counter,
            "desks": Desk.objects.order_by("name"),
            "session": desk.open_session_of(counter),
            "query": query,
            "results": results,
            "searched": bool(query),
            "close_form": CloseDeskForm(),
            "to_check": enrolment.awaiting_duplicate_check().order_by("reference")[:50],
        },
    )


@desk_required
@require_POST
def desk_open(request):
    try:
        desk.open_session(_current_desk(request), by=request.user)
        messages.success(request, _("The desk is open."))
    except ValidationError as error:
        messages.error(request, _errors(error))
    return redirect("households:desk")


@desk_required
@require_POST
def desk_close(request):
    counter = _current_desk(request)
    session = desk.open_session_of(counter)
    form = CloseDeskForm(request.POST)
    if session is None:
        messages.error(request, _("The desk is not open."))
    elif not form.is_valid():
        messages.error(request, " ".join(" ".join(e) for e in form.errors.values()))
    else:
        try:
            desk.close_session(session, by=request.user, counted_cash=form.cleaned_data["counted_cash"])
        except ValidationError as error:
            messages.error(request, _errors(error))
        else:
            # Desk computers are shared: whoever closes the desk leaves signed out.
            logout(request)
            messages.success(request, _("The desk is closed and you are signed out. Thank you!"))
            return redirect("account_login")
    return redirect("households:desk")


def _household_page(request, household, **extra):
    counter = _current_desk(request)
    context = {
        "household": household,
        "persons": household.persons.order_by("id"),
        "desk": counter,
        "session": desk.open_session_of(counter),
        "cash_form": CashForm(initial={"token": uuid.uuid4().hex}),
        "contact_form": ContactForm(initial={f: getattr(household, f) for f in desk.CONTACT_FIELDS}),
        "cards": Card.objects.filter(household=household).order_by("-issued_at"),
        "without_card": household.persons.filter(is_adult=True).exclude(cards__status=Card.Status.ACTIVE),
        "is_coordinator": request.is_coordinator,
        # Months, never amounts: the count the portal and the reminders use.
        "months_unpaid": contributions.arrears(household).months,
        "place": lottery.place_of(household) if household.status == Household.Status.DRAWN else None,
        "history": household.status_changes.select_related("by").order_by("-at", "-id")[:20],
        "pause_form": PauseForm(),
        "exit_form": ExitForm(),
        "without_login": household.persons.filter(is_adult=True, user__isnull=True),
        "needs_check": household.duplicate_flagged_at is not None and household.duplicate_cleared_at is None,
    }
    if request.is_coordinator:
        context.update(
            payment_form=PaymentForm(initial={"token": uuid.uuid4().hex, "period": periods.current()}),
            arrears=contributions.arrears(household),
            payments=household.payments.select_related("desk").order_by("-paid_on", "-id")[:12],
            chosen=contributions.contribution_for(household, periods.current()),
            contribution_form=CoordinatorContributionForm(),
        )
    context.update(extra)
    return render(request, "households/desk_household.html", context, status=400 if extra.get("failed") else 200)


def _desk_household(reference) -> Household:
    return get_object_or_404(Household, reference=reference, erased_at__isnull=True)


@desk_required
def desk_household(request, reference):
    household = _desk_household(reference)
    desk.record(request.user, "view", household)
    return _household_page(request, household)


@desk_required
@require_POST
def desk_cash(request, reference):
    household = _desk_household(reference)
    session = desk.open_session_of(_current_desk(request))
    form = CashForm(request.POST)
    if session is None:
        return _household_page(request, household, cash_form=form, failed=True, cash_error=_("Open the desk before taking cash."))
    if household.status == Household.Status.EXITED:
        # Nothing is owed after leaving: no cash is taken for it.
        return _household_page(request, household, cash_form=form, failed=True,
                               cash_error=_("This household has left the fund: it owes nothing more."))
    if not form.is_valid():
        return _household_page(request, household, cash_form=form, failed=True)
    try:
        payment = desk.take_cash(session, household, amount=form.cleaned_data["amount"], by=request.user, token=form.cleaned_data["token"])
    except ValidationError as error:
        return _household_page(request, household, cash_form=form, failed=True, cash_error=_errors(error))
    return redirect("households:receipt", payment_id=payment.pk)


@desk_required
def receipt(request, payment_id):
    payment = get_object_or_404(ContributionPayment.objects.select_related("desk", "household", "desk_session"), pk=payment_id)
    # A volunteer sees a receipt only to print it: one they took, while their desk is open.
    if not request.is_coordinator and (
        payment.recorded_by_id != request.user.pk or payment.desk_session is None or payment.desk_session.closed_at
    ):
        raise PermissionDenied
    return render(request, "households/receipt.html", {"payment": payment})


@desk_required
@require_POST
def desk_contact(request, reference):
    household = _desk_household(reference)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            desk.update_contact(household, by=request.user, **form.cleaned_data)
            messages.success(request, _("Contact details saved."))
            return redirect("households:desk_household", reference=reference)
        except ValidationError as error:
            form.add_error(None, error)
    return _household_page(request, household, contact_form=form, failed=True)


@desk_required
@require_POST
def desk_card(request, reference, card_id, action):
    household = _desk_household(reference)
    card = get_object_or_404(Card, pk=card_id, household=household)
    if action == "reset-pin":
        pin = cards.reset_pin(card, by=request.user)
        desk.record(request.user, "pin_reset", household, card=card.last4)
        return render(request, "households/desk_pin.html", {"household": household, "card": card, "pin": pin})
    if action == "replace":
        try:
            new, pin = cards.replace_card(card, by=request.user, note=_("replaced at the desk"))
        except cards.CardError as error:
            messages.error(request, str(error))
            return redirect("households:desk_household", reference=reference)
        desk.record(request.user, "card_replaced", household, card=new.last4)
        return render(request, "households/desk_pin.html", {"household": household, "card": new, "pin": pin, "replaced": True})
    if action == "unlock":
        cards.unlock_card(card, by=request.user)
        desk.record(request.user, "card_unlocked", household, card=card.last4)
        messages.success(request, _("The card is unlocked."))
        return redirect("households:desk_household", reference=reference)
    if action == "reprint":
        desk.record(request.user, "card_reprinted", household, card=card.last4)
        qr = cards.qr_svg(card)
        return render(request, "portal/card_print.html", {"card": card, "qr": qr})
    raise PermissionDenied


@desk_required
@require_POST
def desk_issue_card(request, reference, person_id):
    """A first card for an adult of the household who shops; its PIN is shown once, for paper."""
    household = _desk_household(reference)
    person = get_object_or_404(household.persons, pk=person_id, is_adult=True)
    if person.cards.filter(status=Card.Status.ACTIVE).exists():
        messages.error(request, _("This person already has a card: replace it if it is lost."))
        return redirect("households:desk_household", reference=reference)
    card, pin = cards.issue_card(household=household, holder=person, by=request.user)
    desk.record(request.user, "card_issued", household, card=card.last4)
    return render(request, "households/desk_pin.html", {"household": household, "card": card, "pin": pin, "replaced": True})


@coordinator_required
@require_POST
def record_payment(request, reference):
    household = _desk_household(reference)
    form = PaymentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            contributions.record_payment(household, by=request.user, **{k: v for k, v in data.items() if v not in (None, "")})
            messages.success(request, _("Contribution recorded."))
            return redirect("households:desk_household", reference=reference)
        except ValidationError as error:
            form.add_error(None, error)
    return _household_page(request, household, payment_form=form, failed=True)


@coordinator_required
def import_households(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = imports.import_households(
            form.cleaned_data["file"].read(), dry_run=not form.cleaned_data["commit"], by=request.user
        )
    return render(
        request, "households/import.html", {"form": form, "report": report, "columns": imports.COLUMNS},
        status=400 if report and report.error else 200,
    )


# --- The household's own pages ----------------------------------------------------------


@member_required
def my_contribution(request):
    household = request.household
    next_period = periods.shift(periods.current(), 1)
    rules = contributions.rules_or_default(next_period)
    size = contributions.household_size(household)
    form = ContributionChoiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contributions.choose(household, form.cleaned_data["amount"], by=request.user)
            messages.success(request, _("Thank you. Your new contribution applies from next month."))
            return redirect("households:my_contribution")
        except ValidationError as error:
            form.add_error("amount", error)
    period = request.GET.get("period") or periods.current()
    try:
        statement = contributions.monthly_statement(household, period)
    except periods.InvalidPeriod:
        statement = contributions.monthly_statement(household, periods.current())
    return render(
        request,
        "households/my_contribution.html",
        {
            "household": household,
            "form": form,
            "grid": contributions.grid_for(rules, size),
            "minimum": contributions.minimum_for(rules, size),
            "suggested": contributions.suggested_for(rules, household.income_bracket, size),
            "current": contributions.contribution_for(household, periods.current()),
            "next": contributions.contribution_for(household, next_period),
            "statement": statement,
            "previous_period": periods.shift(statement["period"], -1),
            "next_period": periods.shift(statement["period"], 1),
        },
        status=400 if form.errors else 200,
    )


@member_required
def my_data(request):
    household = request.household
    if request.method == "POST":
        try:
            privacy.request_erasure(household)
            messages.success(request, _("Your request is recorded. A coordinator will confirm it and tell you."))
        except ValidationError as error:
            messages.error(request, _errors(error))
        return redirect("households:my_data")
    return render(
        request,
        "households/my_data.html",
        {"household": household, "pending": household.erasure_requests.filter(status="pending").first()},
    )


@member_required
def my_data_json(request):
    body = json.dumps(privacy.export_data(request.household), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.household.reference}.json"'
    return response


@member_required
def my_data_csv(request):
    response = HttpResponse(privacy.export_csv(request.household), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.household.reference}.csv"'
    return response
