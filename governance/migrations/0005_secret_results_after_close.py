from django.db import migrations, models
from django.db.models import Q


def results_after_close_for_secret_ballots(apps, schema_editor):
    # A policy or a running vote that had both keeps its secrecy: the tally waits for the close.
    for name in ("Policy", "Proposal"):
        apps.get_model("governance", name).objects.filter(secret=True, results_before_close=True).update(
            results_before_close=False
        )


class Migration(migrations.Migration):
    dependencies = [("governance", "0004_secret_ballot_receipts")]

    operations = [
        migrations.RunPython(results_after_close_for_secret_ballots, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="policy",
            constraint=models.CheckConstraint(
                condition=~(Q(secret=True) & Q(results_before_close=True)),
                name="policy_secret_results_after_close",
                violation_error_message="A secret ballot's results can only be shown after the close.",
            ),
        ),
        migrations.AddConstraint(
            model_name="proposal",
            constraint=models.CheckConstraint(
                condition=~(Q(secret=True) & Q(results_before_close=True)),
                name="proposal_secret_results_after_close",
            ),
        ),
    ]
