"""Issue 15, the coordinators' pages: a purchase refunded by a coordinator, cash held above the
desk's ceiling, desk closings with a difference, and what waits counted on the dashboard."""

import pytest
from django.utils import translation

from allocations.models import Approval
from coordination.audit import services as audit
from members import desk
from members.models import ContributionPayment, Desk, DeskSession, HeldCash
from users import roles
from vendors import payments
from vendors.models import Purchase, Refund

from .conftest import set_fund_settings
from .member_fixtures import make_member
from .settlement_fixtures import coordinators, pay, refund, shop
from .staff import log_in_staff
from .vendor_fixtures import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def french():
    with translation.override("fr"):
        yield


@pytest.fixture
def coordinator_client(client):
    first, second = coordinators()
    log_in_staff(client, first)
    client.coordinators = (first, second)
    return client


def a_purchase(amount=1_000, reference="TICKET-42"):
    member = make_member("F-1", balance=5_000)
    return Purchase.objects.get(pk=pay(member, shop(), amount, reference=reference)["id"]), member


def wallet_balance(member) -> int:
    member.household.wallet.refresh_from_db()
    return member.household.wallet.balance


# --- The refund of a purchase -------------------------------------------------------------


def test_the_refund_page_finds_a_purchase_by_its_number_or_its_shops_reference(coordinator_client):
    purchase, _member = a_purchase()
    response = coordinator_client.get("/coordination/refunds/", {"q": "TICKET-42"})
    assert response.status_code == 302 and response["Location"] == f"/coordination/refunds/{purchase.pk}/"
    response = coordinator_client.get("/coordination/refunds/", {"q": f"#{purchase.pk}"})
    assert response["Location"] == f"/coordination/refunds/{purchase.pk}/"
    response = coordinator_client.get("/coordination/refunds/", {"q": "NOTHING-LIKE-IT"})
    assert response.status_code == 200 and "Aucun achat" in response.content.decode()


