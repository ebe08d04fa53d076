"""The lottery draw of a cohort, stratified and reproducible.

1. `close_applications`: the list of applications is frozen (each with its stratum, kept
   private) and a random seed is drawn and published, with a digest of the list of
   application numbers.
2. `run_draw`: each application's rank is SHA-256(seed ":" number ":" draw code); in each
   stratum the best ranks take that stratum's places (its share of the places, largest
   remainder first); places a stratum cannot fill, and the places no stratum claims, go
   to the best ranks left. Everyone else is on the waitlist, in rank order.
3. `verify` (and `manage.py verify_draw`) computes it again from the seed and the frozen
   list and compares.

What is published (`published_result`) holds application numbers only — never a stratum,
an income or an age.

Why a draw code per application: were ranks computable from the public seed alone, a
number drawn despite a poor rank would betray a favoured stratum (a low income, say).
Each application gets a random code, known to the fund and to the applicant, and the
rank needs it: nobody else can compute anyone's rank. What stays verifiable: the list
digest published with the seed commits to every (number, SHA-256 of its code) before
the seed is known, each applicant can check their own rank with their code
(`check_rank`), and `verify_draw` recomputes the whole draw with the codes. A place declined goes to the next on the waitlist of the same
stratum (or, when that stratum has nobody left, the next on the waitlist).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import enrolment
from .brackets import AgeBracket, IncomeBracket
from .models import Draw, DrawEntry, Household

OTHERS = ""  # the stratum of applications that match no stratum


def validate_strata(strata, places: int) -> None:
    if not isinstance(strata, list):
        raise ValidationError(_("The strata must be a list."))
    keys, total = set(), 0
    for position, stratum in enumerate(strata, start=1):
        if not isinstance(stratum, dict):
            raise ValidationError(_("Stratum %(n)s is not described correctly.") % {"n": position})
        key = stratum.get("key")
        if not key or not isinstance(key, str) or key in keys:
            raise ValidationError(_("Stratum %(n)s needs a key of its own.") % {"n": position})
        keys.add(key)
        for name, allowed in (("income_brackets", IncomeBracket.values), ("age_brackets", AgeBracket.values)):
            values = stratum.get(name, [])
            if not isinstance(values, list) or any(value not in allowed for value in values):
                raise ValidationError(
                    _("Stratum “%(key)s”: %(name)s must be among %(allowed)s.")
                    % {"key": key, "name": name, "allowed": ", ".join(allowed)}
                )
        share = stratum.get("share")
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 100:
            raise ValidationError(_("Stratum “%(key)s”: its share must be a percentage above 0.") % {"key": key})
        total += share
    if total > 100:
        raise ValidationError(_("The shares of the strata add up to more than 100 %."))
    if not isinstance(places, int) or places <= 0:
        raise ValidationError(_("A draw needs at least one place."))


def stratum_of(strata: list[dict], income_bracket: str, age_bracket: str) -> str:
    for stratum in strata:
        if (not stratum.get("income_brackets") or income_bracket in stratum["income_brackets"]) and (
            not stratum.get("age_brackets") or age_bracket in stratum["age_brackets"]
        ):
            return stratum["key"]
    return OTHERS


def quotas(strata: list[dict], places: int) -> dict[str, int]:
    """Places per stratum from the shares, largest remainder first; the rest to OTHERS."""
    exact = {stratum["key"]: places * stratum["share"] / 100 for stratum in strata}
    result = {key: int(value) for key, value in exact.items()}
    budget = round(places * sum(stratum["share"] for stratum in strata) / 100)
    for key in sorted(exact, key=lambda k: (-(exact[k] - result[k]), k)):
        if sum(result.values()) >= budget:
            break
        result[key] += 1
    result[OTHERS] = places - sum(result.values())
    return result


def rank_key(seed: str, number: str, secret: str) -> str:
    return hashlib.sha256(f"{seed}:{number}:{secret}".encode()).hexdigest()


def commitment(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Placed:
    rank: int
    outcome: str
    waitlist_position: int | None


def compute(seed: str, entries: list[tuple[str, str, str]], places: int, strata: list[dict]) -> dict[str, Placed]:
    """The draw itself, a pure function: (application number, stratum, draw code) in,
    outcome of each number out. The order of `entries` does not matter."""
    secret = {number: code for number, _stratum, code in entries}
    order = sorted(secret, key=lambda number: (rank_key(seed, number, secret[number]), number))
    stratum = {number: key for number, key, _code in entries}
    quota = quotas(strata, places)
    drawn: set[str] = set()
    for key, count in quota.items():
        members = [number for number in order if stratum[number] == key]
        drawn.update(members[:count])
    # Places a stratum could not fill go to the best ranks left, whatever their stratum.
    for number in order:
        if len(drawn) >= places:
            break
        drawn.add(number)
    waitlist = [number for number in order if number not in drawn]
    position = {number: index for index, number in enumerate(waitlist, start=1)}
    return {
        number: Placed(
            rank=index,
            outcome=DrawEntry.Outcome.DRAWN if number in drawn else DrawEntry.Outcome.WAITLISTED,
            waitlist_position=position.get(number),
        )
        for index, number in enumerate(order, start=1)
    }


def list_digest(entries) -> str:
    """Over (application number, commitment to its code) pairs: fixes the list and the codes."""
    return hashlib.sha256("\n".join(sorted(f"{number}:{committed}" for number, committed in entries)).encode()).hexdigest()


def current_draw() -> Draw | None:
    """The draw open to applications, if any: new applications join its cohort."""
    return Draw.objects.filter(status=Draw.Status.OPEN).order_by("created_at").first()


@transaction.atomic
def close_applications(draw: Draw) -> Draw:
    """Freeze the list of applications and publish the seed, before anything is drawn."""
    draw = Draw.objects.select_for_update().get(pk=draw.pk)
    if draw.status != Draw.Status.OPEN:
        raise ValidationError(_("Applications to this draw are already closed."))
    validate_strata(draw.strata, draw.places)
    waiting = Household.objects.filter(
        Q(cohort=draw) | Q(cohort__isnull=True), status=Household.Status.APPLICANT, erased_at__isnull=True
    )
    # A possible duplicate nobody has cleared enters no draw; cleared, it joins the next one.
    unchecked = Q(duplicate_flagged_at__isnull=False, duplicate_cleared_at__isnull=True)
    waiting.filter(unchecked, cohort=draw).update(cohort=None)
    applicants = list(waiting.exclude(unchecked).select_for_update())
    Household.objects.filter(pk__in=[household.pk for household in applicants]).update(cohort=draw)
    DrawEntry.objects.bulk_create(
        DrawEntry(
            draw=draw,
            household=household,
            application_number=household.reference,
            stratum=stratum_of(draw.strata, household.income_bracket, household.age_bracket),
            # The code the applicant was given when applying (older applications: a new one).
            secret=household.draw_code or secrets.token_hex(16),
        )
        for household in applicants
    )
    draw.seed = secrets.token_hex(32)
    draw.seed_published_at = timezone.now()
    draw.list_digest = list_digest(
        (number, commitment(code)) for number, code in draw.entries.values_list("application_number", "secret")
    )
    draw.status = Draw.Status.CLOSED
    draw.save(update_fields=["seed", "seed_published_at", "list_digest", "status"])
    return draw


def _frozen(draw: Draw) -> list[tuple[str, str, str]]:
    return list(draw.entries.values_list("application_number", "stratum", "secret"))


@transaction.atomic
def run_draw(draw: Draw, *, by=None) -> Draw:
    draw = Draw.objects.select_for_update().get(pk=draw.pk)
    if draw.status != Draw.Status.CLOSED:
        raise ValidationError(_("Close the applications and publish the seed before drawing."))
    placed = compute(draw.seed, _frozen(draw), draw.places, draw.strata)
    entries = list(draw.entries.select_related("household"))
    for entry in entries:
        result = placed[entry.application_number]
        entry.rank, entry.waitlist_position = result.rank, result.waitlist_position
        entry.initial_outcome = entry.outcome = result.outcome
        status = Household.Status.DRAWN if result.outcome == DrawEntry.Outcome.DRAWN else Household.Status.WAITLISTED
        enrolment.set_status(entry.household, status, by=by, note=draw.cohort)
    DrawEntry.objects.bulk_update(entries, ["rank", "waitlist_position", "initial_outcome", "outcome"])
    draw.status, draw.drawn_at, draw.drawn_by = Draw.Status.DRAWN, timezone.now(), by
    draw.result_digest = result_digest(draw)
    draw.save(update_fields=["status", "drawn_at", "drawn_by", "result_digest"])
    return draw


def published_result(draw: Draw) -> dict:
    """What anyone may see: the seed, the digest of the list, the numbers drawn (in
    number order) and the waitlist (in draw order). Application numbers only."""
    draw.refresh_from_db()
    result = {
        "cohort": draw.cohort,
        "places": draw.places,
        "applications": draw.entries.count(),
        "seed": draw.seed if draw.seed_published_at else None,
        "seed_published_at": draw.seed_published_at.isoformat() if draw.seed_published_at else None,
        "list_digest": draw.list_digest or None,
        # (number, SHA-256 of its code): anyone can check the digest, nobody can rank.
        "commitments": sorted(
            (number, commitment(code)) for number, code in draw.entries.values_list("application_number", "secret")
        ) if draw.seed_published_at else [],
        "drawn": [],
        "waitlist": [],
    }
    if draw.status == Draw.Status.DRAWN:
        entries = draw.entries.order_by("application_number")
        result["drawn"] = [e.application_number for e in entries if e.initial_outcome == DrawEntry.Outcome.DRAWN]
        waitlisted = [e for e in entries if e.initial_outcome == DrawEntry.Outcome.WAITLISTED]
        result["waitlist"] = [e.application_number for e in sorted(waitlisted, key=lambda e: e.waitlist_position)]
    return result


def result_digest(draw: Draw) -> str:
    outcome = sorted(draw.entries.values_list("application_number", "rank", "initial_outcome", "waitlist_position"))
    return hashlib.sha256(json.dumps([draw.seed, outcome]).encode()).hexdigest()


@dataclass
class Verification:
    ok: bool
    problems: list[str]


def verify(draw: Draw) -> Verification:
    """Draw again from the published seed and the frozen list; compare with what was recorded."""
    problems = []
    draw.refresh_from_db()
    if draw.status != Draw.Status.DRAWN:
        return Verification(False, [_("This draw has not been drawn yet.")])
    frozen = _frozen(draw)
    if list_digest((number, commitment(code)) for number, _s, code in frozen) != draw.list_digest:
        problems.append(_("The list of applications differs from the one frozen when the seed was published."))
    placed = compute(draw.seed, frozen, draw.places, draw.strata)
    for number, rank, outcome, position in draw.entries.values_list(
        "application_number", "rank", "initial_outcome", "waitlist_position"
    ):
        expected = placed[number]
        if (rank, outcome, position) != (expected.rank, expected.outcome, expected.waitlist_position):
            problems.append(
                _("Application %(number)s: recorded %(recorded)s, the draw gives %(expected)s.")
                % {"number": number, "recorded": f"{outcome} #{rank}", "expected": f"{expected.outcome} #{expected.rank}"}
            )
    if result_digest(draw) != draw.result_digest:
        problems.append(_("The recorded result no longer matches its digest."))
    return Verification(not problems, problems)


def check_rank(draw: Draw, number: str, code: str) -> int | None:
    """An applicant's own rank, from the public seed and their draw code; None if the
    code does not match the one committed to before the draw."""
    entry = draw.entries.filter(application_number=number).only("secret").first()
    if entry is None or draw.status != Draw.Status.DRAWN or not _same_code(entry.secret, code):
        return None
    entries = _frozen(draw)
    own = rank_key(draw.seed, number, entry.secret)
    # Ranks are the order of the keys; only this applicant's key is computed in the open.
    return 1 + sum(1 for n, _s, c in entries if (rank_key(draw.seed, n, c), n) < (own, number))


def _same_code(secret: str, typed: str) -> bool:
    # Codes given on paper are typed back in any case, with or without the dash;
    # older codes (hex) are compared as they are.
    typed = (typed or "").strip()
    return secrets.compare_digest(secret, typed) or secrets.compare_digest(
        secret, enrolment.normalise_draw_code(typed))


@transaction.atomic
def decline(entry: DrawEntry, *, by=None, expired: bool = False) -> DrawEntry | None:
    """The household drawn declines its place (or lets it expire): it goes to the next on
    the waitlist of the same stratum (or the next on the waitlist). Returns the entry
    that gets the place."""
    entry = DrawEntry.objects.select_for_update().select_related("household").get(pk=entry.pk)
    if entry.outcome != DrawEntry.Outcome.DRAWN:
        raise ValidationError(_("Only a place drawn and not yet taken can be declined."))
    entry.outcome = DrawEntry.Outcome.EXPIRED if expired else DrawEntry.Outcome.DECLINED
    entry.save(update_fields=["outcome"])
    note = _("place not taken in time") if expired else _("place declined")
    enrolment.set_status(entry.household, Household.Status.EXITED, by=by, note=note)
    waiting = DrawEntry.objects.select_for_update().filter(draw=entry.draw, outcome=DrawEntry.Outcome.WAITLISTED)
    successor = waiting.filter(stratum=entry.stratum).order_by("waitlist_position").first() or waiting.order_by(
        "waitlist_position"
    ).first()
    if successor is None:
        return None
    successor.outcome, successor.promoted_at = DrawEntry.Outcome.DRAWN, timezone.now()
    successor.save(update_fields=["outcome", "promoted_at"])
    enrolment.set_status(successor.household, Household.Status.DRAWN, by=by,
                         note=_("place of %(number)s, %(outcome)s")
                         % {"number": entry.application_number, "outcome": entry.get_outcome_display()})
    from . import notices

    notices.notify_place_offered(successor.household, days=days_to_take_a_place())
    return successor


def place_of(household: Household) -> DrawEntry | None:
    """The household's place drawn and not yet taken, if it has one."""
    return (DrawEntry.objects.select_related("draw")
            .filter(household=household, outcome=DrawEntry.Outcome.DRAWN).order_by("-draw__created_at").first())


