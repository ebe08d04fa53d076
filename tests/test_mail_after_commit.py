"""No e-mail leaves inside a request that takes a payment: the till's service queues a
task after the commit, and the task sends it (kernel.mail)."""

import uuid

import pytest
from django.core import mail

from members import tasks as member_tasks

from .member_fixtures import make_member
from .test_api import Till
from .vendor_fixtures import make_key, make_staff, make_vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    member = make_member("F-0100", balance=5_000, pin="2468", email="nadia@example.org")
    member.person.email_each_payment = True
    member.person.save()
    return member


@pytest.fixture
def queued(monkeypatch):
    """The tasks the request queued, instead of a broker."""
    calls = []
    monkeypatch.setattr(member_tasks.notify_payment_task, "delay", lambda **kwargs: calls.append(kwargs))
    return calls


def _the_worker_runs(queued, mail_after_commit):
    with mail_after_commit():
        for kwargs in queued:
            member_tasks.notify_payment_task.apply(kwargs=kwargs).get()


def test_a_payment_by_the_api_sends_no_email_in_its_request(member, queued, mail_after_commit,
                                                            django_capture_on_commit_callbacks):
    shop = make_vendor("epicerie-du-coin", name="Épicerie du Coin")
    till = Till(make_key(shop))
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit, and what it runs
        response = till.pay({"card": member.card.number, "pin": member.pin, "amount": 1_250})
    assert response.status_code == 201
    assert len(mail.outbox) == 0
    assert [call["wallet_id"] for call in queued] == [member.household.wallet_id]

    _the_worker_runs(queued, mail_after_commit)

    assert [m.to for m in mail.outbox] == [["nadia@example.org"]]
    assert "12,50" in mail.outbox[0].subject and "Épicerie du Coin" in mail.outbox[0].subject


def test_a_payment_and_a_refund_at_the_web_terminal_send_no_email_in_their_requests(
        client, member, queued, mail_after_commit, django_capture_on_commit_callbacks):
    shop = make_vendor("epicerie-du-coin", name="Épicerie du Coin")
    client.force_login(make_staff(shop))
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/vendor/terminal/pay/", {"card": member.card.number, "pin": member.pin,
                                                       "amount": "12,50", "idempotency_key": "k1"}).json()
        assert answer["ok"]
        client.post(f"/vendor/terminal/refund/{answer['id']}/", {"amount": "2,50", "idempotency_key": uuid.uuid4().hex})
    assert len(mail.outbox) == 0
    assert [call.get("refund", False) for call in queued] == [False, True]

    _the_worker_runs(queued, mail_after_commit)

    assert [m.to for m in mail.outbox] == [["nadia@example.org"]] * 2
    assert "Remboursement" in mail.outbox[1].subject or "2,50" in mail.outbox[1].subject


def test_the_worker_knows_the_mail_tasks():
    from caisse.celery import app

    app.loader.import_default_modules()
    assert {"kernel.mail.send_emails_task", "members.tasks.notify_payment_task"} <= set(app.tasks)


def test_an_email_of_a_rolled_back_transaction_is_never_queued(monkeypatch):
    from django.db import transaction

    from kernel import mail as kernel_mail

    queued = []
    monkeypatch.setattr(kernel_mail.send_emails_task, "delay", queued.append)

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        kernel_mail.send_after_commit([("Sujet", "Texte", "a@example.org")])
        raise Rollback
    assert queued == []


def test_a_desk_difference_and_a_second_factor_reset_queue_their_mail_for_the_task(
        monkeypatch, django_capture_on_commit_callbacks):
    """Issue 15's desk difference and issue 13's second-factor reset: by kernel.mail's task,
    one message per address, nothing sent in the transaction itself."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from kernel import mail as kernel_mail
    from members import desk
    from members.models import Desk
    from users import roles, second_factor

    from .vendor_fixtures import make_user

    queued = []
    monkeypatch.setattr(kernel_mail.send_emails_task, "delay", queued.append)
    first = make_user("coord-a", roles.COORDINATOR, is_staff=True, email="a@example.org")
    make_user("coord-b", roles.COORDINATOR, is_staff=True, email="b@example.org")
    volunteer = make_user("benevole", roles.VOLUNTEER)
    session = desk.open_session(Desk.objects.create(code="centre", name="Centre"), by=volunteer)
    TOTP.activate(first, generate_totp_secret())
    with django_capture_on_commit_callbacks(execute=True):
        desk.close_session(session, by=volunteer, counted_cash=500)
        second_factor.reset(user=first, by=make_user("coord-c", roles.COORDINATOR, is_staff=True))
    assert len(mail.outbox) == 0
    sent = [message for batch in queued for message in batch]
    assert sorted(to for _subject, _body, to in sent) == ["a@example.org", "a@example.org", "b@example.org"]
    assert any("Centre" in subject for subject, _body, _to in sent)