def test_the_refund_page_shows_what_was_captured_and_refunded_in_a_fixed_number_of_queries(
        coordinator_client, django_assert_num_queries):
    purchase, _member = a_purchase()
    refund(purchase.vendor, purchase.pk, 200)
    payments.coordinator_refund(purchase_id=purchase.pk, amount=100, reason="erreur", by=coordinator_client.coordinators[1])
    with django_assert_num_queries(13):
        response = coordinator_client.get(f"/coordination/refunds/{purchase.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "10,00" in page and "3,00" in page and "7,00" in page  # captured, refunded, what is left
    assert "par le commerce" in page and "coord-b" in page
    # Nothing of the member: the page corrects a purchase, it does not say whose it was.
    assert "F-1" not in page and "Prénom" not in page


def test_a_coordinator_refunds_a_purchase_from_the_page_once(coordinator_client):
    set_fund_settings(refund_four_eyes_above_cents=5_000)
    purchase, member = a_purchase()
    before = wallet_balance(member)
    response = coordinator_client.post(f"/coordination/refunds/{purchase.pk}/",
                                       {"amount_euros": "4,50", "reason": "prix mal saisi"})
    assert response.status_code == 302
    purchase.refresh_from_db()
    assert purchase.refunded == 450 and wallet_balance(member) == before + 450
    correction = Refund.objects.get()
    assert correction.recorded_by == coordinator_client.coordinators[0] and correction.reason == "prix mal saisi"
    # The audit trail has it, with who did it.
    [event] = audit.events(model="refund")
    assert event.pgh_obj_id == str(correction.pk) and event.pgh_data["amount"] == 450
    assert str(event.pgh_context["user"]) == str(coordinator_client.coordinators[0].pk)
    page = coordinator_client.get(f"/coordination/refunds/{purchase.pk}/").content.decode()
    assert "prix mal saisi" in page and "5,50" in page


def test_a_refund_above_the_fund_amount_waits_for_a_second_coordinator(coordinator_client, client):
    set_fund_settings(refund_four_eyes_above_cents=500)
    purchase, member = a_purchase()
    before = wallet_balance(member)
    response = coordinator_client.post(f"/coordination/refunds/{purchase.pk}/",
                                       {"amount_euros": "10", "reason": "achat annulé"}, follow=True)
    assert "deuxième personne de la coordination" in response.content.decode()
    assert not Refund.objects.exists() and wallet_balance(member) == before
    approval = Approval.objects.get(status=Approval.Status.PENDING)
    assert coordinator_client.get("/coordination/").context["waiting"].refunds == 1
    assert "achat annulé" in coordinator_client.get(f"/coordination/refunds/{purchase.pk}/").content.decode()
    # The second coordinator approves it on the approvals page: the refund is made once.
    second = client.__class__()
    log_in_staff(second, coordinator_client.coordinators[1])
    second.post(f"/coordination/approvals/{approval.pk}/", {"decision": "approve"})
    purchase.refresh_from_db()
    assert purchase.refunded == 1_000 and wallet_balance(member) == before + 1_000


@pytest.mark.parametrize(("posted", "field", "message"), [
    ({"amount_euros": "10,01", "reason": "trop"}, "amount_euros", "ne peuvent pas dépasser"),
    ({"amount_euros": "douze", "reason": "erreur"}, "amount_euros", "n'est pas un montant en euros"),
    ({"amount_euros": "-3", "reason": "erreur"}, "amount_euros", "n'est pas un montant en euros"),
    ({"amount_euros": "0", "reason": "erreur"}, "amount_euros", "supérieur à zéro"),
    ({"amount_euros": "3", "reason": "  "}, "reason", "Dites pourquoi"),
    ({"amount_euros": "", "reason": "erreur"}, "amount_euros", "Dites combien"),
])
def test_a_bad_refund_is_told_in_french_on_the_form_and_changes_nothing(coordinator_client, posted, field, message):
    purchase, member = a_purchase()
    before = wallet_balance(member)
    response = coordinator_client.post(f"/coordination/refunds/{purchase.pk}/", posted)
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors, errors
    assert message in response.content.decode().replace("&#x27;", "'")
    purchase.refresh_from_db()
    assert purchase.refunded == 0 and not Refund.objects.exists() and not Approval.objects.exists()
    assert wallet_balance(member) == before


def test_a_purchase_refunded_by_the_shop_cannot_be_refunded_again_from_the_page(coordinator_client):
    purchase, member = a_purchase()
    refund(purchase.vendor, purchase.pk, 1_000)
    before = wallet_balance(member)
    page = coordinator_client.get(f"/coordination/refunds/{purchase.pk}/").content.decode()
    assert 'data-testid="fully-refunded"' in page
    response = coordinator_client.post(f"/coordination/refunds/{purchase.pk}/", {"amount_euros": "1", "reason": "x"})
    assert response.status_code == 400 and "dépasser" in response.content.decode()
    assert wallet_balance(member) == before and Refund.objects.count() == 1


# --- Cash held above the ceiling ------------------------------------------------------------


def held_cash(amount=999_999, token="t-1"):
    volunteer = make_user("benevole", roles.VOLUNTEER)
    member = make_member("F-9")
    session = desk.open_session(Desk.objects.create(code="centre", name="Centre"), by=volunteer)
    with pytest.raises(desk.CashHeld):
        desk.take_cash(session, member.household, amount=amount, by=volunteer, token=token)
    return HeldCash.objects.get(token=token)


def test_the_held_cash_page_lists_what_waits_in_a_fixed_number_of_queries(coordinator_client, django_assert_num_queries):
    held = held_cash()
    held_cash_of_another = HeldCash.objects.create(session=held.session, household=held.household, amount=30_000,
                                                   token="t-2", taken_by=held.taken_by)
    for n in range(2):  # decided ones, listed below
        desk.confirm_held_cash(HeldCash.objects.create(session=held.session, household=held.household, amount=30_000,
                                                       token=f"d-{n}", taken_by=held.taken_by),
                               by=coordinator_client.coordinators[1])
    with django_assert_num_queries(12):
        response = coordinator_client.get("/coordination/desk/held-cash/")
    page = response.content.decode()
    assert f'id="held-{held.pk}"' in page and f'id="held-{held_cash_of_another.pk}"' in page
    assert "9 999,99" in page.replace("\u202f", " ").replace("\xa0", " ")


def test_a_coordinator_confirms_held_cash_on_the_page(coordinator_client):
    held = held_cash()
    assert coordinator_client.get("/coordination/").context["waiting"].held_cash == 1
    response = coordinator_client.post(f"/coordination/desk/held-cash/{held.pk}/", {"decision": "confirm"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.payment.amount == 999_999 and held.decided_by == coordinator_client.coordinators[0]
    assert coordinator_client.get("/coordination/").context["waiting"].held_cash == 0
    [event] = audit.events(model="held_cash")
    assert event.pgh_data["payment_id"] == held.payment_id
    assert str(event.pgh_context["user"]) == str(coordinator_client.coordinators[0].pk)


def test_a_coordinator_refuses_held_cash_with_a_reason(coordinator_client):
    held = held_cash()
    response = coordinator_client.post(f"/coordination/desk/held-cash/{held.pk}/",
                                       {"decision": "refuse", "reason": "montant mal tapé : 99,99 €"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.decided_at and held.payment is None and held.refusal_reason == "montant mal tapé : 99,99 €"
    assert not ContributionPayment.objects.exists()
    page = coordinator_client.get("/coordination/desk/held-cash/").content.decode()
    assert f'id="held-{held.pk}"' not in page and "montant mal tapé" in page
    # Refused, it cannot be confirmed after all.
    response = coordinator_client.post(f"/coordination/desk/held-cash/{held.pk}/", {"decision": "confirm"})
    assert response.status_code == 400 and "refusé" in response.content.decode()
    assert not ContributionPayment.objects.exists()


@pytest.mark.parametrize(("posted", "message"), [
    ({"decision": "refuse", "reason": " "}, "Dites pourquoi"),
    ({"decision": "maybe"}, "Choisissez"),
])
def test_a_bad_decision_on_held_cash_is_told_in_french_and_changes_nothing(coordinator_client, posted, message):
    held = held_cash()
    response = coordinator_client.post(f"/coordination/desk/held-cash/{held.pk}/", posted)
    assert response.status_code == 400 and message in response.content.decode()
    held.refresh_from_db()
    assert held.decided_at is None and held.payment is None and not ContributionPayment.objects.exists()


def test_the_admin_no_longer_confirms_held_cash(admin_client):
    held = held_cash()
    response = admin_client.post("/admin/members/heldcash/", {"action": "confirm", "_selected_action": [held.pk]})
    held.refresh_from_db()
    assert held.payment is None and held.decided_at is None
    assert response.status_code in (200, 302)
    assert "confirm" not in str(admin_client.get("/admin/members/heldcash/").content)


# --- Desk differences --------------------------------------------------------------------------


def closed_with_a_difference(counted=800, code="centre"):
    volunteer = make_user(f"benevole-{code}", roles.VOLUNTEER)
    member = make_member(f"F-{code}")
    session = desk.open_session(Desk.objects.create(code=code, name=code.title()), by=volunteer)
    desk.take_cash(session, member.household, amount=1_000, by=volunteer, token=f"t-{code}")
    return desk.close_session(session, by=volunteer, counted_cash=counted)


def test_the_differences_page_lists_unexplained_closings_in_a_fixed_number_of_queries(
        coordinator_client, django_assert_num_queries):
    first, second = closed_with_a_difference(code="centre"), closed_with_a_difference(code="nord", counted=1_300)
    closed_with_a_difference(code="sud", counted=1_000)  # no difference: nothing to explain
    for code in ("est", "ouest"):  # explained ones, listed below
        desk.explain_difference(closed_with_a_difference(code=code), by=coordinator_client.coordinators[1],
                                explanation="erreur de rendu")
    with django_assert_num_queries(12):
        response = coordinator_client.get("/coordination/desk/differences/")
    page = response.content.decode()
    assert f'id="session-{first.pk}"' in page and f'id="session-{second.pk}"' in page
    assert page.count('class="panel" id="session-') == 2
    assert coordinator_client.get("/coordination/").context["waiting"].differences == 2


def test_an_explained_difference_leaves_the_list_and_shows_in_the_trail(coordinator_client):
    session = closed_with_a_difference()
    response = coordinator_client.post(f"/coordination/desk/differences/{session.pk}/",
                                       {"explanation": "rendu de monnaie erroné"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.difference_explanation == "rendu de monnaie erroné"
    assert session.difference_explained_by == coordinator_client.coordinators[0]
    page = coordinator_client.get("/coordination/desk/differences/").content.decode()
    assert f'id="session-{session.pk}"' not in page and "rendu de monnaie erroné" in page
    [event] = audit.events(model="desk_difference")
    assert event.pgh_data["difference_explanation"] == "rendu de monnaie erroné"
    assert str(event.pgh_context["user"]) == str(coordinator_client.coordinators[0].pk)
    # Once explained, it stays explained as it was: a second post does not rewrite it.
    response = coordinator_client.post(f"/coordination/desk/differences/{session.pk}/", {"explanation": "autre"})
    assert response.status_code == 400 and "déjà expliqué" in response.content.decode()
    session.refresh_from_db()
    assert session.difference_explanation == "rendu de monnaie erroné"


def test_a_difference_without_explanation_is_refused_in_french_and_stays(coordinator_client):
    session = closed_with_a_difference()
    response = coordinator_client.post(f"/coordination/desk/differences/{session.pk}/", {"explanation": "  "})
    assert response.status_code == 400 and "Dites ce qui explique" in response.content.decode()
    assert DeskSession.objects.get(pk=session.pk).difference_explained_at is None


# --- Only coordinators ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/coordination/refunds/", "/coordination/desk/held-cash/",
                                  "/coordination/desk/differences/"])
def test_only_coordinators_reach_the_correction_pages(client, path):
    assert client.get(path).status_code == 302  # to the sign-in
    log_in_staff(client, make_user("benevole-x", roles.VOLUNTEER, is_staff=True))
    assert client.get(path).status_code == 403


def test_a_volunteer_cannot_post_a_correction(client):
    purchase, member = a_purchase()
    held, session = held_cash(), closed_with_a_difference(code="nord")
    log_in_staff(client, make_user("benevole-x", roles.VOLUNTEER, is_staff=True))
    assert client.post(f"/coordination/refunds/{purchase.pk}/", {"amount_euros": "1", "reason": "x"}).status_code == 403
    assert client.post(f"/coordination/desk/held-cash/{held.pk}/", {"decision": "confirm"}).status_code == 403
    assert client.post(f"/coordination/desk/differences/{session.pk}/", {"explanation": "x"}).status_code == 403
    held.refresh_from_db()
    session.refresh_from_db()
    assert not Refund.objects.exists() and held.decided_at is None and session.difference_explained_at is None
