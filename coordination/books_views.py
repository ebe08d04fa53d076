"""The coordinators' books and research export pages, under /coordination/. Thin: the
work is in coordination.books and coordination.research; downloads are streamed."""

from itertools import chain

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from kernel import csv as kernel_csv
from kernel.money import EurosField

from . import books, research
from .decorators import coordinator_required

FIRST_YEAR = 2000


class BankBalanceForm(forms.Form):
    day = forms.DateField(label=_("Date of the bank statement"), widget=forms.DateInput(attrs={"type": "date"}))
    balance = EurosField(label=_("Balance on the bank statement (€)"), signed=True)


def _year(value, default: int) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return default
    if not FIRST_YEAR <= year <= default + 1:
        raise Http404
    return year


@coordinator_required
def books_page(request):
    current = books.current_year()
    year = _year(request.GET.get("year"), current)
    # The bank balance typed in is compared, shown, and not stored (see books.bank_difference).
    form = BankBalanceForm(request.GET if "balance" in request.GET else None)
    difference = None
    if form.is_bound and form.is_valid():
        ledger_balance, gap = books.bank_difference(
            form.cleaned_data["day"], form.cleaned_data["balance"])
        difference = {"day": form.cleaned_data["day"], "ledger": ledger_balance, "gap": gap,
                      "bank": ledger_balance + gap}
    return render(request, "coordination/books.html", {
        "year": year, "label": books.year_label(year), "years": range(current, max(FIRST_YEAR, current - 5) - 1, -1),
        "totals": books.year_totals(year), "bank": books.bank_reconciliation(year),
        "form": form, "difference": difference, "fec_name": books.fec_filename(year),
        "closed": books.closed_years().get(year), "closing_asked": books.pending_year_closing(year), "closable": books.year_bounds(year)[1] <= timezone.localdate(),
    })


@require_POST
@coordinator_required
def close_year(request, year: int):
    year = _year(year, books.current_year())
    try:
        books.request_year_closing(year, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, _("The closing is asked: a second coordinator approves it on the approvals page, "
                                    "and the FEC is frozen then."))
    except books.BooksError as error:
        messages.error(request, str(error))
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect(f"{reverse('coordination:books')}?year={year}")


def _download(lines, filename: str, content_type: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@coordinator_required
def books_fec(request, year: int):
    year = _year(year, books.current_year())
    separator = "|" if request.GET.get("sep") == "pipe" else "\t"
    # ISO 8859-15, one of the encodings the FEC's norm lists (and the € sign is in it).
    lines = (line.encode("iso-8859-15", errors="replace") for line in books.fec_lines(year, separator))
    return _download(lines, books.fec_filename(year), "text/plain; charset=iso-8859-15")


@coordinator_required
def books_csv(request, year: int):
    year = _year(year, books.current_year())
    return _download(books.csv_lines(year), f"ecritures-{books.year_label(year)}.csv", kernel_csv.CONTENT_TYPE)


@coordinator_required
def research_page(request):
    return render(request, "coordination/research.html", {
        "summary": research.summary(), "min_cell": research.reports.MIN_CELL, "columns": research.COLUMNS,
    })


@coordinator_required
def research_export(request):
    return kernel_csv.streaming_response(chain([research.COLUMNS], research.rows()), "recherche-anonymisee.csv")
