"""The demo fund: a realistic, deterministic Montpellier-like caisse for trying Caisse.

`seed_demo()` upserts households, vendors, a committee, two coordinators and a desk
volunteer (none a superuser, each with a second factor), then posts a
few months of history (grants, contributions, allocations, purchases, settlements)
through `allocations.ledger.transfer`, never by writing a balance.

Rerunning it is safe:

- every person, shop and seat is found again by its natural key (household reference,
  vendor slug, username, open seat), so nothing is duplicated;
- every movement carries a deterministic idempotency key, so a repeat moves nothing;
- each household and vendor draws from its own random stream, seeded by its number (and,
  for a household's month, the period), so what it is, contributes and spends does not
  depend on how many households or vendors this run asked for; grants are sized per
  block of households for the same reason. A larger `--households` therefore only adds
  to the demo. (Purchases an earlier run sent to other vendors are kept as they were.)

Only the passwords change from one run to the next (they are random and written to the
credentials file): one hash per role, because PBKDF2 is slow by design. The staff's TOTP
secrets stay, so an authenticator app set up with one keeps working; every demo account
is flagged `is_demo`, the only accounts `manage.py demo_totp` gives a code for.
"""

from __future__ import annotations

import json
import math
import os
import random
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from allocations import approvals, fund, grants, issuance, keys, ledger
from allocations import periods as periods_of_fund
from allocations.models import AccountKind, Approval, Grant, Transfer, TransferKind
from allocations.rules import allocation_for, rules_for
from allocations.selectors import FundPosition, fund_position
from governance.models import CommitteeMembership
from members import cards, contributions
from members.models import Card, ContributionPayment, Household, Person
from members.selectors import household_source
from members.services import create_household
from users import roles
from vendors import settlements
from vendors.models import ApiKey, Vendor, VendorStaff
from vendors.services import create_api_key, register_vendor, revoke_api_key

SEED = "caisse-demo-montpellier-v1"
HISTORY_MONTHS = 3
ALLOCATION = 10_000  # cents: Montpellier's 100 € a month per household
GRANT_BLOCK = 50  # households whose allocations one grant tranche covers
CHUNK = 100  # households per database transaction
DEFAULT_HOUSEHOLDS = 400
DEFAULT_VENDORS = 50
MAX_DEFAULT_COMMITTEE = 50
COORDINATOR_USERNAME = "coordination"
SECOND_COORDINATOR_USERNAME = f"{COORDINATOR_USERNAME}-2"
# The demo fund's bank account (a valid, made-up one): its SEPA files can be made.
DEMO_FUND_IBAN, DEMO_FUND_BIC, DEMO_FUND_CREDITOR_ID = "FR7630006000011234567890189", "AGRIFRPPXXX", "FR12ZZZ123456"
VOLUNTEER_USERNAME = "accueil"
SECOND_VOLUNTEER_USERNAME = f"{VOLUNTEER_USERNAME}-2"
# The demo's staff: (credentials key, username, role, first name, last name). None is a
# superuser: the roles' groups are all the fund needs.
STAFF = (
    ("coordinator", COORDINATOR_USERNAME, roles.COORDINATOR, "Coordination", ""),
    ("second_coordinator", SECOND_COORDINATOR_USERNAME, roles.COORDINATOR, "Coordination", "(2)"),
    ("volunteer", VOLUNTEER_USERNAME, roles.VOLUNTEER, "Accueil", "(bénévole)"),
    # A desk is often held by two: each signs in with their own password and second factor.
    ("second_volunteer", SECOND_VOLUNTEER_USERNAME, roles.VOLUNTEER, "Accueil", "(bénévole 2)"),
)
DEMO_PREFIX = "DEMO"

# --- What Montpellier looks like -------------------------------------------------------