def days_to_take_a_place() -> int:
    return int(getattr(settings, "CAISSE_DAYS_TO_TAKE_A_PLACE", 30))


def expire_places(now=None, *, by=None) -> int:
    """Places drawn (or passed on) and not taken within the fund's delay go to the next
    of the same stratum, as a declined place does. A periodic task; returns how many."""
    from datetime import timedelta

    limit = (now or timezone.now()) - timedelta(days=days_to_take_a_place())
    stale = DrawEntry.objects.filter(outcome=DrawEntry.Outcome.DRAWN).filter(
        Q(promoted_at__lt=limit) | Q(promoted_at__isnull=True, draw__drawn_at__lt=limit))
    count = 0
    for entry in stale.order_by("draw_id", "rank"):
        decline(entry, by=by, expired=True)
        count += 1
    return count


@dataclass(frozen=True)
class PublicOutcome:
    """What the public check page tells an applicant who typed their number and code."""

    number: str
    waiting: bool  # not drawn yet: in the next draw (or being checked)
    being_checked: bool  # a possible duplicate a person has not looked at yet
    draw: Draw | None
    rank: int | None = None
    applications: int | None = None
    outcome: str = ""
    outcome_label: str = ""
    waitlist_position: int | None = None


def next_draw() -> Draw | None:
    """The draw a new application joins: the one open, else none yet (the next created)."""
    return current_draw()


