from django.core.management.base import BaseCommand, CommandError

from operations import backups


class Command(BaseCommand):
    help = "Restore the latest backup into a scratch database and check it (the weekly task does the same)."

    def handle(self, *args, **options):
        drill = backups.restore_drill()
        if not drill.ok:
            raise CommandError(drill.detail)
        self.stdout.write(self.style.SUCCESS(f"{drill.backup}: restored and checked in {drill.seconds} s"))
