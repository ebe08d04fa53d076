from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members import demo
from members.models import Household


def _euros(cents: int) -> str:
    return f"{number_format(Decimal(cents) / 100, 2, force_grouping=True)} €"


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = gettext_lazy(
        "Create or refresh a realistic demo fund (households, vendors, committee, three months of history) and "
        "write the credentials to try each role. Safe to run again: nothing is duplicated, passwords are renewed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--households", type=_count, default=demo.DEFAULT_HOUSEHOLDS)
        parser.add_argument("--vendors", type=_count, default=demo.DEFAULT_VENDORS)
        parser.add_argument(
            "--committee", type=_count, default=None, help=gettext_lazy("default: one seat per 8 households, up to 50")
        )
        parser.add_argument("--credentials", default="demo-credentials.json")
        parser.add_argument(
            "--force", action="store_true", help=gettext_lazy("load the demo even beside real households")
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=gettext_lazy("load the demo only into a database without households (make run: a restart reuses it)"),
        )

    def handle(self, *args, **options):
        if options["if_empty"] and (households := Household.objects.count()):
            self.stdout.write(
                _("The database already holds %(count)d households: it is used as it is, and no demo is loaded.")
                % {"count": households}
            )
            return
        try:
            report = demo.seed_demo(
                households=options["households"],
                vendors=options["vendors"],
                committee=options["committee"],
                force=options["force"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        path = demo.write_credentials(options["credentials"], report.credentials)

        tally, position = report.tally, report.position
        self.stdout.write(
            _(
                "Demo fund: %(households)d households, %(vendors)d vendors (%(approved)d approved), "
                "%(committee)d committee members."
            )
            % {
                "households": report.households,
                "vendors": report.vendors,
                "approved": report.approved_vendors,
                "committee": report.committee,
            }
        )
        self.stdout.write(
            _("History %(first)s to %(last)s: %(posted)d transfers posted, %(replayed)d already there.")
            % {
                "first": report.periods[0],
                "last": report.periods[-1],
                "posted": tally.posted,
                "replayed": tally.replayed,
            }
        )
        if tally.kept:
            self.stdout.write(
                _("%(kept)d purchases made by an earlier run with other sizes were kept as they were.")
                % {"kept": tally.kept}
            )
        self.stdout.write(
            _("Treasury %(treasury)s, units in circulation %(circulation)s, available reserve %(reserve)s.")
            % {
                "treasury": _euros(position.treasury),
                "circulation": _euros(position.units_in_circulation),
                "reserve": _euros(position.available_reserve),
            }
        )
        self.stdout.write(
            self.style.SUCCESS(_("Credentials to try each role: %(path)s (keep it private).") % {"path": path})
        )
