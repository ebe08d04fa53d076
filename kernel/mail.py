"""E-mail leaves by a Celery task, after the commit of what it tells.

Never inside a transaction: a rolled-back transaction would have told people of
something that did not happen, and a slow mail server would hold its locks. Never in a
till's request either: the payment must not wait on SMTP. A service says what to send
with `send_after_commit`; the messages go to the queue once its transaction commits (at
once outside one), and a worker sends them, one per address, so that nobody learns who
else received it.
"""

from __future__ import annotations

from collections.abc import Iterable

from celery import shared_task
from django.core.mail import EmailMessage, get_connection
from django.db import transaction

_BATCH = 500


@shared_task(name="kernel.mail.send_emails_task", acks_late=True)
def send_emails_task(messages: list[list[str]]) -> int:
    """Send `messages`, each [subject, body, address]."""
    mail = get_connection()
    for start in range(0, len(messages), _BATCH):
        mail.send_messages([EmailMessage(subject, body, None, [to]) for subject, body, to in messages[start:start + _BATCH]])
    return len(messages)


def send_after_commit(messages: Iterable[tuple[str, str, str]], *, using: str | None = None) -> int:
    """Queue (subject, body, address) messages for after the current transaction's commit."""
    messages = [[str(subject), str(body), str(to)] for subject, body, to in messages if to]
    if messages:
        transaction.on_commit(lambda: send_emails_task.delay(messages), using=using)
    return len(messages)
