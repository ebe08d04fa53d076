"""Issue 16, points 5 and 6: a financial year closed under four eyes and in the audit trail;
contributions net of returns on the dashboard."""

from datetime import date, datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from allocations import approvals, grants
from allocations.models import Approval
from allocations.selectors import fund_position
from coordination import books
from members import contributions, desk
from members.models import Desk
from users import roles

from .member_fixtures import make_member
from .settlement_fixtures import coordinators
from .staff import log_in_staff
from .vendor_fixtures import make_user

pytestmark = pytest.mark.django_db


def at(day: date, hour: int = 12):
    return time_machine.travel(timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour)),
                               tick=False)


def fec_rows(year):
    return [line.rstrip("\r\n").split("\t") for line in books.fec_lines(year)][1:]


def test_a_year_is_closed_under_four_eyes_and_in_the_audit_trail(client):
    from django.apps import apps

    from coordination.audit.models import AuditedClosedYear  # noqa: F401

    volunteer = make_user("benevole", roles.VOLUNTEER)
    first, second = coordinators()
    member = make_member("F-1")
    with at(date(2025, 12, 20)):
        session = desk.open_session(Desk.objects.create(code="centre", name="Centre"), by=volunteer)
        desk.take_cash(session, member.household, amount=2_000, by=volunteer, token="t-1")
    with at(date(2026, 1, 5)):
        log_in_staff(client, first)
        client.post("/coordination/books/2025/close/", {"reason": "comptes arrêtés"})
        # Asked, not closed: a second coordinator approves; the one who asked cannot.
        assert 'data-testid="closing-asked"' in client.get("/coordination/books/?year=2025").content.decode()
        assert not books.closed_years()
        with pytest.raises(books.BooksError):
            books.request_year_closing(2025, by=first, reason="encore")
        with pytest.raises(PermissionDenied):
            books.close_year(2025, by=first)  # no approval: no closing
        with pytest.raises(PermissionDenied):
            approvals.approve(books.pending_year_closing(2025), by=first)
        approvals.approve(books.pending_year_closing(2025), by=second)
        assert 'data-testid="closed"' in client.get("/coordination/books/?year=2025").content.decode()
        closed_fec = client.get("/coordination/books/2025/fec.txt").getvalue()
        assert closed_fec.decode("iso-8859-15").count("\t530000\t") == 1  # the cash taken, in the cash account
        # Both separators were frozen from the same pass: the same lines.
        pipe = "".join(books.fec_lines(2025, "|"))
        assert pipe.replace("|", "\t") == closed_fec.decode("iso-8859-15")
    # A grant received on 31 December, recorded after the closing: the year's FEC stays byte
    # for byte; the receipt is booked on the first day of the open year.
    with at(date(2026, 1, 6)):
        grant = grants.create_grant(funder_type="city", funder_name="Ville", reference="SUB-9",
                                    promised_on=date(2025, 1, 1), amount=10_000)
        late = grants.record_receipt(grant, amount=10_000, received_on=date(2025, 12, 31), bank_reference="V-9")
        assert "".join(books.fec_lines(2025)).encode("iso-8859-15") == closed_fec
        [moved] = [entry for entry in books.entries(2026) if entry.piece == f"T{late.transfer_id}"]
        assert moved.day == date(2026, 1, 1)
    closing = apps.get_model("audit", "ClosedYearEvent").objects.get()
    assert (closing.year, closing.closed_by_id, closing.pgh_label) == (2025, first.pk, "books.year_closed")
    assert closing.sha256 == books.closed_years()[2025].sha256
    assert Approval.objects.get(action=books.YEAR_CLOSING).decided_by == second


def test_contributions_by_bracket_are_net_with_returns_and_corrections_apart(client):
    from coordination import reports

    volunteer = make_user("benevole", roles.VOLUNTEER)
    first, second = coordinators()
    member = make_member("F-1")
    session = desk.open_session(Desk.objects.create(code="centre", name="Centre"), by=volunteer)
    desk.take_cash(session, member.household, amount=1_500, by=volunteer, token="t-1")
    twice = desk.take_cash(session, member.household, amount=700, by=volunteer, token="t-2")
    approvals.approve(contributions.request_correction(twice, by=first, reason="saisie en double"), by=second)
    [row] = reports.contributions_by_bracket()
    assert (row["total"], row["returned"], row["payments"], row["average"]) == (1_500, 700, 1, 1_500)
    # The same as the contributions received in the ledger, net.
    assert row["total"] == fund_position().contributions_received
    header, rows = reports.table("brackets")
    assert header[1:3] == ["total_net_euros", "returned_euros"] and rows[0][1:3] == [1_500, 700]
    log_in_staff(client, first)
    assert 'data-testid="bracket-returned">7,00' in client.get("/coordination/").content.decode()

