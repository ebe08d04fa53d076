"""Pages of issue 20, a household's life at the desk: the public rank check, taking or
declining a place, the contribution the member chooses on the desk's screen, pausing,
resuming, leaving, and clearing a possible duplicate. Thin: forms in, services called."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocations import periods
from kernel import ratelimit
from kernel.web import client_address

from . import contributions, desk, enrolment, logins, lottery
from .household_forms import CoordinatorContributionForm, DeskContributionForm, ExitForm, PauseForm, RankCheckForm
from .household_views import _desk_household, _errors, coordinator_required, desk_required
from .models import Household


def rank_check(request):
    """Anyone with an application number and its draw code sees its rank and outcome."""
    form = RankCheckForm(request.POST or None)
    outcome, status = None, 200
    if request.method == "POST" and form.is_valid():
        limit = int(getattr(settings, "CAISSE_RANK_CHECKS_PER_HOUR", 20))
        number = form.cleaned_data["number"].strip().upper()
        # Per client, and per application number: many clients guessing one code are stopped too.
        if not (ratelimit.allow("rank-check", client_address(request), limit=limit, window=3600)
                and ratelimit.allow("rank-check-number", number, limit=limit, window=3600)):
            form.add_error(None, _("Too many tries. Wait an hour and try again."))
            status = 429
        else:
            outcome = lottery.public_outcome(form.cleaned_data["number"], form.cleaned_data["code"])
            if outcome is None:
                form.add_error(None, _("This application number and draw code do not match. Check both on your paper."))
                status = 400
    elif form.errors:
        status = 400
    return render(request, "households/rank_check.html", {"form": form, "outcome": outcome}, status=status)


def _back(reference):
    return redirect("households:desk_household", reference=reference)


@desk_required
@require_POST
def desk_place(request, reference, action):
    """The household drawn takes its place, or declines it (it then goes to the next of its stratum)."""
    household = _desk_household(reference)
    entry = lottery.place_of(household)
    if entry is None:
        messages.error(request, _("This household has no place waiting to be taken."))
        return _back(reference)
    if action == "take":
        lottery.accept(entry, by=request.user)
        desk.record(request.user, "place_taken", household)
        messages.success(request, _("The place is taken: the household is a member from today. Offer a portal login "
                                    "and a first card below, then let the member choose their contribution."))
    elif action == "decline":
        successor = lottery.decline(entry, by=request.user)
        desk.record(request.user, "place_declined", household, passed_on=bool(successor))
        messages.success(request, _("The place is declined: it goes to the next application on the waitlist."))
    else:
        raise PermissionDenied
    return _back(reference)


@desk_required
def desk_contribution(request, reference):
    """The member's own step, on the desk's screen: the grid, and the amount they type.
    The volunteer's next page shows neither the amount nor the income."""
    household = _desk_household(reference)
    if household.status not in (Household.Status.ACTIVE, Household.Status.PAUSED):
        messages.error(request, _("Only a member household chooses a contribution."))
        return _back(reference)
    next_period = periods.shift(periods.current(), 1)
    rules = contributions.rules_or_default(next_period)
    size = contributions.household_size(household)
    form = DeskContributionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contributions.choose(household, form.cleaned_data["amount"], by=request.user)
        except ValidationError as error:
            form.add_error("amount", error)
        else:
            desk.record(request.user, "contribution", household)
            messages.success(request, _("The member's choice is saved; it applies from next month. "
                                        "You can take the screen back."))
            return _back(reference)
    return render(
        request, "households/desk_contribution.html",
        {"household": household, "form": form, "grid": contributions.grid_for(rules, size),
         "minimum": contributions.minimum_for(rules, size)},
        status=400 if form.errors else 200,
    )


@coordinator_required
@require_POST
def coordinator_contribution(request, reference):
    """Coordinators may set the amount directly, from this month or the next."""
    household = _desk_household(reference)
    form = CoordinatorContributionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(" ".join(errors) for errors in form.errors.values()))
        return _back(reference)
    period = periods.current() if form.cleaned_data["from_this_month"] else None
    try:
        contributions.choose(household, form.cleaned_data["amount"], by=request.user, period=period)
        messages.success(request, _("Contribution saved."))
    except ValidationError as error:
        messages.error(request, _errors(error))
    return _back(reference)


@desk_required
@require_POST
def desk_login(request, reference, person_id):
    """A portal login for an adult of the household, with its activation letter to print."""
    household = _desk_household(reference)
    person = get_object_or_404(household.persons, pk=person_id, is_adult=True)
    username, code = logins.create_login_with_letter(person, by=request.user)
    return render(request, "members/activation_letters.html",
                  {"letters": [{"person": person, "username": username, "code": code}]})


@desk_required
@require_POST
def desk_pause(request, reference):
    household = _desk_household(reference)
    form = PauseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a reason from the list."))
        return _back(reference)
    try:
        enrolment.pause(household, reason=form.cleaned_data["reason"], by=request.user)
        messages.success(request, _("The membership is paused: no allocation and no contribution until it resumes."))
    except ValidationError as error:
        messages.error(request, _errors(error))
    return _back(reference)


@desk_required
@require_POST
def desk_resume(request, reference):
    household = _desk_household(reference)
    try:
        enrolment.resume(household, by=request.user)
        messages.success(request, _("The membership is active again."))
    except ValidationError as error:
        messages.error(request, _errors(error))
    return _back(reference)


@desk_required
@require_POST
def desk_exit(request, reference):
    household = _desk_household(reference)
    form = ExitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a reason and confirm that the member was told what happens."))
        return _back(reference)
    try:
        enrolment.exit_household(household, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("The household has left the fund. What was left in its wallet went back to "
                                    "the fund and its cards are blocked."))
    except ValidationError as error:
        messages.error(request, _errors(error))
    return _back(reference)


@desk_required
@require_POST
def desk_clear_duplicate(request, reference):
    household = _desk_household(reference)
    enrolment.clear_duplicate(household, by=request.user)
    messages.success(request, _("Checked: this application enters the next draw."))
    return _back(reference)
