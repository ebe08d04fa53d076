"""What every coordination page shares: only coordinators get in."""

from users.roles import coordinator_required  # noqa: F401  (who is a coordinator: users.roles)

