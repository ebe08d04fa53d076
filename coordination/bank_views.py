"""The coordinators' bank pages: import a camt.053 statement, see what it matched, the
lines left for a person, the closing balance against the treasury. Thin: coordination.bank."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocations.selectors import fund_position

from . import bank
from .decorators import coordinator_required
from .models import BankStatement, BankStatementLine


@coordinator_required
def statements(request):
    if request.method == "POST":
        upload = request.FILES.get("statement")
        if upload is None:
            messages.error(request, _("Choose the statement file (camt.053, XML) your bank gave you."))
            return redirect("coordination:bank_statements")
        try:
            result = bank.import_statement(upload.read(bank.MAX_BYTES + 1), by=request.user)
        except bank.StatementError as error:
            messages.error(request, str(error))
            return redirect("coordination:bank_statements")
        if not result.created:
            messages.info(request, _("This statement had already been imported: nothing changed."))
        else:
            messages.success(request, _("Statement imported: %(matched)s lines matched, %(unmatched)s to match by a "
                                        "person.") % {"matched": result.matched, "unmatched": result.unmatched})
        return redirect("coordination:bank_statement", result.statements[0].pk)
    return render(request, "coordination/bank_statements.html", {
        "statements": BankStatement.objects.select_related("imported_by")[:50],
        "unmatched": bank.unmatched_lines(),
        "treasury": fund_position().treasury,
        "versions": bank.VERSIONS,
    })


@require_POST
@coordinator_required
def handle_line(request, pk: int):
    line = get_object_or_404(BankStatementLine, pk=pk)
    try:
        bank.handle_by_hand(line, by=request.user, note=request.POST.get("note", ""))
        messages.success(request, _("The line is marked as handled."))
    except bank.StatementError as error:
        messages.error(request, str(error))
    return redirect("coordination:bank_statements")


@coordinator_required
def statement(request, pk: int):
    row = get_object_or_404(BankStatement, pk=pk)
    return render(request, "coordination/bank_statement.html", {
        "statement": row, "lines": row.lines.all(), "treasury": fund_position().treasury,
    })


def _match_page(request, line, *, error: str = "", status: int = 200):
    return render(request, "coordination/bank_line_match.html", {
        "line": line,
        "candidates": bank.candidates(line) if line is not None else [],
        "pending": bank.pending_pick(line) if line is not None else None,
        "error": error, "posted": request.POST,
    }, status=status)


@coordinator_required
def match_line(request, pk: int):
    """An unmatched line: the matches the fund expects, closest first; the coordinator picks one."""
    line = BankStatementLine.objects.select_related("statement", "handled_by").filter(pk=pk).first()
    if request.method != "POST":
        if line is None:
            raise Http404
        return _match_page(request, line)
    try:
        picked = bank.pick(pk, request.POST.get("candidate", ""), by=request.user,
                           reason=request.POST.get("reason", ""))
    except bank.StatementError as error:
        if line is not None:
            line.refresh_from_db()
        return _match_page(request, line, error=str(error), status=400)
    if picked.approval is not None:
        messages.success(request, _("Asked: the match takes effect when a second coordinator approves it."))
    else:
        messages.success(request, _("The line is matched: %(match)s.") % {"match": picked.line.get_match_display()})
    return redirect("coordination:bank_statements")
