FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 COLLECTED_STATIC=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY . .
RUN pip install --no-cache-dir . \
    && SECRET_KEY=build-only DATABASE_URL=postgres://build/none python manage.py collectstatic --noinput
RUN useradd --system --home /app caisse
USER caisse
EXPOSE 8000
CMD ["gunicorn", "caisse.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
