"""`manage.py seed_demo`: a realistic demo fund, safe to run again, against PostgreSQL."""

import io
import json
import stat
from datetime import date

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from allocations.models import Transfer, TransferKind
from allocations.selectors import fund_position
from demo import seed as demo
from governance.models import CommitteeMembership
from members.models import Household
from users import roles, second_factor
from vendors.models import Vendor, VendorStaff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _migrations_rows(db):
    from .conftest import restore_rows_the_migrations_wrote

    restore_rows_the_migrations_wrote()

SIZES = {"households": 30, "vendors": 8, "committee": 10}


def seed(tmp_path, name="creds.json", **sizes):
    path = tmp_path / name
    out = io.StringIO()
    call_command("seed_demo", credentials=str(path), stdout=out, **{**SIZES, **sizes})
    return json.loads(path.read_text(encoding="utf-8")), out.getvalue()


def counts():
    return {
        "households": Household.objects.count(),
        "users": get_user_model().objects.count(),
        "vendors": Vendor.objects.count(),
        "staff": VendorStaff.objects.count(),
        "seats": CommitteeMembership.objects.count(),
        "transfers": Transfer.objects.count(),
    }


def logs_in(username, password, **_other_fields):
    return authenticate(username=username, password=password) is not None


def test_it_creates_a_demo_fund_of_the_asked_size(tmp_path, ledger_is_clean):
    _, out = seed(tmp_path)

    assert Household.objects.count() == 30
    assert Vendor.objects.count() == 8
    assert VendorStaff.objects.count() == 8
    assert CommitteeMembership.objects.filter(ends_on__isnull=True).count() == 10
    assert CommitteeMembership.objects.filter(role=CommitteeMembership.Role.FACILITATOR).exists()
    # About half the seats held by member households, as in Montpellier.
    assert CommitteeMembership.objects.filter(user__person__isnull=False).exists()
    assert Vendor.objects.filter(kind=Vendor.Kind.COOPERATIVE).count() == 1
    assert Vendor.objects.filter(status=Vendor.Status.APPROVED).count() == 7

    # Two coordinators and two desk volunteers; none a superuser: the roles are all they need.
    for username, role in ((demo.COORDINATOR_USERNAME, roles.COORDINATOR),
                           (demo.SECOND_COORDINATOR_USERNAME, roles.COORDINATOR),
                           (demo.VOLUNTEER_USERNAME, roles.VOLUNTEER),
                           (demo.SECOND_VOLUNTEER_USERNAME, roles.VOLUNTEER)):
        staff = get_user_model().objects.get(username=username)
        assert not staff.is_superuser and staff.is_demo and staff.has_usable_password()
        assert staff.groups.filter(name=role).exists()
    assert roles.is_coordinator(get_user_model().objects.get(username=demo.COORDINATOR_USERNAME))
    assert all(staff.user.groups.filter(name=roles.VENDOR_STAFF).exists() for staff in VendorStaff.objects.all())
    assert not Household.objects.exclude(persons__user__isnull=False).exists()

    ledger_is_clean()
    assert fund_position().available_reserve >= 0
    assert "30 foyers" in out
    # The grant register and the books tell the same story; the bank account is set, the
    # settlements paid on the bank's date.
    from django.db.models import Sum

    from allocations import fund
    from allocations.models import GrantReceipt
    from vendors.models import Settlement

    assert GrantReceipt.objects.aggregate(total=Sum("amount"))["total"] == fund_position().grants_received > 0
    assert fund.bank_configured()
    assert not Settlement.objects.filter(status__in=["pending", "committed"], run__status="paid").exists()
    assert all(s.value_date for s in Settlement.objects.filter(status="paid"))


