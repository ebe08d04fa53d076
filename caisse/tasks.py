from celery import shared_task
from django.db import connection


@shared_task
def ping() -> str:
    """Proves a worker is consuming the queue and can reach the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "pong"