# The city's seven districts, weighted by where the fund's households live: more in the
# districts with the most food precarity.
DISTRICTS = {
    "Mosson": 20,
    "Cévennes": 15,
    "Près d'Arènes": 16,
    "Croix d'Argent": 14,
    "Centre": 14,
    "Hôpitaux-Facultés": 11,
    "Port Marianne": 10,
}
DISTRICT_OF = {
    "Mosson": "de la Mosson",
    "Cévennes": "des Cévennes",
    "Près d'Arènes": "des Près d'Arènes",
    "Croix d'Argent": "de la Croix d'Argent",
    "Centre": "du Centre",
    "Hôpitaux-Facultés": "des Hôpitaux-Facultés",
    "Port Marianne": "de Port Marianne",
}
BETTER_OFF_DISTRICTS = ("Centre", "Hôpitaux-Facultés", "Port Marianne")
POSTCODES = {
    "Centre": "34000",
    "Port Marianne": "34000",
    "Près d'Arènes": "34070",
    "Croix d'Argent": "34070",
    "Cévennes": "34080",
    "Mosson": "34080",
    "Hôpitaux-Facultés": "34090",
}
STREETS = {
    "Centre": ("rue de la Loge", "boulevard du Jeu de Paume", "rue du Faubourg Figuerolles", "cours Gambetta",
               "rue du Faubourg Boutonnet", "rue de l'Aiguillerie", "rue Saint-Guilhem"),
    "Mosson": ("avenue de Heidelberg", "rue de Tipasa", "avenue de Barcelone", "place du Grand Mail",
               "rue des Araucarias"),
    "Cévennes": ("avenue de Lodève", "rue Pierre Cardenal", "avenue Louis Ravas", "rue du Père Soulas",
                 "avenue de la Liberté"),
    "Croix d'Argent": ("avenue de Toulouse", "avenue du Colonel Pavelet", "rue du Mas Drevon",
                       "rue des Chasseurs", "avenue de Lattes"),
    "Près d'Arènes": ("avenue de Palavas", "avenue de Maurin", "rue Saint-Cléophas", "rue des Razeteurs",
                      "avenue Pierre Mendès France"),
    "Port Marianne": ("avenue Raymond Dugrand", "rue de la Pompignane", "avenue de la Mer",
                      "rue du Mas de Rochet", "place Ernest Granier"),
    "Hôpitaux-Facultés": ("rue de la Croix de Lavit", "avenue Augustin Fliche", "route de Ganges",
                          "rue de Las Sorbes", "avenue Bouisson Bertrand"),
}
MARKETS = {
    "Centre": ("marché des Arceaux", "boulevard des Arceaux"),
    "Mosson": ("marché de la Mosson", "avenue de Heidelberg"),
    "Cévennes": ("marché des Cévennes", "avenue de Lodève"),
    "Croix d'Argent": ("marché de la Croix d'Argent", "avenue de Toulouse"),
    "Près d'Arènes": ("marché des Près d'Arènes", "avenue de Palavas"),
    "Port Marianne": ("marché de Port Marianne", "avenue Raymond Dugrand"),
    "Hôpitaux-Facultés": ("marché d'Aiguelongue", "rue de la Croix de Lavit"),
}
FARM_TOWNS = (
    ("Lattes", "34970"), ("Pérols", "34470"), ("Saint-Jean-de-Védas", "34430"), ("Fabrègues", "34690"),
    ("Grabels", "34790"), ("Prades-le-Lez", "34730"), ("Castries", "34160"), ("Villeneuve-lès-Maguelone", "34750"),
    ("Murviel-lès-Montpellier", "34570"), ("Saint-Gély-du-Fesc", "34980"), ("Jacou", "34830"), ("Pignan", "34570"),
)
FIRST_NAMES = (
    "Nadia", "Karim", "Fatima", "Mohamed", "Sophie", "Julien", "Camille", "Léa", "Thomas", "Manon", "Yasmine",
    "Sofiane", "Inès", "Rachid", "Aïcha", "Mamadou", "Aminata", "Marie", "Jean", "Isabelle", "Christophe",
    "Nathalie", "Laurent", "Sandrine", "Éric", "Céline", "Mehdi", "Samira", "Hakim", "Leïla", "Elena", "José",
    "Carmen", "Ana", "João", "Rosa", "Kevin", "Jessica", "Lucas", "Emma", "Hugo", "Chloé", "Louis", "Jade",
    "Nicolas", "Audrey", "Pierre", "Martine", "Bernard", "Monique", "Omar", "Khadija", "Ibrahim", "Mariama",
    "Zohra", "Farid", "Sylvie", "Patrick", "Valérie", "Romain",
)
SURNAMES = (
    "Martin", "Bernard", "Garcia", "Martinez", "Lopez", "Sanchez", "Fernandez", "Benali", "Haddad", "Bouzid",
    "Belkacem", "Diallo", "Traoré", "Ndiaye", "Dubois", "Moreau", "Laurent", "Fabre", "Roux", "Vidal", "Rey",
    "Fournier", "Girard", "Mercier", "Blanc", "Guérin", "Chevalier", "Ferreira", "Da Silva", "Nguyen", "Meyer",
    "Boyer", "Bonnet", "Petit", "Durand", "Leroy", "Gauthier", "Perrin", "Morel", "Mas", "Pujol", "Rouquette",
    "Teissier", "Bousquet", "Cabanis", "Roustan", "Salles", "Castel", "Marty", "Delmas", "Amrani", "El Idrissi",
    "Kaci", "Mansouri", "Cohen", "Sarr", "Camara", "Rossi", "Romero", "Navarro",
)
FUNDERS = (
    "Montpellier Méditerranée Métropole",
    "Département de l'Hérault",
    "Région Occitanie",
    "Fondation pour une alimentation durable",
)
FUNDER_TYPES = dict(zip(FUNDERS, ("metropole", "department", "region", "foundation"), strict=True))

# Household size and contribution: (value, weight).
ADULTS = ((1, 45), (2, 45), (3, 10))
CHILDREN = ((0, 40), (1, 22), (2, 20), (3, 12), (4, 6))
# Euros a month, as people choose them on the grid: round figures, most of them low.
CONTRIBUTION_EUROS = (
    (1, 8), (2, 4), (3, 3), (5, 9), (8, 2), (10, 10), (15, 7), (20, 9), (25, 5), (30, 8), (35, 2), (40, 6),
    (45, 2), (50, 6), (60, 4), (70, 3), (80, 3), (90, 1), (100, 3), (110, 1), (120, 2), (130, 1), (150, 2),
)
PURCHASES_A_MONTH = ((1, 10), (2, 25), (3, 30), (4, 20), (5, 10), (6, 5))
# Share of the month's allocation a household spends: (low, high), weight.
SPENDING = (((0.85, 1.0), 70), ((0.5, 0.85), 20), ((0.1, 0.5), 10))
MISSED_CONTRIBUTION = 0.04  # chance a household skips a month's contribution
# How often a household shops at each kind of vendor.
KIND_WEIGHTS = {
    Vendor.Kind.COOPERATIVE: 6,
    Vendor.Kind.MARKET: 3,
    Vendor.Kind.GROCERY: 3,
    Vendor.Kind.FARM: 2,
    Vendor.Kind.BAKERY: 2,
    Vendor.Kind.BUTCHER: 1,
    Vendor.Kind.OTHER: 1,
}
# The mix of the 49 vendors after the cooperative (the fund has one, listed first).
VENDOR_MIX = {
    Vendor.Kind.MARKET: 13,
    Vendor.Kind.GROCERY: 13,
    Vendor.Kind.FARM: 12,
    Vendor.Kind.BAKERY: 8,
    Vendor.Kind.BUTCHER: 2,
    Vendor.Kind.OTHER: 1,
}
NOT_YET_APPROVED = (Vendor.Status.APPLIED, Vendor.Status.UNDER_REVIEW, Vendor.Status.PAUSED)


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights)[0]