def test_households_vary_like_montpellier_s(tmp_path):
    seed(tmp_path)

    households = list(Household.objects.all())
    assert {household.status for household in households} == {Household.Status.ACTIVE}
    assert all(1 <= household.adults <= 3 and 0 <= household.children <= 4 for household in households)
    assert all(100 <= household.monthly_contribution <= 15_000 for household in households)
    assert len({household.monthly_contribution for household in households}) > 5
    assert len({household.district for household in households}) > 3
    assert set(household.district for household in households) <= set(demo.DISTRICTS)


def test_three_months_of_history_go_through_the_ledger(tmp_path):
    seed(tmp_path)
    periods = demo.history_periods(timezone.localdate())

    for household in Household.objects.all():
        keys = set(
            Transfer.objects.filter(kind=TransferKind.ALLOCATION, credit=household.wallet_id).values_list(
                "idempotency_key", flat=True
            )
        )
        # Three months of history, and this month issued by the monthly issuance itself.
        this_month = timezone.localdate().strftime("%Y-%m")
        assert keys == {f"allocation:{household.wallet_id}:{period}" for period in [*periods, this_month]}
    assert Transfer.objects.filter(kind=TransferKind.ALLOCATION, amount=10_000).count() == 30 * 4
    from allocations.models import IssuanceRun

    assert IssuanceRun.objects.get(period=this_month).status == IssuanceRun.Status.DONE
    assert Transfer.objects.filter(kind=TransferKind.GRANT).exists()
    assert Transfer.objects.filter(kind=TransferKind.CONTRIBUTION).count() > 30 * 2
    # Purchases only at approved vendors, and every movement carries a key.
    approved = set(Vendor.objects.filter(status=Vendor.Status.APPROVED).values_list("account_id", flat=True))
    assert set(Transfer.objects.filter(kind=TransferKind.PURCHASE).values_list("credit_id", flat=True)) <= approved
    assert not Transfer.objects.filter(idempotency_key__isnull=True).exists()
    # Every month but the last is settled: units retired and euros paid, the same amount.
    settled = sum(Transfer.objects.filter(kind=TransferKind.SETTLEMENT).values_list("amount", flat=True))
    reimbursed = sum(Transfer.objects.filter(kind=TransferKind.REIMBURSEMENT).values_list("amount", flat=True))
    assert settled == reimbursed > 0
    # Through the settlement service: numbered settlements, each paid after a second
    # coordinator's approval, one run per month before the last.
    from allocations.models import Approval
    from vendors.models import Settlement, SettlementRun

    assert sum(Settlement.objects.filter(status="paid").values_list("amount", flat=True)) == settled
    assert SettlementRun.objects.count() == len(periods) - 1
    assert Approval.objects.filter(action="settlement_payment", status="executed").count() == len(periods) - 1
    last = periods[-1]
    assert not Transfer.objects.filter(kind=TransferKind.SETTLEMENT, idempotency_key__contains=f":{last}:").exists()


def test_the_credentials_file_has_the_agreed_shape_and_every_password_works(tmp_path):
    credentials, _ = seed(tmp_path)

    assert set(credentials) == {"coordinator", "second_coordinator", "volunteer", "second_volunteer", "members",
                                "committee", "vendors"}
    for key in ("coordinator", "second_coordinator", "volunteer", "second_volunteer"):
        assert set(credentials[key]) == {"username", "password", "totp_secret"}
        assert logs_in(credentials[key]["username"], credentials[key]["password"])
        # The secret is the one of the account's authenticator: demo_totp prints its code.
        out = io.StringIO()
        call_command("demo_totp", credentials[key]["username"], stdout=out)
        assert out.getvalue().strip() == second_factor.current_code(credentials[key]["totp_secret"])
    assert len(credentials["members"]) == 30
    assert all(set(row) == {"username", "password", "card_number", "qr_token", "pin"} for row in credentials["members"])
    # Each member's card pays with its PIN: the till and the API can be tried with them.
    from members import cards

    for row in credentials["members"][:5]:
        authorization = cards.authorize(row["card_number"], row["pin"])
        assert cards.authorize(row["qr_token"], row["pin"]) == authorization
    assert len(credentials["committee"]) == 10
    assert all(set(row) == {"username", "password"} for row in credentials["committee"])
    assert len(credentials["vendors"]) == 8
    assert all(set(row) == {"slug", "username", "password", "api_key"} for row in credentials["vendors"])
    assert all(row["api_key"].startswith("csk_") for row in credentials["vendors"])
    assert {row["slug"] for row in credentials["vendors"]} == set(Vendor.objects.values_list("slug", flat=True))

    assert logs_in(**credentials["coordinator"])
    for role in ("members", "committee", "vendors"):
        for row in credentials[role]:
            assert logs_in(row["username"], row["password"]), row["username"]
    # Each role its own password, and none of them guessable from the file's shape.
    assert len({credentials["coordinator"]["password"], credentials["members"][0]["password"],
                credentials["vendors"][0]["password"]}) == 3
    assert stat.S_IMODE((tmp_path / "creds.json").stat().st_mode) == 0o600


