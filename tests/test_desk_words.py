"""Issue 19 point 4: the desk's codes as words, from the model's choices, so that every
page (the desk, the admin, the coordinators') reads the same label, never "low" or "30_44"."""

import pytest
from django.utils import translation

from members.models import Household


@pytest.mark.parametrize("field, code, words", [
    ("income_bracket", "low", "moins de 1 000"),
    ("age_bracket", "30_44", "30 à 44"),
])
def test_a_household_s_brackets_read_as_french_words(field, code, words):
    household = Household(**{field: code})
    with translation.override("fr"):
        label = str(getattr(household, f"get_{field}_display")())
    assert words in label and code not in label


def test_the_brackets_are_the_model_s_choices():
    assert Household._meta.get_field("income_bracket").choices
    assert Household._meta.get_field("age_bracket").choices