def _rng(*parts) -> random.Random:
    # String seeds are hashed with SHA-512 by `random`, so they are stable across runs
    # and interpreters (unlike hash()).
    return random.Random(":".join([SEED, *map(str, parts)]))


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- The plan: what the demo contains, computed without the database --------------------


@dataclass(frozen=True)
class HouseholdSpec:
    index: int
    reference: str
    username: str
    first_name: str
    last_name: str
    adults: int
    children: int
    district: str
    monthly_contribution: int  # cents
    joined_on: date
    spending: tuple[float, float]


@dataclass(frozen=True)
class VendorSpec:
    index: int
    slug: str
    display_name: str
    legal_name: str
    kind: str
    status: str
    address: str
    district: str
    username: str
    first_name: str
    last_name: str


@dataclass(frozen=True)
class SeatSpec:
    username: str
    first_name: str
    last_name: str
    role: str
    household_index: int | None  # the household whose portal login holds the seat


def history_periods(today: date) -> list[str]:
    """The months before `today`'s, oldest first, as "YYYY-MM"."""
    periods = []
    for back in range(HISTORY_MONTHS, 0, -1):
        months = today.year * 12 + today.month - 1 - back
        periods.append(f"{months // 12:04d}-{months % 12 + 1:02d}")
    return periods


def _moment(period: str, day: int, hour: int, minute: int = 0) -> datetime:
    """A time in the fund's time zone on `day` of `period`, to date the demo's history."""
    year, month = map(int, period.split("-"))
    return datetime(year, month, day, hour, minute, tzinfo=timezone.get_current_timezone())


def _first_day(period: str) -> date:
    year, month = map(int, period.split("-"))
    return date(year, month, 1)


