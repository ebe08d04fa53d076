from django.core.management.base import BaseCommand, CommandError

from allocations.integrity import check_ledger


class Command(BaseCommand):
    help = ("Verify that every stored balance equals its transfers, that each unit sums to zero, and that each "
            "purchase, settlement, contribution paid and exited household agrees with its transfers.")

    def handle(self, *args, **options):
        report = check_ledger()
        for m in report.mismatches:
            self.stderr.write(
                f"account {m.account_id} ({m.label}): stored {m.stored}, transfers say {m.computed}, "
                f"off by {m.difference:+d} cents"
            )
        for unit, total in report.unbalanced_units.items():
            self.stderr.write(f"unit {unit}: balances sum to {total:+d} cents, not 0")
        for transfer_id in report.mixed_unit_transfers:
            self.stderr.write(f"transfer {transfer_id}: its accounts do not hold its unit")
        for mismatch in report.objects:
            self.stderr.write(f"{mismatch.label}: {mismatch.problem}")
        if not report.ok:
            raise CommandError("ledger check failed", returncode=1)
        self.stdout.write(self.style.SUCCESS("ledger OK: every balance matches its transfers, every unit sums to zero, every object agrees"))
