"""What members tells the apps above it, which it may not import: they connect here."""

from django.dispatch import Signal

# Sent once a household is erased, inside the erasure's transaction, with household_id and
# user_ids (its persons' logins): whatever keeps a trace of them (the audit trail) purges it.
household_erased = Signal()
