"""What every coordination page shares: only coordinators get in."""

from django.http import HttpResponse

from users.roles import coordinator_required  # noqa: F401  (who is a coordinator: users.roles)


def csv_response(content: str, filename: str) -> HttpResponse:
    # A BOM so that spreadsheets open the accents right.
    response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