def test_running_it_twice_creates_nothing_and_renews_the_passwords(tmp_path, ledger_is_clean):
    first, _ = seed(tmp_path, "first.json")
    before, position = counts(), fund_position()

    second, out = seed(tmp_path, "second.json")

    assert counts() == before
    assert fund_position() == position
    assert "0 virements passés" in out
    assert second["coordinator"]["password"] != first["coordinator"]["password"]
    # The second factor stays: an authenticator app set up from the first file still works.
    assert second["coordinator"]["totp_secret"] == first["coordinator"]["totp_secret"]
    assert logs_in(**second["coordinator"])
    assert not logs_in(**first["coordinator"])
    for role in ("members", "committee", "vendors"):
        assert [row["username"] for row in second[role]] == [row["username"] for row in first[role]]
        for row in second[role]:
            assert logs_in(row["username"], row["password"]), row["username"]
        assert not logs_in(first[role][0]["username"], first[role][0]["password"])
    ledger_is_clean()


def test_a_larger_rerun_adds_to_the_demo_without_contradicting_it(tmp_path, ledger_is_clean):
    seed(tmp_path)
    transfers = set(Transfer.objects.values_list("pk", "idempotency_key", "amount"))

    seed(tmp_path, households=45, vendors=10, committee=12)

    assert Household.objects.count() == 45
    assert Vendor.objects.count() == 10
    assert transfers <= set(Transfer.objects.values_list("pk", "idempotency_key", "amount"))
    # This month was issued before the 15 new households existed: they get the history only.
    assert Transfer.objects.filter(kind=TransferKind.ALLOCATION).count() == 30 * 4 + 15 * 3
    ledger_is_clean()
    # Issue 16: the demo's grants are in the register too, each receipt on its transfer,
    # and a rerun adds the new blocks' grants without doubling the old ones.
    from allocations import grants
    from allocations.models import GrantReceipt

    agreement = grants.books_and_register()
    assert agreement.books > 0 and agreement.difference == 0 and agreement.unregistered == 0
    assert GrantReceipt.objects.count() == Transfer.objects.filter(kind=TransferKind.GRANT).count()
    assert fund_position().available_reserve >= 0


def test_the_same_seed_gives_the_same_demo():
    start = date(2026, 8, 1)
    assert [demo.household_spec(index, start) for index in range(1, 20)] == [
        demo.household_spec(index, start) for index in range(1, 20)
    ]
    # Vendor i does not depend on how many vendors were asked for.
    assert demo.vendor_specs(5) == demo.vendor_specs(50)[:5]
    assert len({spec.slug for spec in demo.vendor_specs(200)}) == 200


def test_history_is_the_three_months_before_this_one():
    assert demo.history_periods(date(2026, 1, 15)) == ["2025-10", "2025-11", "2025-12"]
    assert demo.history_periods(date(2026, 11, 28)) == ["2026-08", "2026-09", "2026-10"]


def test_it_refuses_an_empty_demo(tmp_path):
    with pytest.raises(CommandError):
        seed(tmp_path, households=0)


