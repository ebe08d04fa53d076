"""One base for the domain's refusals (kernel.errors.DomainError), under which every app
keeps its family and the names its callers use."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from allocations import issuance, ledger
from allocations.rules import NoRulesInForce
from kernel.errors import DomainError
from members import cards, direct_debits
from vendors import payments, sepa, settlements


@pytest.mark.parametrize("family", [
    ledger.LedgerError, ledger.InsufficientFunds, ledger.IdempotencyConflict, payments.PaymentError,
    payments.KeyReused, payments.LimitExceeded, cards.CardError, cards.InvalidPin, issuance.IssuanceError,
    issuance.IssuanceRefused, settlements.SettlementError, sepa.SepaError, direct_debits.DirectDebitError,
    NoRulesInForce,
])
def test_every_refusal_is_a_domain_error(family):
    assert issubclass(family, DomainError)


def test_a_refusal_has_a_code_and_a_message_in_the_reader_s_language():
    with translation.override("fr"):
        error = cards.InvalidPin()
        assert (error.code, str(error), error.messages) == ("invalid_pin", "Le code est faux.", ["Le code est faux."])
    with translation.override("en"):
        assert str(ledger.InsufficientFunds(amount=5)) == "The balance is too low for this amount."
        assert ledger.InsufficientFunds(amount=5).context == {"amount": 5}
        assert str(DomainError()) == "This cannot be done."
    with translation.override("fr"):
        assert str(DomainError()) == "Cette opération n'est pas possible."


def test_a_direct_debit_refusal_is_still_a_validation_error_for_the_forms():
    error = direct_debits.DirectDebitError("Non.")
    assert isinstance(error, ValidationError) and error.messages == ["Non."]
    with pytest.raises(ValidationError):
        raise error
