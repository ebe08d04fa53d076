from django.core.management.base import BaseCommand, CommandError

from operations import backups, crypto


class Command(BaseCommand):
    help = "Take an encrypted backup of the database now (the nightly task does the same), or make a key."

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="print a new BACKUP_ENCRYPTION_KEY and stop")
        parser.add_argument("--list", action="store_true", help="list the backups kept on the target")

    def handle(self, *args, new_key=False, list=False, **options):
        if new_key:
            self.stdout.write(crypto.new_key())
            return
        try:
            if list:
                for name in backups.list_backups():
                    self.stdout.write(name)
                return
            result = backups.take_backup()
        except crypto.BackupError as error:
            raise CommandError(str(error))
        self.stdout.write(self.style.SUCCESS(f"{result.name}: {result.size} bytes in {result.seconds} s"))
        for name in result.deleted:
            self.stdout.write(f"deleted (retention): {name}")
