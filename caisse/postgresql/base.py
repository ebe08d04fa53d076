"""Django's PostgreSQL backend, with its per-request health check made only when a
connection has been idle.

Django's CONN_HEALTH_CHECKS asks a persistent connection `SELECT 1` at the start of every
request that uses it: one more round trip for each payment at a till. The connections a
restarted or failed-over server leaves broken are the ones that sat idle through it, so
a connection that answered a request within the last HEALTH_CHECK_AFTER_IDLE seconds is
trusted without asking. Should the server go away in that second, the request fails as
any request in flight would (the API answers 503 and a till retries under the same
Idempotency-Key), and Django closes the connection at the end of that request.
"""

import time

from django.db.backends.postgresql import base

HEALTH_CHECK_AFTER_IDLE = 1.0  # seconds


class DatabaseWrapper(base.DatabaseWrapper):
    answered_at = float("-inf")

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and time.monotonic() - self.answered_at < HEALTH_CHECK_AFTER_IDLE
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self):
        # Called as each request ends (and starts): a request that used the connection
        # without an error is the proof it answers.
        answered = self.connection is not None and self.health_check_done and not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if answered and self.connection is not None:
            self.answered_at = time.monotonic()
