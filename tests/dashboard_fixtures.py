"""A small fund whose dashboard figures are computed by hand in the tests."""

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from members import contributions
from members.models import ContributionPayment, Household
from tests.settlement_fixtures import coordinators, fund_treasury, make_member, pay, refund, run_and_pay, shop


def with_totp(user):
    TOTP.activate(user, generate_totp_secret())
    return user


def small_fund():
    """Grant 1 000 €; two households of 50 MonA; 12,50 + 7,50 spent at a bakery, 2,50
    refunded; the bakery settled (17,50 €); a grocer owed 3,00; contributions 5 € + 2 €."""
    fund_treasury(100_000)
    first, second = coordinators()
    one = make_member("F-1", balance=5_000)
    two = make_member("F-2", balance=5_000)
    Household.objects.filter(pk=one.household.pk).update(district="Mosson", income_bracket="low")
    Household.objects.filter(pk=two.household.pk).update(district="Celleneuve", income_bracket="middle")
    bakery = shop("boulangerie")
    type(bakery).objects.filter(pk=bakery.pk).update(kind="bakery")
    purchase = pay(one, bakery, 1_250)
    pay(two, bakery, 750)
    refund(bakery, purchase["id"], 250)
    run_and_pay(first, second)
    grocer = shop("epicerie")
    pay(two, grocer, 300)
    contributions.record_payment(one.household, amount=500, method=ContributionPayment.Method.BANK_TRANSFER,
                                 reference="VIR-1")
    contributions.record_payment(two.household, amount=200, method=ContributionPayment.Method.BANK_TRANSFER,
                                 reference="VIR-2")
    return {"coordinators": (with_totp(first), with_totp(second)), "members": (one, two),
            "bakery": bakery, "grocer": grocer}