def public_outcome(number: str, code: str) -> PublicOutcome | None:
    """An applicant's rank and outcome from their application number and draw code;
    None when the pair does not match (whether the number exists is not told)."""
    number = (number or "").strip().upper()
    household = Household.objects.filter(reference=number, erased_at__isnull=True).only(
        "pk", "reference", "draw_code", "duplicate_flagged_at", "duplicate_cleared_at").first()
    entry = (DrawEntry.objects.select_related("draw").filter(household=household).order_by("-draw__created_at").first()
             if household is not None else None)
    secret = entry.secret if entry is not None else (household.draw_code if household is not None else "")
    if household is None or not secret or not _same_code(secret, code):
        # Compared anyway, so that an unknown number takes as long as a wrong code.
        _same_code("0" * enrolment.DRAW_CODE_LENGTH, code)
        return None
    checking = household.duplicate_flagged_at is not None and household.duplicate_cleared_at is None
    if entry is None or entry.draw.status != Draw.Status.DRAWN:
        return PublicOutcome(number=number, waiting=True, being_checked=checking,
                       draw=entry.draw if entry is not None else next_draw())
    return PublicOutcome(
        number=number, waiting=False, being_checked=False, draw=entry.draw, rank=entry.rank,
        applications=entry.draw.entries.count(), outcome=entry.outcome, outcome_label=entry.get_outcome_display(),
        waitlist_position=entry.waitlist_position if entry.outcome == DrawEntry.Outcome.WAITLISTED else None,
    )


@transaction.atomic
def accept(entry: DrawEntry, *, by=None) -> DrawEntry:
    """The household takes its place: active from today, with its history."""
    entry = DrawEntry.objects.select_for_update().select_related("household", "draw").get(pk=entry.pk)
    if entry.outcome != DrawEntry.Outcome.DRAWN:
        raise ValidationError(_("Only a place drawn can be taken."))
    entry.outcome = DrawEntry.Outcome.ACCEPTED
    entry.save(update_fields=["outcome"])
    enrolment.set_status(entry.household, Household.Status.ACTIVE, by=by, note=_("place taken, %(cohort)s") % {"cohort": entry.draw.cohort})
    return entry
