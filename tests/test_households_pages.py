"""The pages of issue 3: the application form, the desk (and what a volunteer never sees),
the household's contribution and data pages, the import, a draw's published result."""

import json
import re
import uuid

import pytest
from django.contrib.auth.models import Group

from allocations import periods
from members import contributions, desk, enrolment, lottery
from members.brackets import AgeBracket, IncomeBracket
from members.models import ContributionChoice, ContributionPayment, Desk, DeskAction, Draw, ErasureRequest, Household
from users import roles
from users.models import User

from .staff import log_in_staff

pytestmark = pytest.mark.django_db


def user_with(role):
    user = User.objects.create_user(username=f"{role}-{uuid.uuid4().hex[:6]}", password="x")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    # Staff roles must have a second factor set up (users.middleware); past it here.
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "unused-in-these-tests"})
    return user


@pytest.fixture
def household():
    """An active household whose income and contribution amounts are easy to spot."""
    household = enrolment.apply(
        persons=[{"first_name": "Samira", "last_name": "Benali", "birth_year": 1979}],
        income_bracket=IncomeBracket.LOW,
        age_bracket=AgeBracket.FROM_45,
        phone="0655443322",
    )
    enrolment.set_status(household, Household.Status.DRAWN)
    enrolment.set_status(household, Household.Status.ACTIVE)
    Household.objects.filter(pk=household.pk).update(monthly_contribution=91234)
    household.refresh_from_db()
    ContributionChoice.objects.create(household=household, effective_from=periods.shift(periods.current(), 1), amount=94321)
    contributions.record_payment(household, amount=95678, method="transfer", reference="VIR-SECRET")
    return household


# Amounts no id, reference or token of a test run will contain by chance; raw cents too.
SECRETS = ["912,34", "943,21", "956,78", "91234", "94321", "95678", "VIR-SECRET"]


def income_words():
    from django.utils.translation import gettext, override

    words = []
    for language in ("fr", "en"):
        with override(language):
            words += [gettext(label) for _value, label in IncomeBracket.choices]
    return words + ["pauvreté", "poverty"]


def assert_private(body: str):
    for secret in SECRETS + income_words():
        assert secret not in body, secret


# --- Applying -------------------------------------------------------------------------


def test_the_application_form_says_why_who_sees_and_how_long_in_french(client):
    body = client.get("/apply/").content.decode()
    assert "Pourquoi" in body or "pourquoi" in body
    assert "Qui le voit" in body
    assert "Combien de temps" in body
    assert 'name="research_consent"' in body and "checked" not in body.split('name="research_consent"')[1][:40]


