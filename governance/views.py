"""The committee's pages in the portal. Thin: parse, call a service, render.

Secret ballots: the receipt code reaches the member in the response to their vote itself
(rendered, not redirected, and never cached), and in a cookie of its own scoped to
/committee/ and to one proposal — never through Django's messages, which may be kept in
the server-side session, next to the user's id.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocations.models import FundRules
from kernel import csv as kernel_csv
from members.selectors import household_of
from users import roles

from . import charter, decisions, meetings, proposals, selectors, votes
from .forms import MeetingForm, ProposalForm, ProxyForm, TallyForm
from .models import Choice, Elector, Meeting, Notification, Proposal, VoteHistory

COOKIE_PATH = "/committee/"


def _receipt_cookie(proposal) -> str:
    return f"ballot_{proposal.pk}_{proposal.round}"


def committee_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not selectors.is_committee_member(request.user):
            return render(request, "governance/not_member.html", status=403)
        request.is_facilitator = selectors.is_facilitator(request.user)
        return view(request, *args, **kwargs)

    return wrapper


def author_required(view):
    """Writing proposals: the committee, and the coordinators (governance.proposals.may_author)."""
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not proposals.may_author(request.user):
            return render(request, "governance/not_member.html", status=403)
        request.is_facilitator = selectors.is_facilitator(request.user)
        return view(request, *args, **kwargs)

    return wrapper


def fund_member_required(view):
    """The register: every member of the fund, the committee and the coordinators."""
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (household_of(user) or selectors.is_committee_member(user) or roles.is_coordinator(user)):
            return render(request, "governance/not_member.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@committee_required
def home(request):
    user = request.user
    open_ = list(selectors.to_vote(user))
    voted = set(Elector.objects.filter(proposal__in=open_, user=user, voted=True).values_list("proposal_id", flat=True))
    notes = Notification.objects.filter(user=user, read_at__isnull=True).select_related("proposal")[:5]
    drafts = Proposal.objects.filter(author=user, state=Proposal.State.DRAFT)
    return render(request, "governance/home.html", {
        "to_vote": [p for p in open_ if p.pk not in voted], "voted": [p for p in open_ if p.pk in voted],
        "notifications": list(notes), "drafts": drafts,
    })


@author_required
def new_proposal(request):
    form = ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            proposal = proposals.create(author=request.user, **form.service_kwargs())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your draft is saved. Open the vote when it is ready."))
            return redirect("governance:proposal", pk=proposal.pk)
    return render(request, "governance/new.html", {"form": form})


@author_required
def edit_proposal(request, pk):
    """The author's draft, until the vote opens."""
    proposal = get_object_or_404(Proposal, pk=pk, author=request.user, state=Proposal.State.DRAFT)
    form = ProposalForm(request.POST or None, proposal=proposal)
    if request.method == "POST" and form.is_valid():
        try:
            proposals.update_draft(proposal, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your draft is saved. Open the vote when it is ready."))
            return redirect("governance:proposal", pk=proposal.pk)
    return render(request, "governance/new.html", {"form": form, "proposal": proposal})


@author_required
def proposal_detail(request, pk):
    proposal = get_object_or_404(Proposal.objects.select_related("vendor", "author"), pk=pk)
    Notification.objects.filter(user=request.user, proposal=proposal, read_at__isnull=True).update(
        read_at=timezone.now())
    elector = selectors.elector_of(proposal, request.user)
    my_ballot = None
    if elector and elector.voted and not proposal.secret:
        my_ballot = proposal.ballots.filter(voter=request.user).select_related("proxy_by").first()
    result = decisions.result_of(proposal) if proposal.state != Proposal.State.DRAFT else None
    context = {
        "proposal": proposal, "elector": elector, "my_ballot": my_ballot,
        "has_receipt": bool(request.COOKIES.get(_receipt_cookie(proposal))),
        "choices": [(c, Choice(c).label) for c in votes.allowed_choices(proposal)] if proposal.method else [],
        "can_vote": bool(elector and not elector.recused and proposal.state == Proposal.State.OPEN
                         and elector.channel != Elector.Channel.MEETING),
        "criteria_labels": charter.CRITERIA,
        "rules_labels": {f.name: f.verbose_name for f in FundRules._meta.fields},
        "result": result, "is_author": proposal.author_id == request.user.pk,
        # A secret vote's objections appearing one by one, beside who has voted since,
        # would tell whose they are: shown only when its results are.
        "objections": result.objections if result and (not proposal.secret or selectors.results_visible(proposal))
        else [],
        "is_facilitator": request.is_facilitator,
        "can_close_early": bool(request.is_facilitator and proposal.state == Proposal.State.OPEN and result
                                and decisions.everyone_took_part(proposal, result)),
    }
    if request.is_facilitator and proposal.state == Proposal.State.OPEN and not proposal.secret:
        context["proxy_form"] = ProxyForm(electors=proposal.electors.filter(recused=False).values_list("user_id",
                                                                                                     flat=True))
    return render(request, "governance/proposal.html", context)


@require_POST
@committee_required
def vote(request, pk):
    proposal = get_object_or_404(Proposal, pk=pk)
    receipt = request.POST.get("receipt", "").strip() or request.COOKIES.get(_receipt_cookie(proposal))
    try:
        result = votes.cast(proposal, request.user, request.POST.get("choice", ""),
                            reason=request.POST.get("reason", ""), receipt=receipt)
    except ValidationError as error:
        _errors(request, error)
        return redirect("governance:proposal", pk=pk)
    if proposal.secret:
        return _secret_vote_done(request, proposal, result)
    messages.success(request, _("Your vote is changed.") if result.changed else _("Your vote is counted."))
    return redirect("governance:proposal", pk=pk)


def _secret_vote_done(request, proposal, result):
    response = render(request, "governance/secret_vote_done.html", {
        "proposal": proposal, "receipt": result.receipt, "changed": result.changed,
        "choice": Choice(result.ballot.choice).label, "result": decisions.result_of(proposal),
    })
    add_never_cache_headers(response)
    if result.receipt:
        # Kept until a week after the close: the member checks the count with it.
        max_age = max(int((proposal.closes_at - timezone.now()).total_seconds()), 60) + 7 * 86400
        response.set_cookie(_receipt_cookie(proposal), result.receipt, max_age=max_age, path=COOKIE_PATH,
                            httponly=True, samesite="Lax", secure=request.is_secure())
    return response


@fund_member_required
def check_receipt(request, pk):
    """A secret ballot's voter checks, with their receipt code, how it was counted. By POST:
    a code in a URL would end in the access logs."""
    proposal = get_object_or_404(Proposal, pk=pk, secret=True)
    if not _may_read(request, proposal) or proposal.state == Proposal.State.DRAFT:
        raise Http404
    context = {"proposal": proposal, "checked": False}
    if request.method == "POST":
        code = request.POST.get("receipt", "").strip() or request.COOKIES.get(_receipt_cookie(proposal), "")
        choice = votes.verify(proposal, code)
        context.update(checked=True, found=choice is not None,
                       choice=Choice(choice).label if choice else "", counted=bool(proposal.closed_at))
    response = render(request, "governance/check_receipt.html", context)
    add_never_cache_headers(response)
    return response


@require_POST
@committee_required
def recuse(request, pk):
    proposal = get_object_or_404(Proposal, pk=pk)
    try:
        votes.recuse(proposal, request.user, reason=request.POST.get("reason", ""),
                     receipt=request.POST.get("receipt", "").strip() or request.COOKIES.get(_receipt_cookie(proposal)))
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, _("You stepped out of this vote."))
    return redirect("governance:proposal", pk=pk)


