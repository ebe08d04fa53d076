"""What goes to Sentry: the error and where it happened, not who it happened to."""

_DROPPED_REQUEST_PARTS = ("data", "cookies", "query_string", "env")
_KEPT_HEADERS = {"user-agent", "content-type", "accept-language", "host"}


def scrub(event, hint=None):
    request = event.get("request") or {}
    for part in _DROPPED_REQUEST_PARTS:
        request.pop(part, None)
    if "headers" in request:
        request["headers"] = {k: v for k, v in request["headers"].items() if k.lower() in _KEPT_HEADERS}
    event.pop("user", None)
    # Local variables of the frames may hold names, IBANs, PINs.
    for exception in (event.get("exception") or {}).get("values", []):
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    event.pop("breadcrumbs", None)
    return event
