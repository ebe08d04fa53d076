import sys

from django.core.management.base import BaseCommand, CommandError

from members import lottery
from members.models import Draw


class Command(BaseCommand):
    help = "Draw a cohort again from its published seed and frozen list, and confirm the recorded result."

    def add_arguments(self, parser):
        parser.add_argument("draw", help="the draw's cohort name or id")

    def handle(self, *args, draw, **options):
        found = Draw.objects.filter(cohort=draw).first() or (Draw.objects.filter(pk=draw).first() if draw.isdigit() else None)
        if found is None:
            raise CommandError(f"No draw “{draw}”.")
        result = lottery.verify(found)
        if result.ok:
            self.stdout.write(f"OK: draw {found.cohort} reproduced from seed {found.seed} ({found.entries.count()} applications).")
            return
        for problem in result.problems:
            self.stderr.write(str(problem))
        sys.exit(1)
