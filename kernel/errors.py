"""The one base of the domain's refusals.

A service that refuses (a wallet too low, a card blocked, a settlement with nothing to
pay) raises a `DomainError`: a stable `code` for machines, a `message` in the reader's
language for people, and the HTTP `status` an API answers it with. Views, the API and
commands catch this one class; a refusal that is not a DomainError is a bug (a 500).

Each app keeps its own family below it (ledger.LedgerError, payments.PaymentError,
cards.CardError, ...), under the names its callers already use.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "refused"
    status = 400
    message = _("This cannot be done.")

    def __init__(self, message=None, **context):
        self.message = message or self.message
        self.context = context
        super().__init__(str(self.message))

    @property
    def messages(self) -> list[str]:
        """As a ValidationError has them: views show either the same way."""
        return [str(self.message)]
