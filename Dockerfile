FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 COLLECTED_STATIC=1
WORKDIR /app
# pg_dump/pg_restore must be of the server's major (docker-compose.yml: postgres:16):
# Debian's own client is older, so PostgreSQL's apt repository provides it.
ARG PG_MAJOR=16
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsS -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && . /etc/os-release \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt $VERSION_CODENAME-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update && apt-get install -y --no-install-recommends postgresql-client-$PG_MAJOR \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN pip install --no-cache-dir . \
    && SECRET_KEY=build-only PIN_HASH_KEY=build-only ACTIVATION_CODE_KEY=build-only REPORT_DIGEST_KEY=build-only RESEARCH_PSEUDONYM_KEY=build-only DATABASE_URL=postgres://build/none python manage.py collectstatic --noinput
RUN useradd --system --home /app caisse
USER caisse
EXPOSE 8000
CMD ["gunicorn", "caisse.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
