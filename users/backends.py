"""Log in with whatever a member has: user name, e-mail, phone number or card number."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


def normalize_phone(raw: str) -> str:
    """French numbers as people type them: '06 12 34 56 78', '+33 6 12…', '0033…' → '0612345678'."""
    digits = "".join(char for char in raw if char.isdigit() or char == "+")
    if digits.startswith("+33"):
        digits = "0" + digits[3:]
    elif digits.startswith("0033"):
        digits = "0" + digits[4:]
    return digits


# Identifiers that other apps know (members: a card number), registered from their
# AppConfig.ready(): users sits below them and imports none of them.
_identifier_finders = []


def register_identifier(finder) -> None:
    """`finder(identifier)` returns the one user it points at, or None."""
    if finder not in _identifier_finders:
        _identifier_finders.append(finder)


def find_user(identifier: str):
    """The user an identifier points at, or None; never more than one."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    User = get_user_model()
    if "@" in identifier:
        return User.objects.filter(email__iexact=identifier).order_by("pk").first()
    user = User.objects.filter(username__iexact=identifier).first()
    if user is not None:
        return user
    phone = normalize_phone(identifier)
    if len(phone) >= 10:
        users = list(User.objects.filter(Q(phone=phone))[:2])
        if len(users) == 1:  # a phone shared by two logins identifies neither
            return users[0]
    for finder in _identifier_finders:
        user = finder(identifier)
        if user is not None:
            return user
    return None


class IdentifierBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        user = find_user(username or email or "")
        if user is None or password is None:
            # Spend the time a password check would, so a wrong identifier is not told apart.
            get_user_model()().set_password(password or "")
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def login_limit_key(identifier: str) -> str:
    """What the per-account limit on failed sign-ins counts under: the account an
    identifier resolves to, whichever of its forms was typed (`foyer-0011`, `FOYER-0011`,
    a card number with or without spaces, a phone with +33), or, for an identifier that
    resolves to no account, its text without case or spaces (so guessing at a name that
    does not exist is limited too, and not told apart)."""
    user = find_user(identifier)
    if user is not None:
        return f"user:{user.pk}"
    return "text:" + "".join(char for char in (identifier or "").casefold() if not char.isspace() and char != "-")
