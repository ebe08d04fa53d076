"""pghistory's context middleware (who made a change, from which page).

Reads (GET, HEAD) and the tills' API change nothing the trail tracks: they are left
alone, so that the payment's hot path carries no extra statement."""

from pghistory.middleware import HistoryMiddleware as PgHistoryMiddleware

from caisse.middleware import API_PREFIX


class HistoryMiddleware(PgHistoryMiddleware):
    def __call__(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS") or request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)
