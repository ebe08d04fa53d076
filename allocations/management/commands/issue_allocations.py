"""Issue a period's allocations from the command line: the same service as Celery beat."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from allocations import approvals, issuance, periods
from allocations.rules import NoRulesInForce
from kernel.money import format_units


class Command(BaseCommand):
    help = "Issue the monthly allocations of a period (YYYY-MM); a second run credits nobody twice."

    def add_arguments(self, parser):
        parser.add_argument("--period", default=None, help="YYYY-MM (default: the current period)")
        parser.add_argument("--dry-run", action="store_true", help="print what would be issued, change nothing")
        parser.add_argument("--force", action="store_true", help="ask to issue even if the reserve does not cover it (a second coordinator approves)")
        parser.add_argument("--reason", default="", help="why it is forced (required with --force)")
        parser.add_argument("--by", default=None, help="username of the coordinator asking to force it")
        parser.add_argument("--chunk-size", type=int, default=None)

    def handle(self, *args, period, dry_run, force, reason, by, chunk_size, **options):
        period = period or periods.current()
        if force:
            # Four eyes: this only asks; another coordinator, signed in, approves it on the
            # approvals page (no command approves: a shell would act in anyone's name).
            if not by:
                raise CommandError("--force needs --by: the coordinator asking for it")
            forced_by = get_user_model().objects.filter(username=by).first()
            if forced_by is None:
                raise CommandError(f"no user named {by!r}")
            try:
                approval = approvals.request_forced_issuance(period, by=forced_by, reason=reason)
            except (ValidationError, PermissionDenied, periods.InvalidPeriod, issuance.IssuanceError) as exc:
                raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
            self.stdout.write(
                f"forced issuance of {period} asked (approval #{approval.pk}): another coordinator approves it, "
                f"signed in, at /coordination/approvals/"
            )
            return
        try:
            result = issuance.issue_period(period, dry_run=dry_run, chunk_size=chunk_size)
        except (issuance.IssuanceError, NoRulesInForce, periods.InvalidPeriod) as exc:
            raise CommandError(str(exc)) from exc
        prefix = "DRY RUN, nothing written — " if dry_run else ""
        self.stdout.write(f"{prefix}period {period}")
        self.stdout.write(f"households credited: {result.households_credited}")
        self.stdout.write(f"total issued: {format_units(result.total_issued)}")
        self.stdout.write(
            f"expired: {format_units(result.total_expired)} from {result.households_expired} wallets"
        )
        self.stdout.write(f"reserve before: {format_units(result.reserve_before)}")
        self.stdout.write(f"reserve after: {format_units(result.reserve_after)}")
        if result.would_be_refused:
            self.stdout.write(f"THE REAL RUN WOULD BE REFUSED: {result.would_be_refused}")
        if result.run is not None:
            run = result.run
            self.stdout.write(
                f"run: {run.status}, {run.households_credited} households and {format_units(run.total_issued)} "
                f"in all, {run.chunks_done}/{run.chunks_total} chunks"
            )
