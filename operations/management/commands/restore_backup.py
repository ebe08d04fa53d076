from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from allocations import fund
from operations import backups, crypto


class Command(BaseCommand):
    help = (
        "Restore a backup (a name from `backup --list`, or a file) into a database: refused when it "
        "holds data unless --replace; then migrated, erasures made since applied again, ledger checked."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup")
        parser.add_argument("--database", help="the database's name on the same server (default: the configured one)")
        parser.add_argument("--replace", action="store_true", help="drop what the database holds first")

    def handle(self, *args, backup, database=None, replace=False, **options):
        database = database or connection.settings_dict["NAME"]
        if database == connection.settings_dict["NAME"]:
            connection.close()  # a replace drops the schema this process would hold open
        try:
            report = backups.restore(backup=backup, database=database, replace=replace)
        except crypto.BackupError as error:
            raise CommandError(str(error))
        if database == connection.settings_dict["NAME"]:
            # The fund's settings as the restored row says, though the cache holds a newer version.
            fund.reload_cache()
            report.steps.append("fund's settings cache reloaded")
        for step in report.steps:
            self.stdout.write(step)
        self.stdout.write(self.style.SUCCESS(
            f"{report.backup} restored into {report.database} in {report.seconds} s "
            f"({report.erasures_applied} journaled erasures applied again)"))