def test_history_is_dated_in_its_months(tmp_path):
    seed(tmp_path)
    periods = demo.history_periods(timezone.localdate())
    for transfer in Transfer.objects.filter(kind=TransferKind.ALLOCATION):
        assert timezone.localtime(transfer.created_at).strftime("%Y-%m") == transfer.idempotency_key.rsplit(":", 1)[1]
    purchase_months = {
        timezone.localtime(t.created_at).strftime("%Y-%m") for t in Transfer.objects.filter(kind=TransferKind.PURCHASE)
    }
    assert purchase_months == set(periods)


def test_refuses_to_load_into_a_fund_with_real_households(tmp_path):
    from members.services import create_household

    create_household(reference="MTP-0001")
    with pytest.raises(CommandError, match="vrais foyers"):
        seed(tmp_path)
    assert Household.objects.count() == 1
    seed(tmp_path, force=True)
    assert Household.objects.count() == 1 + SIZES["households"]


def test_a_rerun_gives_new_pins_that_work_and_keeps_the_cards(tmp_path):
    from members import cards
    from members.models import Card

    first, _ = seed(tmp_path)
    cards_before = Card.objects.count()
    second, _ = seed(tmp_path, name="again.json")
    assert Card.objects.count() == cards_before == SIZES["households"]
    row = second["members"][0]
    assert row["card_number"] == first["members"][0]["card_number"]
    assert cards.authorize(row["card_number"], row["pin"])


def test_demo_contributions_are_recorded_as_payments_so_few_households_owe(tmp_path):
    from members import contributions

    seed(tmp_path)
    in_arrears = [h for h in Household.objects.all() if contributions.arrears(h).months]
    # About one month in 25 is skipped on purpose; most households are up to date.
    assert 0 < len(in_arrears) < SIZES["households"] / 2


def test_each_demo_vendor_has_an_api_key_and_a_rerun_replaces_it(tmp_path, client):
    from vendors.models import ApiKey

    first, _ = seed(tmp_path, "first.json")
    second, _ = seed(tmp_path, "second.json")

    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 8
    for old, new in zip(first["vendors"], second["vendors"]):
        response = client.get("/api/v1/vendor", HTTP_AUTHORIZATION=f"Bearer {new['api_key']}")
        assert response.status_code == 200 and response.json()["slug"] == new["slug"]
        assert client.get("/api/v1/vendor", HTTP_AUTHORIZATION=f"Bearer {old['api_key']}").status_code == 401


def test_the_committee_finds_votes_open_to_try(tmp_path):
    from governance.models import Proposal

    # Enough vendors for some to be under review: the approval vote needs its charter checks.
    seed(tmp_path, vendors=20)
    seed(tmp_path, name="again.json", vendors=20)
    open_votes = Proposal.objects.filter(state="open")
    assert set(open_votes.values_list("kind", flat=True)) == {"motion", "approve_vendor"}
    assert open_votes.count() == 2 and all(p.electors.count() == 10 for p in open_votes)


def test_each_demo_role_signs_in_with_the_credentials_file(tmp_path, client):
    credentials, _ = seed(tmp_path)
    lands = {"coordinator": "/coordination/", "second_coordinator": "/coordination/", "volunteer": "/desk/",
             "second_volunteer": "/desk/"}
    for key, landing in lands.items():
        row = credentials[key]
        response = client.post("/accounts/login/", {"login": row["username"], "password": row["password"]})
        assert response["Location"] == "/accounts/2fa/authenticate/", key
        response = client.post(response["Location"], {"code": second_factor.current_code(row["totp_secret"])})
        assert response["Location"] == landing, key
        assert client.get(landing).status_code == 200, key
        client.logout()
    for key, landing in (("members", "/portal/"), ("vendors", "/vendor/terminal/")):
        row = credentials[key][0]
        response = client.post("/accounts/login/", {"login": row["username"], "password": row["password"]})
        assert response["Location"] == landing, key
        client.logout()
