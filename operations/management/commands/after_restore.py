from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from allocations.integrity import check_ledger
from members import privacy
from members.models import Household
from members.signals import household_erased


class Command(BaseCommand):
    help = "Run by restore_backup against the restored database: migrate, erase again, check the ledger."

    def add_arguments(self, parser):
        parser.add_argument("--erase", default="", help="household ids erased since (the erasure journal)")

    def handle(self, *args, erase="", **options):
        call_command("migrate", interactive=False, verbosity=0)
        # These erasures are in the journal already.
        household_erased.disconnect(dispatch_uid="operations.erasure_journal")
        ids = [int(i) for i in erase.split(",") if i.strip()]
        erased = 0
        for household in Household.objects.filter(pk__in=ids, erased_at__isnull=True):
            privacy.erase(household)
            erased += 1
        report = check_ledger()
        if not report.ok:
            raise CommandError(f"check_ledger: {len(report.mismatches)} mismatches, unbalanced units {report.unbalanced_units}")
        self.stdout.write(f"migrated; {erased} erasures applied again; ledger OK")
