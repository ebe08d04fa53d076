"""The anonymised research export: pseudonyms, brackets, no personal data, small groups suppressed."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.utils import timezone

from allocations import ledger
from allocations.models import AccountKind, TransferKind
from coordination import reports, research
from members.models import Household, Person
from members.services import create_household

from .staff import log_in_staff

pytestmark = pytest.mark.django_db


def household(n, *, district, consent=True, income="low", adults=1, children=0, contribution=500, issued=10_000,
              spent=0, **fields):
    h = create_household(
        reference=f"REF-{n:04d}", status=Household.Status.ACTIVE, adults=adults, children=children, district=district,
        income_bracket=income, age_bracket="30_44", monthly_contribution=contribution, research_consent=consent,
        joined_on=timezone.localdate() - timedelta(days=200), phone=f"06 12 34 {n:02d} 00",
        email=f"foyer{n}@exemple.fr", address=f"{n} rue des Lilas", **fields)
    Person.objects.create(household=h, first_name="Zéphirine", last_name=f"Nom{n}X")
    if issued:
        ledger.transfer(debit=ledger.system_account(AccountKind.ISSUANCE), credit=h.wallet_id, amount=issued,
                        kind=TransferKind.ALLOCATION)
    if spent:
        vendor = ledger.open_account(AccountKind.VENDOR)
        ledger.transfer(debit=h.wallet_id, credit=vendor, amount=spent, kind=TransferKind.PURCHASE)
    return h


def population():
    """12 alike in Mosson (exported as they are); 6 in Celleneuve and 5 in Figuerolles
    alike but for the district (exported as 'other'); 2 with rare brackets (withheld); one
    without consent, one erased (never there)."""
    households = [household(n, district="Mosson", spent=8_000) for n in range(12)]
    households += [household(n, district="Celleneuve", income="modest") for n in range(12, 18)]
    households += [household(n, district="Figuerolles", income="modest") for n in range(18, 23)]
    households += [household(23, district="Mosson", income="high", children=4, contribution=9_000),
                   household(24, district="Mosson", income="high", adults=2, contribution=9_000)]
    household(25, district="Mosson", spent=8_000, consent=False)
    household(26, district="Mosson", spent=8_000, erased_at=timezone.now())
    return households


def export():
    summary = research.Summary()
    return list(research.rows(summary)), summary


def test_small_groups_are_generalised_then_withheld():
    households = population()
    rows, summary = export()
    assert (summary.exported, summary.generalised, summary.withheld) == (23, 11, 2)
    by_id = {row[0]: row for row in rows}
    mosson = by_id[research.pseudonym(households[0].pk)]
    assert mosson == [research.pseudonym(households[0].pk), "Mosson", "low", "30_44", "1", "1-9 EUR", "75-100 %",
                      "6-11"]
    celleneuve = by_id[research.pseudonym(households[12].pk)]
    assert celleneuve[1] == research.OTHER_DISTRICT and celleneuve[2] == "modest" and celleneuve[6] == "0-24 %"
    assert research.pseudonym(households[23].pk) not in by_id
    # Every combination exported is shared by at least MIN_CELL households.
    groups = {}
    for row in rows:
        groups[tuple(row[1:])] = groups.get(tuple(row[1:]), 0) + 1
    assert all(not reports.suppress(n) for n in groups.values())


def test_pseudonyms_are_stable_keyed_and_not_the_id(settings):
    households = population()
    first = {row[0] for row in export()[0]}
    assert first == {row[0] for row in export()[0]}  # stable from one export to the next
    pk = households[0].pk
    # Keyed: not a plain hash anyone could recompute from the ids.
    import hashlib

    for plain in (str(pk), f"household:{pk}"):
        assert hashlib.sha256(plain.encode()).hexdigest()[:20] != research.pseudonym(pk)
    assert research.pseudonym(pk) != str(pk) and len(research.pseudonym(pk)) == 20
    settings.RESEARCH_PSEUDONYM_KEY = "another key"
    assert research.pseudonym(pk) not in first


def test_no_personal_data_in_the_export(client):
    from tests.dashboard_fixtures import with_totp
    from tests.vendor_fixtures import make_coordinator

    population()
    log_in_staff(client, with_totp(make_coordinator()))
    response = client.get("/coordination/research/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert table[0] == research.COLUMNS and len(table) == 24
    for needle in ("Zéphirine", "Nom1X", "@", "exemple.fr", "06 12", "REF-", "rue des Lilas", "10000", "100,00",
                   str(date.today().year)):
        assert needle not in text, needle
    page = client.get("/coordination/research/").content.decode()
    assert "/coordination/research/export.csv" in page
