from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from vendors import services
from vendors.models import Vendor


class Command(BaseCommand):
    help = "Create an API key for one of a vendor's tills and print it (once: only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--label", default="", help="the till it is for, e.g. 'Caisse 1'")

    def handle(self, *args, slug, label, **options):
        try:
            vendor = Vendor.objects.get(slug=slug)
        except Vendor.DoesNotExist:
            raise CommandError(_("No vendor with the slug %(slug)s.") % {"slug": slug})
        api_key, key = services.create_api_key(vendor, label=label or _("Till"))
        self.stderr.write(_("Key for %(vendor)s / %(label)s. It is shown only now: copy it into the till.")
                          % {"vendor": vendor.display_name, "label": api_key.label})
        self.stdout.write(key)
