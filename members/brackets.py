"""The brackets a household declares about itself: income and age. No proof is asked.

Income is per person and per month, in cents, so that the contribution grid of the fund
rules (bands of income per person) can read it. The first bracket is below the poverty
line (60 % of the median income, about 1 200 € a month for one person in France).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IncomeBracket(models.TextChoices):
    LOW = "low", _("under 1,000 € a month per person (below the poverty line)")
    MODEST = "modest", _("1,000 € to 1,500 € a month per person")
    MIDDLE = "middle", _("1,500 € to 2,500 € a month per person")
    HIGH = "high", _("over 2,500 € a month per person")


# Lower bound of each bracket, in cents per person per month.
INCOME_FLOOR = {
    IncomeBracket.LOW: 0,
    IncomeBracket.MODEST: 100_000,
    IncomeBracket.MIDDLE: 150_000,
    IncomeBracket.HIGH: 250_000,
}


class AgeBracket(models.TextChoices):
    UNDER_30 = "18_29", _("18 to 29")
    FROM_30 = "30_44", _("30 to 44")
    FROM_45 = "45_59", _("45 to 59")
    FROM_60 = "60_plus", _("60 or over")