@require_POST
@committee_required
def act(request, pk, action):
    """The author's and the facilitator's buttons."""
    proposal = get_object_or_404(Proposal, pk=pk)
    user, post = request.user, request.POST
    try:
        if action == "open":
            proposals.open_vote(proposal, by=user)
            messages.success(request, _("The vote is open; the committee is told."))
        elif action == "withdraw":
            proposals.withdraw(proposal, by=user, reason=post.get("reason", ""))
            messages.success(request, _("The proposal is withdrawn."))
        elif action == "amend":
            proposals.amend(proposal, by=user, text=post.get("text", ""), answer=post.get("answer", ""))
            messages.success(request, _("The text is amended; the vote starts again."))
        elif action == "close":
            proposal = decisions.close(proposal, by=user, early=True)
            messages.success(request, _("The vote is closed."))
            return redirect("governance:results", pk=pk)
        elif action == "proxy":
            form = ProxyForm(post, electors=proposal.electors.values_list("user_id", flat=True))
            if not form.is_valid():
                raise ValidationError(_("Choose a member and their vote."))
            votes.proxy(proposal, member=form.cleaned_data["member"], choice=form.cleaned_data["choice"], by=user,
                        reason=form.cleaned_data["reason"])
            messages.success(request, _("The vote is recorded on the member's behalf."))
        else:
            raise Http404
    except ValidationError as error:
        _errors(request, error)
    return redirect("governance:proposal", pk=pk)


def _may_read(request, proposal) -> bool:
    # Decided proposals are public to the fund's members; running ones to the committee.
    return selectors.is_committee_member(request.user) or (
        proposal.decided and (household_of(request.user) or roles.is_coordinator(request.user)))


