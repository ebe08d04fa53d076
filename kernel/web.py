"""Facts about the site's addresses that several layers act on."""

# The tills' API: no session, login, messages or audit context on its hot path.
API_PREFIX = "/api/"
