"""The charter a shop signs, criterion by criterion, as the committee checks it at the
visit. An approval proposal answers every one of them."""

from django.utils.translation import gettext_lazy as _

CRITERIA: dict[str, str] = {
    "local_supply": _("Sources locally or from short supply chains"),
    "sustainable": _("Favours organic, seasonal or sustainable products"),
    "fair_prices": _("Practises fair prices, the same for every customer"),
    "welcomes_all": _("Welcomes every member without distinction or stigma"),
    "working_conditions": _("Respects decent working conditions"),
    "accessible": _("Is reachable and accessible to members"),
}