@fund_member_required
def results(request, pk):
    proposal = get_object_or_404(Proposal.objects.select_related("vendor", "author"), pk=pk)
    if not _may_read(request, proposal) or proposal.state == Proposal.State.DRAFT:
        raise Http404
    visible = selectors.results_visible(proposal)
    named = None
    if visible and not proposal.secret and proposal.closed_at:
        # Public ballots: each member's vote, as given (proxies marked).
        named = proposal.ballots.select_related("voter", "proxy_by").order_by("voter__username")
    return render(request, "governance/results.html", {
        "proposal": proposal, "result": decisions.result_of(proposal), "visible": visible, "named": named,
        "transitions": proposal.transitions.select_related("by"), "amendments": proposal.amendments.all(),
    })


@fund_member_required
def results_csv(request, pk):
    proposal = get_object_or_404(Proposal, pk=pk)
    if not _may_read(request, proposal) or not selectors.results_visible(proposal):
        raise Http404
    result = decisions.result_of(proposal)
    rows = [
        ["reference", "question", "eligible", "took_part", "quorum_needed", *Choice.values, "outcome"],
        [proposal.reference, proposal.title, result.eligible, result.participants, result.quorum_needed,
         *[result.counts[c] for c in Choice.values], proposal.state],
    ]
    if not proposal.secret and proposal.closed_at:
        rows.append([])
        rows.append(["member", "vote", "recorded_by_facilitator"])
        for ballot in proposal.ballots.select_related("voter", "proxy_by").order_by("voter__username"):
            rows.append([ballot.voter.get_username(), ballot.choice, ballot.proxy_by or ""])
    return kernel_csv.response(rows, f"{proposal.reference}.csv")


@fund_member_required
def decision(request, reference):
    proposal = selectors.decision_by_reference(reference)
    if proposal is None or not proposal.decided:
        raise Http404
    return redirect("governance:results", pk=proposal.pk)


@fund_member_required
def register(request):
    return render(request, "governance/register.html", {"decisions": selectors.register()[:200]})


@committee_required
def my_history(request):
    """Public ballots: the member's own votes, as given and changed."""
    history = VoteHistory.objects.filter(voter=request.user).select_related("proposal", "proxy_by")[:200]
    return render(request, "governance/history.html", {"history": history})


@committee_required
def meeting_list(request):
    form = MeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = meetings.schedule(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors(request, error)
        else:
            return redirect("governance:meeting", pk=meeting.pk)
    return render(request, "governance/meetings.html", {"meetings": Meeting.objects.all()[:50], "form": form,
                                                        "is_facilitator": request.is_facilitator})


@committee_required
def meeting_detail(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    if request.method == "POST":
        post, user = request.POST, request.user
        try:
            if "attendance" in post:
                meetings.record_attendance(meeting, users=post.getlist("attendees"), by=user)
            elif "minutes" in post:
                meetings.record_minutes(meeting, minutes=post["minutes"], by=user)
            elif "agenda" in post:
                if not request.is_facilitator:
                    raise ValidationError(_("Only a facilitator does this."))
                meeting.agenda.set(Proposal.objects.filter(pk__in=post.getlist("agenda_items")))
            else:
                form = TallyForm(post)
                if not form.is_valid():
                    raise ValidationError(_("Check the totals."))
                data = form.cleaned_data
                proposal = get_object_or_404(Proposal, pk=data.pop("proposal"))
                meetings.record_decision(meeting, proposal, by=user, **data)
            messages.success(request, _("Saved."))
        except ValidationError as error:
            _errors(request, error)
        return redirect("governance:meeting", pk=pk)
    seats = selectors.current_seats().select_related("user").order_by("user__username")
    attendees = set(meeting.attendees.values_list("pk", flat=True))
    agenda = list(meeting.agenda.select_related("meeting_tally"))
    for item in agenda:
        item.paper_voters = meetings.paper_voters(meeting, item).count() if item.state == Proposal.State.OPEN else 0
    return render(request, "governance/meeting.html", {
        "meeting": meeting, "agenda": agenda, "seats": seats, "attendees": attendees,
        "is_facilitator": request.is_facilitator, "tally_form": TallyForm(),
        "open_proposals": Proposal.objects.filter(state__in=[Proposal.State.OPEN, Proposal.State.DRAFT]),
        "attendee_users": get_user_model().objects.filter(pk__in=attendees).order_by("username"),
    })


@login_required
def vendor_votes(request):
    """A vendor's staff: votes about their shop, and their answer to the committee."""
    staff = getattr(request.user, "vendor_staff", None)
    if staff is None:
        raise Http404
    items = Proposal.objects.filter(vendor=staff.vendor, kind__in=["suspend_vendor", "revoke_vendor"]).exclude(
        state=Proposal.State.DRAFT)
    if request.method == "POST":
        proposal = get_object_or_404(items, pk=request.POST.get("proposal"))
        try:
            proposals.answer_as_vendor(proposal, by=request.user, text=request.POST.get("answer", ""))
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("Your answer is sent to the committee."))
        return redirect("governance:vendor_votes")
    return render(request, "governance/vendor_votes.html", {"items": items, "vendor": staff.vendor})
