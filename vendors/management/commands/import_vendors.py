from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from vendors import services


class Command(BaseCommand):
    help = "Import existing vendors from a CSV file (header row). --dry-run checks without writing."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, path, dry_run, **options):
        report = services.import_vendors(Path(path).read_text(encoding="utf-8"), dry_run=dry_run)
        for line, message in report.errors:
            self.stderr.write(_("line %(line)s: %(message)s") % {"line": line, "message": message})
        self.stdout.write(_("%(created)s to create, %(skipped)s already registered, %(errors)s errors%(dry)s") % {
            "created": len(report.created), "skipped": len(report.skipped), "errors": len(report.errors),
            "dry": _(" (dry run: nothing written)") if dry_run else "",
        })
        if report.errors:
            raise CommandError(_("Nothing was imported."))
