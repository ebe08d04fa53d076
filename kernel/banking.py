"""Bank and company numbers, checked by maintained libraries: `schwifty` for IBAN and BIC
(every country's length and structure, the check digits), `python-stdnum` for SIRET (its
Luhn key, and La Poste's establishments, whose digits sum to a multiple of 5 instead).

A typo in an IBAN would send a shop's reimbursement nowhere, a typo in a SIRET would
approve a ghost. People type these with spaces, dots or dashes; they are stored compact.

The functions referenced as field validators here are named in migrations: keep their
names and signatures.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.fr import siret as _siret

# The national directory of associations (répertoire national des associations): W and
# nine digits, no check digit to verify; python-stdnum does not know it.
_RNA = re.compile(r"^W[0-9]{9}$")


def compact(value: str) -> str:
    return re.sub(r"[\s.-]", "", value or "").upper()


def iban_valid(value: str) -> bool:
    try:
        IBAN(compact(value))
    except SchwiftyException:
        return False
    return True


def bic_valid(value: str) -> bool:
    try:
        BIC(compact(value))
    except SchwiftyException:
        return False
    return True


def validate_iban(value: str) -> None:
    if not iban_valid(value):
        raise ValidationError(_("This IBAN is not valid."), code="iban")


def validate_bic(value: str) -> None:
    if not bic_valid(value):
        raise ValidationError(_("A BIC has 8 or 11 letters and digits."), code="bic")


def validate_siret(value: str) -> None:
    siret = compact(value)
    if not (len(siret) == 14 and siret.isdigit()):
        raise ValidationError(_("A SIRET number has 14 digits."), code="siret")
    if not _siret.is_valid(siret):
        raise ValidationError(_("This SIRET number is not valid (check digit)."), code="siret")


def validate_rna(value: str) -> None:
    if not _RNA.match(compact(value)):
        raise ValidationError(_("An RNA number is a W followed by 9 digits."), code="rna")
