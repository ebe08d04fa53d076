"""gunicorn's settings for Caisse, read from the working directory by `gunicorn caisse.wsgi`
(make run, docker-compose and bench/purchases.py all start it from here).

Threaded workers keep connections alive between requests: a till that pays all day
keeps one connection open instead of a TCP handshake per sale. Measured with
bench/purchases.py on 2 cores, cores + 1 workers of 2 threads carried the most
payments; WEB_CONCURRENCY and GUNICORN_THREADS override both figures.
"""

import multiprocessing
import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "30"))
