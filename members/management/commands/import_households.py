from django.core.management.base import BaseCommand

from members import imports


class Command(BaseCommand):
    help = "Import households from a CSV file. Without --commit it is a dry run that reports every rejected row."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--commit", action="store_true", help="import the valid rows (default: dry run)")

    def handle(self, *args, path, commit, **options):
        with open(path, "rb") as file:
            report = imports.import_households(file.read(), dry_run=not commit)
        if report.error:
            self.stderr.write(report.error)
            return
        for rejected in report.rejected:
            self.stdout.write(f"line {rejected.line} rejected: " + "; ".join(rejected.errors))
        verb = "would import" if report.dry_run else "imported"
        self.stdout.write(f"{verb} {len(report.imported)} households, rejected {len(report.rejected)} rows")
