"""The audit trail (issue 8): every change to the fund's rules, vendors' status and bank
details, households' status, committee seats and permissions, recorded by PostgreSQL
triggers (django-pghistory) with who, when, and before/after — bulk updates included.

Not recorded: ledger transfers (immutable already, and a trigger would slow the hot
paths) and governance ballots, receipts and electors (a secret ballot is secret from
everyone: a trigger on them would write who voted, and when, beside each ballot).

The event models live here, on proxies of the tracked models, so that the tracked apps
keep their models untouched.
"""
