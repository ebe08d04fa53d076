"""Benchmark of the coordinators' dashboard with 1 000 000 transfers (not a test).

    createdb caisse_bench
    DATABASE_URL=postgres:///caisse_bench REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/dashboard.py --transfers 1000000

Builds, set-based, a fund of --households households and --vendors vendors with twelve
months of history (allocations, contributions with their payment rows, grants, purchases,
refunds) until the ledger holds --transfers transfers, sets the balances from the
transfers, then times in the same run, each the median of --repeat:

- each page, through Django's test client (view, queries, template);
- the raw SQL aggregates that page needs, run by hand on the same connection;

and prints the ratio page ÷ raw SQL (goal: ≤ 3×).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisse.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
for _name in ("PIN_HASH_KEY", "ACTIVATION_CODE_KEY", "REPORT_DIGEST_KEY", "RESEARCH_PSEUDONYM_KEY"):
    os.environ.setdefault(_name, f"bench-only-{_name.lower()}")
os.environ.setdefault("DEBUG", "0")
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    sys.exit("bench/dashboard.py runs on PostgreSQL: set DATABASE_URL=postgres:///caisse_bench")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from allocations import periods  # noqa: E402
from coordination import reports  # noqa: E402
from members.models import ContributionPayment, Household  # noqa: E402
from vendors.models import Vendor  # noqa: E402


def sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else None


def _defaults(model, own: dict) -> tuple[list[str], list[str], list]:
    columns, values, params = list(own), list(own.values()), []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.null or field.column in own:
            continue
        columns.append(field.column)
        values.append("%s")
        default = field.get_default() if field.has_default() else ""
        params.append(default() if callable(default) else default)
    return columns, values, params


def build(households: int, vendors: int, transfers: int) -> None:
    sql("TRUNCATE vendors_settlement, vendors_settlementrun, vendors_refund, vendors_purchase, "
        "vendors_idempotencyrecord, vendors_statuschange, vendors_ibanchange, vendors_apikey, vendors_vendorstaff, "
        "members_contributionpayment, allocations_grantreceipt, allocations_issuancechunk, allocations_issuancerun, "
        "allocations_transfer, members_household, vendors_vendor RESTART IDENTITY CASCADE")
    sql("DELETE FROM allocations_account WHERE code IS NULL")
    sql("UPDATE allocations_account SET balance = 0")
    ids = dict(sql("SELECT code, id FROM allocations_account WHERE code IS NOT NULL"))
    months = [periods.shift(periods.current(), -n) for n in range(11, -1, -1)]
    districts = ["Mosson", "Celleneuve", "Figuerolles", "Près d'Arènes", "Croix d'Argent", "Hôpitaux-Facultés",
                 "Port Marianne", "Beaux-Arts"]
    columns, values, params = _defaults(Household, {
        "reference": "'B' || w.id", "status": "'active'", "wallet_id": "w.id", "adults": "1", "children": "0",
        "joined_on": "%s::date", "district": "(ARRAY[" + ", ".join(["%s"] * len(districts)) + "])[1 + w.id %% 8]",
        "income_bracket": "(ARRAY['low','modest','middle','high'])[1 + w.id %% 4]",
    })
    sql(f"""WITH w AS (INSERT INTO allocations_account (kind, unit, balance, created_at)
                     SELECT 'wallet', 'UNIT', 0, now() FROM generate_series(1, %s) RETURNING id)
            INSERT INTO members_household ({", ".join(columns)}) SELECT {", ".join(values)} FROM w""",
        [households, f"{months[0]}-01", *districts, *params])
    columns, values, params = _defaults(Vendor, {
        "slug": "'v' || w.id", "display_name": "'Vendor ' || w.id", "status": "'approved'", "account_id": "w.id",
        "kind": "(ARRAY['market','farm','grocery','cooperative','bakery','butcher','other'])[1 + w.id %% 7]",
    })
    sql(f"""WITH w AS (INSERT INTO allocations_account (kind, unit, balance, created_at)
                     SELECT 'vendor', 'UNIT', 0, now() FROM generate_series(1, %s) RETURNING id)
            INSERT INTO vendors_vendor ({", ".join(columns)}) SELECT {", ".join(values)} FROM w""",
        [vendors, *params])
    start = f"{months[0]}-01"
    # Allocations: each household each month.
    sql("""INSERT INTO allocations_transfer (debit_id, credit_id, unit, amount, kind, idempotency_key, memo, created_at)
           SELECT %s, h.wallet_id, 'UNIT', 10000, 'allocation', 'allocation:' || h.wallet_id || ':' || m, '',
                  (m || '-01')::date + interval '1 hour'
           FROM members_household h CROSS JOIN unnest(%s::text[]) m""", [ids["issuance"], months])
    # Contributions: each household each month, with its payment row (every other column
    # at its model default, so that a new column cannot break the benchmark).
    columns, values, params = _defaults(ContributionPayment, {
        "household_id": "split_part(memo, ':', 1)::bigint", "amount": "amount", "method": "'sepa'",
        "period": "split_part(memo, ':', 2)", "paid_on": "created_at::date", "reference": "''",
        "mandate_reference": "'M-' || split_part(memo, ':', 1)", "transfer_id": "id", "recorded_at": "created_at",
    })
    sql(f"""WITH t AS (
             INSERT INTO allocations_transfer (debit_id, credit_id, unit, amount, kind, idempotency_key, memo, created_at)
             SELECT %s, %s, 'EUR', 100 + (h.id %% 40) * 100, 'contribution', 'contribution:' || h.id || ':' || m,
                    h.id::text || ':' || m, (m || '-05')::date + interval '10 hours'
             FROM members_household h CROSS JOIN unnest(%s::text[]) m
             RETURNING id, amount, memo, created_at)
           INSERT INTO members_contributionpayment ({", ".join(columns)}) SELECT {", ".join(values)} FROM t""",
        [ids["contributions"], ids["treasury"], months, *params])
    # Grants: one a month.
    sql("""INSERT INTO allocations_transfer (debit_id, credit_id, unit, amount, kind, idempotency_key, memo, created_at)
           SELECT %s, %s, 'EUR', %s, 'grant', 'bench-grant:' || m, '', (m || '-02')::date FROM unnest(%s::text[]) m""",
        [ids["grants"], ids["treasury"], households * 6000, months])
    (so_far,) = sql("SELECT COUNT(*) FROM allocations_transfer")[0]
    purchases = max(transfers - so_far, 0)
    # Purchases spread over the window, 2 % of them followed by a refund.
    sql("""INSERT INTO allocations_transfer (debit_id, credit_id, unit, amount, kind, idempotency_key, memo, created_at)
           SELECT h.wallet_id, v.account_id, 'UNIT', 500, CASE WHEN g %% 50 = 0 THEN 'refund' ELSE 'purchase' END,
                  NULL, '', %s::timestamptz + (g::float / %s) * (now() - %s::timestamptz)
           FROM generate_series(1, %s) g
           JOIN members_household h ON h.id = 1 + (g::bigint * 7919) %% %s
           JOIN vendors_vendor v ON v.id = 1 + (g::bigint * 104729) %% %s""",
        [start, purchases, start, purchases, households, vendors])
    # Refunds go the other way.
    sql("ALTER TABLE allocations_transfer DISABLE TRIGGER USER")
    sql("UPDATE allocations_transfer SET debit_id = credit_id, credit_id = debit_id WHERE kind = 'refund'")
    sql("ALTER TABLE allocations_transfer ENABLE TRIGGER USER")
    sql("""UPDATE allocations_account a SET balance = s.net FROM (
             SELECT id, SUM(net) AS net FROM (
               SELECT credit_id AS id, amount AS net FROM allocations_transfer
               UNION ALL SELECT debit_id, -amount FROM allocations_transfer) x GROUP BY id) s
           WHERE a.id = s.id""")
    sql("VACUUM ANALYZE")


RAW = {
    # What the dashboard reads, by hand: the same aggregates, no ORM, no template.
    "dashboard": [
        ("SELECT code, balance FROM allocations_account WHERE code IS NOT NULL", []),
        ("SELECT SUM(balance) FROM allocations_account WHERE kind = 'vendor'", []),
        ("SELECT COUNT(*) * 10000 FROM members_household WHERE status = 'active'", []),
        ("""SELECT date_trunc('month', created_at AT TIME ZONE %s), kind, SUM(amount) FROM allocations_transfer
            WHERE created_at >= %s AND kind IN ('allocation','purchase','refund','contribution','grant','reimbursement')
            GROUP BY 1, 2""", ["tz", "start"]),
        ("""SELECT v.kind, SUM(CASE WHEN t.kind = 'purchase' THEN t.amount ELSE -t.amount END),
                   COUNT(DISTINCT CASE WHEN t.kind = 'purchase' THEN t.debit_id ELSE t.credit_id END)
            FROM allocations_transfer t JOIN vendors_vendor v
              ON v.account_id = CASE WHEN t.kind = 'purchase' THEN t.credit_id ELSE t.debit_id END
            WHERE t.created_at >= %s AND t.kind IN ('purchase','refund') GROUP BY v.kind""", ["start"]),
        ("""SELECT h.district, SUM(CASE WHEN t.kind = 'purchase' THEN t.amount ELSE -t.amount END), COUNT(DISTINCT h.id)
            FROM allocations_transfer t JOIN members_household h
              ON h.wallet_id = CASE WHEN t.kind = 'purchase' THEN t.debit_id ELSE t.credit_id END
            WHERE t.created_at >= %s AND t.kind IN ('purchase','refund') GROUP BY h.district""", ["start"]),
        ("""SELECT h.income_bracket, SUM(p.amount), COUNT(DISTINCT p.household_id), COUNT(*)
            FROM members_contributionpayment p JOIN members_household h ON h.id = p.household_id
            WHERE p.period >= %s GROUP BY 1""", ["first_period"]),
        ("SELECT COUNT(*) FROM members_household WHERE status = 'active'", []),
        ("""SELECT date_trunc('month', joined_on), COUNT(*) FROM members_household WHERE joined_on >= %s
            GROUP BY 1""", ["first_day"]),
    ],
}
RAW["trends.csv"] = [RAW["dashboard"][3]]
RAW["districts.csv"] = [RAW["dashboard"][5]]
PAGES = {"dashboard": "/coordination/", "trends.csv": "/coordination/export/trends.csv",
         "districts.csv": "/coordination/export/districts.csv"}


def timed(fn, repeat: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=1_000_000)
    parser.add_argument("--households", type=int, default=5_000)
    parser.add_argument("--vendors", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-build", action="store_true", help="reuse the data of the previous run")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if not args.no_build:
        t0 = time.perf_counter()
        build(args.households, args.vendors, args.transfers)
        print(f"built in {time.perf_counter() - t0:.1f}s")
    (count,) = sql("SELECT COUNT(*) FROM allocations_transfer")[0]
    print(f"{count} transfers, {args.households} households, {args.vendors} vendors")

    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from users import second_factor

    user, _created = get_user_model().objects.get_or_create(username="bench-coordinator")
    user.groups.add(Group.objects.get_or_create(name="coordinator")[0])
    password = secrets.token_urlsafe(16)
    user.set_password(password)
    user.save()
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    secret = get_adapter().decrypt(totp.data["secret"]) if totp else generate_totp_secret()
    if totp is None:
        TOTP.activate(user, secret)
    settings.ALLOWED_HOSTS = ["*"]
    client = Client(HTTP_HOST="localhost")
    # Signed in as a coordinator is: password, then the code (a session without it is signed out).
    client.post("/accounts/login/", {"login": user.username, "password": password}, secure=True)
    client.post("/accounts/2fa/authenticate/", {"code": second_factor.current_code(secret)}, secure=True)

    labels, start = reports.window()
    values = {"tz": settings.TIME_ZONE, "start": start, "first_period": labels[0],
              "first_day": periods.parse(labels[0])}

    def raw(queries):
        def run():
            for statement, names in queries:
                sql(statement, [values[name] for name in names])
        return run

    print(f"{'page':<16}{'page ms':>10}{'raw SQL ms':>12}{'ratio':>8}")
    for name, url in PAGES.items():
        def page():
            response = client.get(url, secure=True)  # noqa: B023 (timed within this iteration)
            assert response.status_code == 200, response.status_code
        page_s, raw_s = timed(page, args.repeat), timed(raw(RAW[name]), args.repeat)
        print(f"{name:<16}{page_s * 1000:>10.1f}{raw_s * 1000:>12.1f}{page_s / raw_s:>8.2f}")


if __name__ == "__main__":
    main()
