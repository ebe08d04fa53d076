from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import csrf

from kernel.web import API_PREFIX


def home(request):
    return render(request, "home.html")


def healthz(request):
    """Liveness and database reachability, for the container healthchecks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def csrf_failure(request, reason=""):
    """Django's CSRF refusal, in JSON under /api/ (a till never gets an HTML page)."""
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse({"error": {"code": "forbidden", "message": _("This request was refused (CSRF)."), "param": None}},
                            status=403)
    return csrf.csrf_failure(request, reason=reason)
