from allocations import fund as fund_settings


def fund(request):
    """The fund's name and unit on every page: one read of the fund's settings per request
    (allocations.fund.cached: Redis, no SQL query)."""
    snapshot = fund_settings.cached()
    return {"FUND_NAME": snapshot.name, "FUND_UNIT_LABEL": snapshot.unit_label}
