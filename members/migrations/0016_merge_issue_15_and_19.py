# Issue 15 (held cash's refusal reason) and issue 19 (the member's notice of a declined
# payment) each added a members migration 0015 on their own branch.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0015_held_cash_refusal_reason"),
        ("members", "0015_notice_kind_payment_declined"),
    ]
    operations = []
