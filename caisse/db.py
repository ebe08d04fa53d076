"""Small helpers for the hand-written SQL of hot paths."""

from contextlib import contextmanager

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections


def model_order(model, *attnames: str) -> tuple[str, ...]:
    """`attnames` in the model's field order: the order Model.from_db() takes values in
    when only some fields are loaded, and so the order a hand-written SELECT must use."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in attnames)


class _PreparedCursor:
    """The little the hot paths ask of a cursor, on a psycopg cursor with server-side
    binding: each statement is prepared on its first use and then only bound and run."""

    def __init__(self, db, cursor):
        self.db, self.cursor = db, cursor

    def execute(self, sql: str, params=()):
        self.db.validate_no_broken_transaction()
        if self.db.queries_logged:  # tests and DEBUG still see every statement
            self.db.queries_log.append({"sql": sql, "params": params, "time": "0.000"})
        with self.db.wrap_database_errors:
            self.cursor.execute(sql, params, prepare=True)

    def fetchone(self):
        return self.cursor.fetchone()

    def fetchall(self):
        return self.cursor.fetchall()

    @property
    def rowcount(self):
        return self.cursor.rowcount


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS):
    """A cursor for the statements every payment runs, prepared once per database connection.

    Django binds parameters on the client, so PostgreSQL parses and plans each statement
    anew; for the dozen short statements of a payment that was half of the database's
    work (measured with pgbench on the very statements). The statements are the same, in
    the same transaction.
    """
    db = connections[using]
    db.close_if_health_check_failed()
    db.ensure_connection()
    # Django's connections make client-binding cursors by default; this one binds on the server.
    with psycopg.Cursor(db.connection) as raw:
        yield _PreparedCursor(db, raw)