def test_a_bad_application_names_what_is_wrong_and_creates_nothing(client):
    response = client.post("/apply/", {"first_name": "", "phone": "12", "address": "x", "postal_code": "34000",
                                       "other_adults": "0", "children": "-1", "income_bracket": "rich"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ce champ est obligatoire" in body
    assert "au moins 8 chiffres" in body
    assert not Household.objects.exists()


def test_an_application_gives_its_number(client):
    response = client.post("/apply/", {"first_name": "Jo", "phone": "06 11 22 33 44", "address": "1 rue A",
                                       "postal_code": "34000", "other_adults": "1", "children": "2",
                                       "income_bracket": "modest", "age_bracket": "30_44"})
    household = Household.objects.get()
    assert household.reference in response.content.decode()
    assert (household.adults, household.children, household.status) == (2, 2, "applicant")
    assert not household.research_consent


def test_the_application_form_speaks_english_when_asked(client):
    body = client.get("/apply/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Apply to join the fund" in body and "Who sees it" in body


# --- The desk: a volunteer never sees an income or a contribution ----------------------


def test_every_desk_page_a_volunteer_opens_hides_incomes_and_contributions(client, household):
    volunteer = user_with(roles.VOLUNTEER)
    log_in_staff(client, volunteer)
    pages = {}
    pages["desk"] = client.get("/desk/")
    client.post("/desk/open/")
    pages["search"] = client.get("/desk/", {"q": "Benali"})
    assert household.reference in pages["search"].content.decode()
    pages["household"] = client.get(f"/desk/households/{household.reference}/")
    cash = client.post(f"/desk/households/{household.reference}/cash/", {"amount": "3", "token": uuid.uuid4().hex})
    assert cash.status_code == 302
    pages["receipt"] = client.get(cash["Location"])
    pages["bad cash"] = client.post(f"/desk/households/{household.reference}/cash/", {"amount": "trois", "token": "t"})
    pages["contact"] = client.post(f"/desk/households/{household.reference}/contact/", {"phone": "0699999999", "email": "bad"})
    pages["apply"] = client.get("/desk/apply/")
    pages["close"] = client.post("/desk/close/", {"counted_cash": "3"}, follow=True)
    for name, response in pages.items():
        assert response.status_code in (200, 400), name
        body = response.content.decode()
        if name == "apply":  # the blank form lists the brackets for the applicant to choose
            for secret in SECRETS:
                assert secret not in body
            continue
        assert_private(body)
    assert "3,00" in pages["receipt"].content.decode()  # the cash just taken, on its receipt
    assert "adresse e-mail valide" in pages["contact"].content.decode()


def test_a_volunteer_cannot_open_coordinator_pages(client, household):
    volunteer, other = user_with(roles.VOLUNTEER), user_with(roles.VOLUNTEER)
    counter = Desk.objects.create(code="d9", name="Desk 9")
    session = desk.open_session(counter, by=other)
    payment = desk.take_cash(session, household, amount=700, by=other, token="x")
    log_in_staff(client, volunteer)
    assert client.get("/desk/import/").status_code == 403
    assert client.post(f"/desk/households/{household.reference}/payment/", {"method": "other"}).status_code == 403
    assert client.get(f"/desk/receipts/{payment.pk}/").status_code == 403  # someone else's
    assert client.get("/portal/my-contribution/").status_code == 403
    assert client.get("/admin/").status_code == 302
    assert ContributionPayment.objects.count() == 2


def test_strangers_and_members_cannot_open_the_desk(client, household):
    assert client.get("/desk/").status_code == 302
    client.force_login(user_with(roles.VENDOR_STAFF))
    assert client.get("/desk/").status_code == 403
    assert client.get(f"/desk/households/{household.reference}/").status_code == 403


def test_a_coordinator_sees_income_and_contribution_and_records_a_bank_transfer(client, household, ledger_is_clean):
    log_in_staff(client, user_with(roles.COORDINATOR))
    body = client.get(f"/desk/households/{household.reference}/").content.decode()
    assert "912,34\u00a0€" in body and "956,78\u00a0€" in body
    # The brackets in words, not their codes ("low", "45_59").
    assert "moins de 1 000 € par mois et par personne" in body and "45 à 59 ans" in body and "45_59" not in body
    response = client.post(
        f"/desk/households/{household.reference}/payment/",
        {"method": "transfer", "amount": "10,50", "period": periods.current(), "paid_on": "2026-01-05",
         "reference": "VIR-2", "token": "p1"},
    )
    assert response.status_code == 302
    assert ContributionPayment.objects.filter(reference="VIR-2", amount=1050).exists()
    again = client.post(
        f"/desk/households/{household.reference}/payment/",
        {"method": "sepa", "amount": "10", "period": periods.current(), "paid_on": "2026-01-05", "token": "p2"},
    )
    assert again.status_code == 400 and "mandat" in again.content.decode()
    ledger_is_clean()


def test_desk_actions_are_recorded_with_who_did_them(client, household):
    volunteer = user_with(roles.VOLUNTEER)
    log_in_staff(client, volunteer)
    client.post("/desk/open/")
    client.get(f"/desk/households/{household.reference}/")
    client.post(f"/desk/households/{household.reference}/cash/", {"amount": "2", "token": "tok"})
    client.post(f"/desk/households/{household.reference}/contact/", {"phone": "0700000000"})
    kinds = set(DeskAction.objects.filter(actor=volunteer).values_list("kind", flat=True))
    assert {"desk_opened", "view", "cash", "contact"} <= kinds


def test_desk_card_actions_call_the_card_services(client, household):
    from members import cards

    card, _pin = cards.issue_card(household=household)
    log_in_staff(client, user_with(roles.VOLUNTEER))
    response = client.post(f"/desk/households/{household.reference}/cards/{card.pk}/reset-pin/")
    pin = re.search(r'id="pin">(\d{4})<', response.content.decode()).group(1)
    assert cards.authorize(card.number, pin)
    response = client.post(f"/desk/households/{household.reference}/cards/{card.pk}/replace/")
    card.refresh_from_db()
    assert card.status == "replaced"
    assert DeskAction.objects.filter(kind__in=["pin_reset", "card_replaced"]).count() == 2


def test_the_desk_issues_a_first_card_to_an_adult_and_shows_its_pin_once(client, household):
    from members import cards

    samira = household.persons.get()
    log_in_staff(client, user_with(roles.VOLUNTEER))
    page = client.get(f"/desk/households/{household.reference}/").content.decode()
    assert "Émettre une carte pour Samira" in page
    response = client.post(f"/desk/households/{household.reference}/persons/{samira.pk}/card/")
    pin = re.search(r'id="pin">(\d{4})<', response.content.decode()).group(1)
    card = samira.cards.get()
    assert cards.authorize(card.number, pin).wallet_id == household.wallet_id
    assert DeskAction.objects.filter(kind="card_issued", household=household).count() == 1
    # A second card for the same person is refused: a lost one is replaced instead.
    client.post(f"/desk/households/{household.reference}/persons/{samira.pk}/card/")
    assert samira.cards.count() == 1


def test_the_desk_unlocks_a_card_locked_by_wrong_pins(client, household):
    from members import cards

    card, pin = cards.issue_card(household=household)
    for _attempt in range(3):
        with pytest.raises(cards.InvalidPin):
            cards.authorize(card.number, "0000" if pin != "0000" else "1111")
    log_in_staff(client, user_with(roles.VOLUNTEER))
    assert "Déverrouiller" in client.get(f"/desk/households/{household.reference}/").content.decode()
    client.post(f"/desk/households/{household.reference}/cards/{card.pk}/unlock/")
    assert cards.authorize(card.number, pin).card_id == card.pk
    assert DeskAction.objects.filter(kind="card_unlocked", household=household).exists()


# --- The household's pages --------------------------------------------------------------


def member_of(household):
    member = User.objects.create_user(username=f"m-{uuid.uuid4().hex[:6]}", password="x")
    household.persons.create(first_name="Membre", user=member)
    return member


def test_a_household_changes_its_contribution_not_below_the_minimum(client, household):
    client.force_login(member_of(household))
    page = client.get("/portal/my-contribution/").content.decode()
    assert "912,34\u00a0€" in page and "943,21\u00a0€" in page
    refused = client.post("/portal/my-contribution/", {"amount": "0,50"})
    assert refused.status_code == 400 and "au moins 1,00\u00a0€" in refused.content.decode()
    assert client.post("/portal/my-contribution/", {"amount": "abc"}).status_code == 400
    assert client.post("/portal/my-contribution/", {"amount": "8"}).status_code == 302
    assert contributions.contribution_for(household, periods.shift(periods.current(), 1)) == 800


def test_a_household_downloads_its_data_and_asks_for_erasure(client, household):
    client.force_login(member_of(household))
    data = json.loads(client.get("/portal/my-data/export.json").content)
    assert data["persons"][0]["last_name"] == "Benali"
    assert data["contributions_paid"][0]["amount_cents"] == 95678
    csv_text = client.get("/portal/my-data/export.csv").content.decode()
    assert "Benali" in csv_text
    client.post("/portal/my-data/")
    assert ErasureRequest.objects.get().status == "pending"
    assert "attend" in client.get("/portal/my-data/").content.decode()


# --- Import and the draw's result -------------------------------------------------------

CSV = """reference;first_name;last_name;adults;children;income_bracket;monthly_contribution;joined_on;email
OLD-1;Ana;Roux;1;0;low;5;2024-03-01;
OLD-2;;Vidal;1;0;low;5;2024-03-01;
OLD-3;Marc;Petit;0;0;middle;5;2024-03-01;
OLD-1;Eva;Blanc;2;1;rich;0,50;01/13/2024;pas-un-mail
OLD-5;Lou;Gras;2;1;high;douze;2024-03-01;
"""


def test_the_import_dry_run_reports_every_rejected_row_and_writes_nothing(client):
    log_in_staff(client, user_with(roles.COORDINATOR))
    upload = __import__("django.core.files.uploadedfile", fromlist=["x"]).SimpleUploadedFile("f.csv", CSV.encode())
    body = client.post("/desk/import/", {"file": upload}).content.decode()
    assert not Household.objects.exists()
    assert "1 foyer serait importé" in body
    for line in ("Ligne 3", "Ligne 4", "Ligne 5", "Ligne 6"):
        assert line in body
    assert "first_name" in body and "adults" in body and re.search(r"OLD-1[^<]*ligne 2", body)
    assert "douze" in body and "income_bracket" in body and "email" in body
    upload = __import__("django.core.files.uploadedfile", fromlist=["x"]).SimpleUploadedFile("f.csv", CSV.encode())
    client.post("/desk/import/", {"file": upload, "commit": "on"})
    assert list(Household.objects.values_list("reference", flat=True)) == ["OLD-1"]
    imported = Household.objects.get()
    assert imported.status == "active" and imported.monthly_contribution == 500 and imported.wallet_id


def test_the_import_refuses_an_unknown_column_clearly(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    log_in_staff(client, user_with(roles.COORDINATOR))
    response = client.post("/desk/import/", {"file": SimpleUploadedFile("f.csv", b"prenom,adults\nA,1\n")})
    assert response.status_code == 400 and "prenom" in response.content.decode()


def test_the_published_draw_page_shows_numbers_only(client):
    draw = Draw.objects.create(cohort="2026-A", places=2, strata=[{"key": "low", "income_brackets": ["low"], "share": 50}])
    for n, income in enumerate(["low", "low", "high", "middle"]):
        enrolment.apply(persons=[{"first_name": f"P{n}", "last_name": "Durand"}], income_bracket=income, age_bracket="30_44")
    lottery.run_draw(lottery.close_applications(draw))
    body = client.get("/draws/2026-A/").content.decode()
    draw.refresh_from_db()
    assert draw.seed in body
    for household in Household.objects.all():
        assert household.reference in body
    assert "Durand" not in body
    assert_private(body)
