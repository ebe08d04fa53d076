# Caisse: the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
export PORT

.PHONY: run test install install-test check-python clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
		|| { echo "Caisse needs Python 3.11 or newer (found: $$($(PYTHON) --version 2>&1)). Set PYTHON=python3.11"; exit 1; }

$(VENV)/bin/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: migrate, load the demo fund, start web + Celery worker + Celery beat (Ctrl-C stops all)
run: $(VENV)/.installed
	$(VENV)/bin/python bin/run.py

## make test: the import contracts, ruff, the scoped mypy and models against migrations, then the whole suite against PostgreSQL and Redis (DATABASE_URL / REDIS_URL; embedded ones where unset)
test: $(VENV)/.installed-test
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	DJANGO_SETTINGS_MODULE=tests.typecheck_settings $(VENV)/bin/python manage.py makemigrations --check --dry-run
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var staticfiles demo-credentials.json
