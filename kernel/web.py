"""Facts about the site's addresses that several layers act on."""

import ipaddress

from django.conf import settings

# The tills' API: no session, login, messages or audit context on its hot path.
API_PREFIX = "/api/"


def client_address(request) -> str:
    """The address of the person making the request, for rate limits.

    Behind a reverse proxy every request comes from the proxy's address: that would put
    a whole fund behind one limit. The X-Forwarded-For chain is believed only from the
    proxies named in settings.TRUSTED_PROXIES (addresses or networks), read from the
    right: the first hop that is not one of them is the client. A client cannot forge
    its way in: whatever it writes itself stays to the left of what the proxy appends.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = _trusted_networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not trusted or not _in(remote, trusted):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:  # garbage in the chain: stop believing it here
            return remote
        if not _in(hop, trusted):
            return hop
    return hops[0] if hops else remote


_networks_cache: dict[tuple[str, ...], tuple] = {}


def _trusted_networks(entries: tuple[str, ...]) -> tuple:
    if entries not in _networks_cache:
        _networks_cache[entries] = tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    return _networks_cache[entries]


def _in(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == network.version and ip in network for network in networks)
