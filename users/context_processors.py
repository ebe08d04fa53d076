from django.utils.functional import SimpleLazyObject

from . import roles


def spaces(request):
    """The spaces the signed-in person has (the header offers only these) and their home."""
    user = getattr(request, "user", None)
    found = SimpleLazyObject(lambda: roles.spaces(user))
    return {
        "spaces": found,
        # The keys alone, for templates that show a space's links only to those who have it.
        "space_keys": SimpleLazyObject(lambda: [key for key, _label, _url in found]),
        "home_url": SimpleLazyObject(lambda: roles.landing_url(user)),
    }
