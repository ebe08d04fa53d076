"""pghistory's context middleware (who made a change, from which page), on PostgreSQL only:
pghistory prefixes each statement with PostgreSQL's set_config(), which SQLite (the
zero-config demo, where no trigger records anything anyway) does not have.

Reads (GET, HEAD) and the tills' API change nothing the trail tracks: they are left
alone, so that the payment's hot path carries no extra statement."""

from django.db import connection
from pghistory.middleware import HistoryMiddleware as PgHistoryMiddleware

from kernel.web import API_PREFIX


class HistoryMiddleware(PgHistoryMiddleware):
    def __call__(self, request):
        if (
            connection.vendor != "postgresql"
            or request.method in ("GET", "HEAD", "OPTIONS")
            or request.path_info.startswith(API_PREFIX)
        ):
            return self.get_response(request)
        return super().__call__(request)