def _months_before(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 - months
    return date(total // 12, total % 12 + 1, 1)


def household_spec(index: int, history_start: date) -> HouseholdSpec:
    rng = _rng("household", index)
    district = _weighted(rng, DISTRICTS.items())
    euros = _weighted(rng, CONTRIBUTION_EUROS)
    if district in BETTER_OFF_DISTRICTS and rng.random() < 0.4:
        euros = max(euros, _weighted(rng, CONTRIBUTION_EUROS))
    # Everyone joined with the cohort whose first month the history starts with: the
    # contributions and allocations of the demo cover all of their months in the fund.
    joined = history_start
    return HouseholdSpec(
        index=index,
        reference=f"{DEMO_PREFIX}-{index:04d}",
        username=f"foyer-{index:04d}",
        first_name=rng.choice(FIRST_NAMES),
        last_name=rng.choice(SURNAMES),
        adults=_weighted(rng, ADULTS),
        children=_weighted(rng, CHILDREN),
        district=district,
        monthly_contribution=euros * 100,
        joined_on=joined,
        spending=_weighted(rng, SPENDING),
    )


def _vendor_kinds() -> list[str]:
    # Spread each kind evenly along the list, so that a small demo still gets a mix.
    slots = [((j + 0.5) / count, kind) for kind, count in VENDOR_MIX.items() for j in range(count)]
    return [kind for _position, kind in sorted(slots, key=lambda slot: slot[0])]


_KINDS_AFTER_COOPERATIVE = _vendor_kinds()


def _of(name: str) -> str:
    """French "de", elided before a vowel: "Au Panier d'Aminata"."""
    return f"d'{name}" if name[0].lower() in "aeiouéèêàâîïôœ" else f"de {name}"


def _vendor_identity(kind: str, rng: random.Random) -> tuple[str, str, str, str]:
    """(display name, legal name, address, district) for a vendor of `kind`."""
    district = _weighted(rng, DISTRICTS.items())
    postcode = POSTCODES[district]
    street = f"{rng.randint(1, 120)} {rng.choice(STREETS[district])}, {postcode} Montpellier"
    surname, first, of_district = rng.choice(SURNAMES), rng.choice(FIRST_NAMES), DISTRICT_OF[district]
    if kind == Vendor.Kind.MARKET:
        market, place = MARKETS[district]
        trade = rng.choice(("Fruits et légumes", "Primeur", "Maraîchage", "Fromages", "Œufs et volailles",
                            "Olives et épices", "Légumes bio"))
        return (f"{trade} {surname} — {market}", f"EI {first} {surname}",
                f"{market[0].upper()}{market[1:]}, {place}, {postcode} Montpellier", district)
    if kind == Vendor.Kind.FARM:
        town, farm_postcode = rng.choice(FARM_TOWNS)
        name = rng.choice((f"Ferme {surname}", "Mas des Oliviers", "Mas de la Fontaine", f"Les Jardins {_of(town)}",
                           "La Bergerie des Garrigues", "Mas du Salaison", "Ferme des Cigales",
                           f"Le Potager {_of(first)}", "Mas de Maurin", "Les Vergers du Lez", f"Ferme {_of(town)}"))
        lane = rng.choice(("chemin des Vignes", "route de Montpellier", "chemin du Mas", "route de Sète",
                           "chemin de la Garrigue"))
        legal = rng.choice(("EARL", "GAEC", "SCEA"))
        return name, f"{legal} {name}", f"{name}, {lane}, {farm_postcode} {town}", district
    if kind == Vendor.Kind.GROCERY:
        name = rng.choice((f"Épicerie {surname}", f"Alimentation générale {surname}", f"Primeur {of_district}",
                           f"Le Comptoir {_of(first)}", "Épicerie vrac Le Bocal", f"Épicerie solidaire {of_district}",
                           f"Supérette {surname}", f"Au Panier {_of(first)}"))
        return name, f"SARL {name}", street, district
    if kind == Vendor.Kind.BAKERY:
        name = rng.choice((f"Boulangerie {surname}", f"Au Fournil {_of(first)}", "La Mie Dorée", "Le Pain Paysan",
                           f"Boulangerie {of_district}", "La Fougasse d'Or"))
        return name, f"SARL {name}", street, district
    if kind == Vendor.Kind.BUTCHER:
        name = rng.choice(
            (f"Boucherie {surname}", f"Boucherie halal {surname}", f"Boucherie-charcuterie {of_district}")
        )
        return name, f"SARL {name}", street, district
    name = rng.choice((f"Poissonnerie {surname}", f"Fromagerie {surname}"))
    return name, f"EI {first} {surname}", street, district


def _slug(display_name: str) -> str:
    # slugify() drops the ligature instead of spelling it out.
    short = display_name.split(" — ")[0].replace("Œ", "Oe").replace("œ", "oe")
    return slugify(short)[:50]


def vendor_specs(count: int) -> list[VendorSpec]:
    """The first `count` demo vendors; vendor i is the same whatever `count` is."""
    specs, names, slugs = [], set(), set()
    for index in range(count):
        rng = _rng("vendor", index)
        if index == 0:
            kind = Vendor.Kind.COOPERATIVE
            display, legal = "Le Panier Commun — supermarché coopératif", "SCIC SA Le Panier Commun"
            district, address = "Près d'Arènes", "85 avenue de Palavas, 34070 Montpellier"
        else:
            kind = _KINDS_AFTER_COOPERATIVE[(index - 1) % len(_KINDS_AFTER_COOPERATIVE)]
            # Draw again on a name already taken: two "Mas de Maurin" would puzzle a tester.
            for _attempt in range(20):
                display, legal, address, district = _vendor_identity(kind, rng)
                if display not in names:
                    break
        names.add(display)
        slug = _slug(display)
        if slug in slugs:
            slug = f"{slug}-{index + 1}"
        slugs.add(slug)
        status = Vendor.Status.APPROVED
        if index % 8 == 7:
            status = NOT_YET_APPROVED[(index // 8) % len(NOT_YET_APPROVED)]
        specs.append(
            VendorSpec(
                index=index,
                slug=slug,
                display_name=display,
                legal_name=legal,
                kind=kind,
                status=status,
                address=address,
                district=district,
                username=slug,
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(SURNAMES),
            )
        )
    return specs


def default_committee_size(households: int) -> int:
    # Montpellier: ~50 members for ~400 households, about one for eight.
    return min(MAX_DEFAULT_COMMITTEE, max(1, households // 8))


def committee_specs(size: int, households: list[HouseholdSpec]) -> list[SeatSpec]:
    """About half the seats held by member households (as in Montpellier), a few facilitators."""
    # Every eighth household, so the seats spread over districts and sizes.
    eligible = households[::8]
    facilitators = max(1, round(size / 12)) if size else 0
    seats, linked, others = [], 0, 0
    for seat in range(size):
        role = CommitteeMembership.Role.FACILITATOR if seat < facilitators else CommitteeMembership.Role.MEMBER
        if seat % 2 == 0 and linked < len(eligible):
            household = eligible[linked]
            linked += 1
            seats.append(SeatSpec(household.username, household.first_name, household.last_name, role, household.index))
        else:
            others += 1
            rng = _rng("committee", others)
            seats.append(
                SeatSpec(f"comite-{others:02d}", rng.choice(FIRST_NAMES), rng.choice(SURNAMES), role, None)
            )
    return seats


# --- Writing it ------------------------------------------------------------------------


@dataclass
class Tally:
    posted: int = 0  # transfers that moved money in this run
    replayed: int = 0  # already there from an earlier run: nothing moved
    kept: int = 0  # an earlier run (other sizes) recorded them differently: kept as they were

    def add(self, posted: ledger.Posted) -> None:
        if posted.created:
            self.posted += 1
        else:
            self.replayed += 1


@dataclass
class SeedReport:
    households: int
    vendors: int
    approved_vendors: int
    committee: int
    periods: list[str]
    tally: Tally
    position: FundPosition
    credentials: dict = field(repr=False)


def _upsert_users(rows: list[tuple[str, str, str]], password_hash: str) -> dict[str, int]:
    """Users by username, created or reset to `password_hash`; returns username -> id."""
    User = get_user_model()
    usernames = [row[0] for row in rows]
    existing = set()
    for chunk in _chunks(usernames, 1000):
        existing.update(User.objects.filter(username__in=chunk).values_list("username", flat=True))
        User.objects.filter(username__in=chunk).update(password=password_hash, is_active=True, is_demo=True)
    User.objects.bulk_create(
        [
            User(username=username, first_name=first, last_name=last, password=password_hash, is_demo=True)
            for username, first, last in rows
            if username not in existing
        ],
        batch_size=500,
    )
    ids = {}
    for chunk in _chunks(usernames, 1000):
        ids.update(User.objects.filter(username__in=chunk).values_list("username", "pk"))
    return ids


def _seed_households(specs: list[HouseholdSpec]) -> dict[str, Household]:
    fields = ("adults", "children", "district", "monthly_contribution", "joined_on")
    by_reference = {}
    for chunk in _chunks(specs, CHUNK):
        with transaction.atomic():
            existing = Household.objects.in_bulk([spec.reference for spec in chunk], field_name="reference")
            changed = []
            for spec in chunk:
                values = {name: getattr(spec, name) for name in fields}
                values["status"] = Household.Status.ACTIVE
                household = existing.get(spec.reference)
                if household is None:
                    household = create_household(reference=spec.reference, **values)
                else:
                    for name, value in values.items():
                        setattr(household, name, value)
                    changed.append(household)
                by_reference[spec.reference] = household
            Household.objects.bulk_update(changed, [*fields, "status"])
    return by_reference


def _seed_cards(
    specs: list[HouseholdSpec], households: dict[str, Household], user_ids: dict[str, int]
) -> dict[str, tuple[Card, str]]:
    """The person who logs in for each household, with a card and a fresh PIN to try the till with.

    A rerun keeps the card and gives it a new PIN, so the credentials file stays right.
    """
    issued = {}
    for chunk in _chunks(specs, CHUNK):
        with transaction.atomic():
            for spec in chunk:
                household = households[spec.reference]
                person, _created = Person.objects.get_or_create(
                    household=household,
                    user_id=user_ids[spec.username],
                    defaults={"first_name": spec.first_name, "last_name": spec.last_name},
                )
                card = person.cards.filter(status=Card.Status.ACTIVE).first()
                if card is None:
                    card, pin = cards.issue_card(household=household, holder=person)
                else:
                    pin = cards.reset_pin(card)
                issued[spec.reference] = (card, pin)
    return issued


def _seed_proposals(vendors: list[Vendor]) -> None:
    """Two votes open for the committee to try: approving a shop under review, and a motion."""
    from governance import charter, proposals
    from governance.models import Kind, Proposal

    author = get_user_model().objects.get(username=COORDINATOR_USERNAME)
    under_review = next((v for v in vendors if v.status == Vendor.Status.UNDER_REVIEW), None)
    wanted = []
    if under_review is not None:
        wanted.append({
            "kind": Kind.APPROVE_VENDOR,
            "title": f"Conventionner {under_review.display_name}",
            "vendor": under_review,
            "text": "Visite faite en octobre : produits locaux, prix affichés, accueil de tous les publics.",
            "visit_report": "Visite du commerce par deux membres du comité : la charte est respectée.",
            # Checked one by one at the visit; one criterion left for the committee to weigh.
            "charter_checks": {key: key != "sustainable" for key in charter.CRITERIA},
        })
    wanted.append({
        "kind": Kind.MOTION,
        "title": "Ouvrir une permanence le samedi matin au marché de la Mosson",
        "text": "Pour les foyers qui travaillent en semaine.",
    })
    for values in wanted:
        if Proposal.objects.filter(title=values["title"]).exists():
            continue
        proposals.open_vote(proposals.create(author=author, **values), by=author)


def _seed_vendors(specs: list[VendorSpec], user_ids: dict[str, int]) -> list[Vendor]:
    fields = ("display_name", "legal_name", "kind", "status", "address", "district", "iban", "bic")
    with transaction.atomic():
        existing = Vendor.objects.in_bulk([spec.slug for spec in specs], field_name="slug")
        vendors, changed = [], []
        for spec in specs:
            # An IBAN for each, so that the demo's settlements are paid (and its SEPA file full).
            iban, bic = _demo_iban(spec.index + 1)
            values = {**{name: getattr(spec, name) for name in fields[:-2]}, "iban": iban, "bic": bic}
            vendor = existing.get(spec.slug)
            if vendor is None:
                vendor = register_vendor(slug=spec.slug, **values)
            else:
                for name, value in values.items():
                    setattr(vendor, name, value)
                changed.append(vendor)
            vendors.append(vendor)
        Vendor.objects.bulk_update(changed, fields)

        staff = {row.user_id: row for row in VendorStaff.objects.filter(user_id__in=user_ids.values())}
        new_staff, moved = [], []
        for spec, vendor in zip(specs, vendors):
            row = staff.get(user_ids[spec.username])
            if row is None:
                new_staff.append(VendorStaff(user_id=user_ids[spec.username], vendor=vendor))
            elif row.vendor_id != vendor.pk:
                row.vendor = vendor
                moved.append(row)
        VendorStaff.objects.bulk_create(new_staff)
        VendorStaff.objects.bulk_update(moved, ["vendor"])
        _join_group(roles.VENDOR_STAFF, [user_ids[spec.username] for spec in specs])
    return vendors


DEMO_KEY_LABEL = "demo"


def _seed_api_keys(vendors: list[Vendor]) -> dict[str, str]:
    """One API key per demo vendor. Keys are stored hashed, so a rerun cannot show the old
    one again: it revokes it and makes a new one, and the credentials file stays valid."""
    keys = {}
    with transaction.atomic():
        for old in ApiKey.objects.filter(vendor__in=vendors, label=DEMO_KEY_LABEL, revoked_at__isnull=True):
            revoke_api_key(old)
        for vendor in vendors:
            keys[vendor.slug] = create_api_key(vendor, label=DEMO_KEY_LABEL)[1]
    return keys


def _join_group(name: str, user_ids: list[int]) -> None:
    group = Group.objects.get(name=name)
    through = get_user_model().groups.through
    through.objects.bulk_create(
        [through(user_id=user_id, group_id=group.pk) for user_id in user_ids], ignore_conflicts=True
    )


def _seed_committee(seats: list[SeatSpec], user_ids: dict[str, int], starts_on: date) -> None:
    with transaction.atomic():
        open_seats = {
            seat.user_id: seat
            for seat in CommitteeMembership.objects.filter(
                user_id__in=[user_ids[spec.username] for spec in seats], ends_on__isnull=True
            )
        }
        new, changed = [], []
        for spec in seats:
            user_id = user_ids[spec.username]
            seat = open_seats.get(user_id)
            if seat is None:
                new.append(CommitteeMembership(user_id=user_id, role=spec.role, starts_on=starts_on))
            elif seat.role != spec.role:
                seat.role = spec.role
                changed.append(seat)
        CommitteeMembership.objects.bulk_create(new)
        CommitteeMembership.objects.bulk_update(changed, ["role"])


def _totp_secret_of(user) -> str:
    """The demo account's TOTP secret: kept from an earlier run, so that an authenticator
    app set up with it keeps working; made on the first."""
    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if existing is not None:
        return get_adapter().decrypt(existing.data["secret"])
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _seed_staff(passwords: dict[str, str]) -> dict[str, dict]:
    """Two coordinators and two desk volunteers, each with a password and a second factor;
    returns their credentials by key."""
    User = get_user_model()
    credentials = {}
    with transaction.atomic():
        for key, username, role, first_name, last_name in STAFF:
            user, _created = User.objects.get_or_create(username=username)
            user.password = make_password(passwords[key])
            user.is_active = user.is_demo = True
            user.is_staff = user.is_superuser = False
            user.first_name = user.first_name or first_name
            user.last_name = user.last_name or last_name
            user.save()
            _join_group(role, [user.pk])
            credentials[key] = {"username": username, "password": passwords[key], "totp_secret": _totp_secret_of(user)}
    return credentials


# --- The history -----------------------------------------------------------------------


def _quarter(period: str) -> str:
    year, month = period.split("-")
    return f"{year}-T{(int(month) - 1) // 3 + 1}"


def _post_grants(period: str, households: int, accounts: dict, tally: Tally) -> None:
    """One tranche per block of households and quarter, received before its allocations.

    Each tranche covers the whole quarter's allocations of its block, so the treasury
    never falls below the units in circulation whatever the households contribute; and
    since a block's tranche does not depend on how many blocks there are, a larger rerun
    adds tranches instead of contradicting the earlier ones.
    """
    quarter = _quarter(period)
    with transaction.atomic():
        for block in range(math.ceil(households / GRANT_BLOCK)):
            rng = _rng("grant", quarter, block)
            # A quarter of the block's allocations and up to a fifth more, in whole hundreds of euros.
            hundreds = int(GRANT_BLOCK * 3 * ALLOCATION * rng.uniform(1.0, 1.2)) // 10_000
            funder = FUNDERS[(block + int(quarter[-1])) % len(FUNDERS)]
            legacy = f"demo:grant:{quarter}:{block + 1:03d}"
            if Transfer.objects.filter(idempotency_key=legacy).exists():
                tally.replayed += 1  # a demo seeded before its grants were in the register
                continue
            # In the grant register, as a fund records its grants: the grant, then its receipt.
            first_day = _first_day(period)
            grant = Grant.objects.filter(reference=f"DEMO-{quarter}-{block + 1:03d}").first() or grants.create_grant(
                funder_type=FUNDER_TYPES[funder], funder_name=funder, reference=f"DEMO-{quarter}-{block + 1:03d}",
                amount=hundreds * 10_000, promised_on=_months_before(first_day, 1),
                earmark=f"subvention {quarter.replace('-', ' ')} (lot {block + 1})",
                period_start=first_day, period_end=_months_before(first_day, -3) - timedelta(days=1),
            )
            known = grant.receipts.exists()
            grants.record_receipt(grant, amount=hundreds * 10_000, received_on=first_day,
                                  bank_reference=f"VIR-{quarter}-{block + 1:03d}")
            if known:
                tally.replayed += 1
            else:
                tally.posted += 1


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    parts = max(1, min(parts, total // 100))
    weights = [rng.uniform(0.5, 1.5) for _part in range(parts)]
    amounts = [int(total * weight / sum(weights)) for weight in weights]
    amounts[-1] += total - sum(amounts)
    return [amount for amount in amounts if amount > 0]


def _choose_vendor(rng: random.Random, district: str, approved: list[Vendor]) -> Vendor:
    nearby = [vendor for vendor in approved if vendor.district == district]
    pool = nearby if nearby and rng.random() < 0.5 else approved
    return rng.choices(pool, weights=[KIND_WEIGHTS[vendor.kind] for vendor in pool])[0]


def _post_month(
    period: str,
    specs: list[HouseholdSpec],
    households: dict[str, Household],
    approved: list[Vendor],
    accounts: dict,
    tally: Tally,
) -> None:
    """Each household's contribution, its allocation, then what it spends of it.

    The past months' allocations are dated in their month, which the issuance service
    (it issues now) does not do; their amounts and keys are the service's own.
    """
    rules = rules_for(period)
    for chunk in _chunks(specs, CHUNK):
        with transaction.atomic():
            for spec in chunk:
                household = households[spec.reference]
                rng = _rng("household", spec.index, period)
                if rng.random() >= MISSED_CONTRIBUTION:
                    # Through the contributions service, so that the months paid show as paid
                    # (a bare transfer would leave every demo household in arrears).
                    paid_on = _moment(period, rng.randint(1, 10), rng.randint(9, 17)).date()
                    before = household.payments.filter(period=period).exists()
                    contributions.record_payment(
                        household,
                        amount=spec.monthly_contribution,
                        method=ContributionPayment.Method.DIRECT_DEBIT,
                        mandate_reference=f"{spec.reference}-SEPA",
                        period=period,
                        paid_on=paid_on,
                    )
                    if before:
                        tally.replayed += 1
                    else:
                        tally.posted += 1
                # The same key as the monthly issuance, so that it never issues this period twice.
                tally.add(
                    ledger.transfer(
                        debit=accounts[AccountKind.ISSUANCE],
                        credit=household.wallet_id,
                        amount=allocation_for(rules, adults=spec.adults, children=spec.children),
                        kind=TransferKind.ALLOCATION,
                        idempotency_key=keys.allocation(household.wallet_id, period),
                        memo=f"allocation {period}",
                        at=_moment(period, 1, 0, 5),
                    )
                )
                if not approved:
                    continue
                # At most this month's allocation, so the wallet never runs short whatever
                # earlier months (or someone trying the demo) left in it.
                spend = int(ALLOCATION * rng.uniform(*spec.spending))
                for n, amount in enumerate(_split(rng, spend, _weighted(rng, PURCHASES_A_MONTH)), start=1):
                    vendor = _choose_vendor(rng, spec.district, approved)
                    try:
                        tally.add(
                            ledger.transfer(
                                debit=household.wallet_id,
                                credit=vendor.account_id,
                                amount=amount,
                                kind=TransferKind.PURCHASE,
                                idempotency_key=f"demo:purchase:{spec.reference}:{period}:{n}",
                                at=_moment(period, rng.randint(1, 28), rng.randint(8, 19), rng.randint(0, 59)),
                            )
                        )
                    except ledger.IdempotencyConflict:
                        # A run with other vendors sent this purchase elsewhere: it stands.
                        tally.kept += 1


def _demo_iban(index: int) -> tuple[str, str]:
    """A well-formed French IBAN and BIC for demo vendor `index` (no real account)."""
    bban = f"30004{index % 100000:05d}{index:011d}{(97 - (index % 97)) % 100:02d}"
    check = 98 - int("".join(str(int(c, 36)) for c in f"{bban}FR00")) % 97
    return f"FR{check:02d}{bban}", "BNPAFRPPXXX"


def _second_coordinator():
    """Approves the demo history's payments: four eyes hold in the demo too."""
    return get_user_model().objects.get(username=SECOND_COORDINATOR_USERNAME)


def _settle_month(period: str, tally: Tally) -> None:
    """Reimburse the vendors for `period` as the fund does: a settlement run at the end of
    the month, its payment asked by the coordinator and approved by a second one.

    A rerun finds the month's run (one per cut-off) and pays nothing twice.
    """
    cutoff = timezone.make_aware(datetime.combine(_months_before(_first_day(period), -1), datetime.min.time()))
    result = settlements.create_run(cutoff)
    run = result.run
    if run.status != run.Status.AWAITING_APPROVAL:
        return
    first = get_user_model().objects.get(username=COORDINATOR_USERNAME)
    approval = approvals.pending(Approval.Action.SETTLEMENT_PAYMENT, run.pk) or settlements.request_payment(
        run, by=first, reason=f"remboursements {period}"
    )
    approved_at = _moment(period, 28, 18)
    approvals.approve(approval, by=_second_coordinator(), at=approved_at)
    run.refresh_from_db()
    if run.status == run.Status.APPROVED:
        settlements.mark_file_issued(run, at=approved_at)
        # The demo's bank sends no camt.053: its date, two days later, entered under four eyes.
        bank_day = min(approved_at.date() + timedelta(days=2), timezone.localdate())
        confirmation = settlements.pending_confirmation(run) or settlements.request_bank_confirmation(
            run, value_date=bank_day, by=first, reason=f"relevé bancaire {period}")
        approvals.approve(confirmation, by=_second_coordinator(), at=approved_at + timedelta(days=2))
    paid = run.settlements.filter(status="paid").count()
    tally.posted += 2 * paid


def _configure_fund_bank() -> None:
    """The demo fund's bank account, set as coordinators do it: asked by one, approved by
    another (a rerun finds it set)."""
    if fund.bank_configured():
        return
    first = get_user_model().objects.get(username=COORDINATOR_USERNAME)
    approval = fund.pending_bank_change() or fund.request_bank_change(
        iban=DEMO_FUND_IBAN, bic=DEMO_FUND_BIC, creditor_id=DEMO_FUND_CREDITOR_ID, by=first,
        reason="compte de la caisse (démo)")
    approvals.approve(approval, by=_second_coordinator())


# --- Entry points ----------------------------------------------------------------------


def seed_demo(
    *,
    households: int = DEFAULT_HOUSEHOLDS,
    vendors: int = DEFAULT_VENDORS,
    committee: int | None = None,
    today: date | None = None,
    force: bool = False,
) -> SeedReport:
    """Create or refresh the demo fund; returns what it holds and fresh credentials."""
    if households < 1 or vendors < 1 or (committee is not None and committee < 0):
        raise ValueError(_("A demo needs at least one household and one vendor."))
    # Demo transfers can never be deleted and the coordinator's password lands in a file:
    # never mix that into a real fund by mistake.
    if not force and Household.objects.exclude(reference__startswith=f"{DEMO_PREFIX}-").exists():
        raise ValueError(_("This database holds real households: the demo is not loaded into a real fund."))
    committee = default_committee_size(households) if committee is None else committee
    today = today or timezone.localdate()
    periods = history_periods(today)
    history_start = _first_day(periods[0])

    household_plan = [household_spec(index, history_start) for index in range(1, households + 1)]
    vendor_plan = vendor_specs(vendors)
    seat_plan = committee_specs(committee, household_plan)
    other_seats = [seat for seat in seat_plan if seat.household_index is None]

    staff_keys = [key for key, *_rest in STAFF]
    passwords = {role: secrets.token_urlsafe(12) for role in (*staff_keys, "members", "committee", "vendors")}
    # One hash per role: PBKDF2 is slow on purpose, and hundreds of them would take minutes.
    hashes = {role: make_password(password) for role, password in passwords.items() if role not in staff_keys}

    member_ids = _upsert_users(
        [(spec.username, spec.first_name, spec.last_name) for spec in household_plan], hashes["members"]
    )
    vendor_user_ids = _upsert_users(
        [(spec.username, spec.first_name, spec.last_name) for spec in vendor_plan], hashes["vendors"]
    )
    committee_ids = _upsert_users(
        [(seat.username, seat.first_name, seat.last_name) for seat in other_seats], hashes["committee"]
    )
    staff_credentials = _seed_staff(passwords)
    _configure_fund_bank()
    household_rows = _seed_households(household_plan)
    member_cards = _seed_cards(household_plan, household_rows, member_ids)
    vendor_rows = _seed_vendors(vendor_plan, vendor_user_ids)
    api_keys = _seed_api_keys(vendor_rows)
    _seed_committee(seat_plan, {**member_ids, **committee_ids}, _months_before(history_start, 6))
    _seed_proposals(vendor_rows)

    accounts = {
        kind: ledger.system_account(kind).pk
        for kind in (AccountKind.TREASURY, AccountKind.GRANTS, AccountKind.CONTRIBUTIONS,
                     AccountKind.REIMBURSEMENTS, AccountKind.ISSUANCE)
    }
    approved = [vendor for vendor in vendor_rows if vendor.status == Vendor.Status.APPROVED]
    tally = Tally()
    quarters_done = set()
    for period in periods:
        if _quarter(period) not in quarters_done:
            quarters_done.add(_quarter(period))
            _post_grants(period, households, accounts, tally)
        _post_month(period, household_plan, household_rows, approved, accounts, tally)
        # The last month stays owed to the vendors, as it would be before its settlement.
        if period != periods[-1]:
            _settle_month(period, tally)

    # This month, issued as every month is: by the issuance service (a no-op on a rerun).
    this_month = periods_of_fund.current()
    if _quarter(this_month) not in quarters_done:
        _post_grants(this_month, households, accounts, tally)
    issuance.issue_period(this_month, source=household_source())

    credentials = {
        **staff_credentials,
        "members": [
            {
                "username": spec.username,
                "password": passwords["members"],
                "card_number": member_cards[spec.reference][0].number,
                "qr_token": member_cards[spec.reference][0].qr_token,
                "pin": member_cards[spec.reference][1],
            }
            for spec in household_plan
        ],
        "committee": [
            {"username": seat.username,
             "password": passwords["members" if seat.household_index is not None else "committee"]}
            for seat in seat_plan
        ],
        "vendors": [
            {"slug": spec.slug, "username": spec.username, "password": passwords["vendors"],
             "api_key": api_keys[spec.slug]}
            for spec in vendor_plan
        ],
    }
    return SeedReport(
        households=len(household_plan),
        vendors=len(vendor_rows),
        approved_vendors=len(approved),
        committee=len(seat_plan),
        periods=periods,
        tally=tally,
        position=fund_position(),
        credentials=credentials,
    )


def write_credentials(path: str | os.PathLike, credentials: dict) -> Path:
    """Write the credentials readable by their owner only, replacing any earlier file whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(credentials, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
