"""Issue 19 point 4: the direct debits page in French — its headers, and a bank's return
read as its code and its words ("MS02 — refusé par le débiteur"), not a bare code."""

import pytest
from django.urls import reverse

from tests.test_households import user_with
from users import roles

from .staff import log_in_staff
from .test_direct_debits import PERIOD, with_mandate

pytestmark = pytest.mark.django_db


def test_a_return_and_the_headers_read_in_french(client):
    ana = with_mandate("Ana", amount=1500)
    log_in_staff(client, user_with(roles.COORDINATOR))
    url = reverse("coordination:direct_debits")
    client.post(url, {"period": PERIOD})
    collection = ana.direct_debits.get().collection
    client.post(reverse("coordination:direct_debit_confirm", args=[collection.pk]))
    client.post(reverse("coordination:direct_debit_reject"), {"mandate": f"RUM-{ana.reference}", "period": PERIOD,
                                                               "reason": "MS02"})
    body = client.get(url).content.decode()
    assert "MS02 — refusé par le débiteur" in body
    assert "AM04 — provision insuffisante" in body  # the reasons offered when recording one
    assert "<th>Période</th>" in body and "Enregistré le" in body
    assert "Recorded at" not in body and "refused by the debtor" not in body
