"""Portal logins for the people of a household, including those without e-mail."""

from django.db import transaction
from django.utils.text import slugify

from users import activation

from .models import Person


def _username_for(person: Person) -> str:
    base = slugify(f"{person.first_name}-{person.household.reference}")[:140] or f"membre-{person.pk}"
    from django.contrib.auth import get_user_model

    username, n = base, 1
    while get_user_model().objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


@transaction.atomic
def create_login_with_letter(person: Person, *, by=None) -> tuple[str, str]:
    """A login for `person` and a one-time activation code for a paper letter.

    A person who already has a login gets a new code (the old one stops working).
    Returns (username, code).
    """
    person = Person.objects.select_for_update(of=("self",)).select_related("household", "user").get(pk=person.pk)
    if person.user is not None:
        return person.user.username, activation.issue_activation(user=person.user, by=by)
    user, code = activation.create_login(
        username=_username_for(person), first_name=person.first_name, last_name=person.last_name, by=by
    )
    person.user = user
    person.save(update_fields=["user"])
    return user.username, code


def user_of_card(identifier: str):
    """The login of an active card's holder, for the sign-in by card number."""
    from django.contrib.auth import get_user_model

    from .cards import find_card

    card = find_card(identifier)
    if card is not None and card.status == card.Status.ACTIVE and card.holder_id is not None:
        return get_user_model().objects.filter(person__cards=card).first()
    return None
