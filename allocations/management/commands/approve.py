"""Approve (or refuse) a four-eyes request from the command line, as a second coordinator."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from allocations import approvals, issuance
from allocations.models import Approval


class Command(BaseCommand):
    help = "Approve a pending request (payment of a settlement run, forced issuance, reversal) as another coordinator."

    def add_arguments(self, parser):
        parser.add_argument("approval", type=int)
        parser.add_argument("--by", required=True, help="username of the approving coordinator")
        parser.add_argument("--refuse", action="store_true")

    def handle(self, *args, approval, by, refuse, **options):
        user = get_user_model().objects.filter(username=by).first()
        request = Approval.objects.filter(pk=approval).first()
        if user is None or request is None:
            raise CommandError("no such user or request")
        try:
            if refuse:
                done = approvals.refuse(request, by=user)
            else:
                done = approvals.approve(request, by=user)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        self.stdout.write(f"{done.action_label} {done.target}: {done.get_status_display()} {done.outcome}")
        if done.action == Approval.Action.FORCED_ISSUANCE and done.status == Approval.Status.EXECUTED:
            # From the command line, issue the planned chunks here rather than wait for a worker.
            result = issuance.issue_period(done.target)
            self.stdout.write(f"households credited: {result.households_credited}")
