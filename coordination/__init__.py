"""The coordinators' back office: dashboard, books and FEC, research export, grants,
four-eyes approvals, settlement and direct-debit pages, the audit trail and its pages.
It reads every app; no domain app imports it."""
