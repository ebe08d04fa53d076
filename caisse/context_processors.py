from django.conf import settings


def fund(request):
    return {"FUND_NAME": settings.FUND_NAME, "FUND_UNIT_LABEL": settings.FUND_UNIT_LABEL}
