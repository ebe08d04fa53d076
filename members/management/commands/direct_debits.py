"""Contributions by direct debit from the shell: `prepare PERIOD --output FILE` writes the
month's pain.008, `confirm PERIOD` records it as paid, `reject MANDATE PERIOD CODE`
records a return. Thin: members.direct_debits does the work."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from members import direct_debits
from members.models import DirectDebitCollection


class Command(BaseCommand):
    help = "SEPA direct debits of contributions: prepare (pain.008), confirm, reject."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["prepare", "confirm", "reject"])
        parser.add_argument("period")
        parser.add_argument("args", nargs="*", help="reject: MANDATE_REFERENCE REASON_CODE")
        parser.add_argument("--output", help="prepare: where to write the pain.008 file")

    def handle(self, action, period, *args, output=None, **options):
        try:
            if action == "prepare":
                collection = direct_debits.prepare_collection(period)
                payment_file = direct_debits.collection_file(collection)
                path = output or payment_file.filename
                with open(path, "wb") as out:
                    out.write(payment_file.content)
                self.stdout.write(f"{payment_file.count} debits, {payment_file.total} cents: {path}")
            elif action == "confirm":
                # The last presentation of the month (returned debits may be presented again).
                collection = DirectDebitCollection.objects.filter(period=period).order_by("-presentation").first()
                if collection is None:
                    raise DirectDebitCollection.DoesNotExist
                self.stdout.write(f"{direct_debits.confirm_collection(collection)} debits recorded as paid")
            else:
                if len(args) != 2:
                    raise CommandError("reject needs MANDATE_REFERENCE PERIOD REASON_CODE")
                payment = direct_debits.record_rejection(args[0], period, args[1])
                self.stdout.write(f"payment #{payment.pk} rejected ({payment.rejection_reason}), transfer reversed")
        except DirectDebitCollection.DoesNotExist:
            raise CommandError(f"no collection for {period}")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages))
