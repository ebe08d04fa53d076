import os
import shutil
import uuid

import pytest
from django.core.management import call_command

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags this closed network needs: no background calls home, no sandbox as root.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def _own_cache_prefix(settings):
    """Each test its own Redis key prefix: rate limits and caches never leak between tests."""
    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches
    # As in a running fund, the fund's settings are in the cache (allocations.fund.cached):
    # those of the test database, which holds no row of them yet (the environment's values).
    # Pages then make the same queries whatever test ran before; a test that changes the
    # settings does it through allocations.fund, and its commit (django_capture_on_commit_callbacks).
    from allocations import fund

    fund.publish_defaults()


def set_fund_settings(**values):
    """Change the fund's settings as a coordinator does, committed (the cache then holds them
    and the till's copy is dropped): `set_fund_settings(max_purchase_cents=2_000)`."""
    from django.db import connection
    from django.test import TestCase

    from allocations import fund

    with TestCase.captureOnCommitCallbacks(using=connection.alias, execute=True):
        row = fund.update_settings(by=None, **values)
    fund.forget_process_copy()
    return row


@pytest.fixture
def mail_after_commit(django_capture_on_commit_callbacks):
    """E-mail leaves by a Celery task after the commit (kernel.mail): this runs the
    commit hooks the test's transaction holds back, and their tasks in the test's process.
    Use as `with mail_after_commit(): ...`; mail.outbox then holds what was sent."""
    from contextlib import contextmanager

    from caisse.celery import app

    @contextmanager
    def sent():
        eager = app.conf.task_always_eager
        app.conf.task_always_eager = True
        try:
            with django_capture_on_commit_callbacks(execute=True):
                yield
        finally:
            app.conf.task_always_eager = eager

    return sent


@pytest.fixture
def ledger_is_clean():
    """Call after a test's money movements: check_ledger must find nothing wrong."""

    def check():
        call_command("check_ledger")

    return check


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's chromium is not installed ({CHROMIUM}); `apt-get install chromium` to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def tasks_run_at_once():
    """Celery tasks queued by the live server (e-mail after commit: kernel.mail) run in its
    thread at once, so that a browser test reads mail.outbox without a worker."""
    from caisse.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


@pytest.fixture
def page(browser, live_server):
    """A page in a fresh context, the size of a cheap phone, in French."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.live_server_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def admin_user(db, django_user_model, django_username_field):
    """pytest-django's superuser, with the second factor every staff member must have."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = django_user_model._default_manager.create_superuser(
        **{django_username_field: "admin"}, email="admin@example.com", password="password"
    )
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture(autouse=True)
def _fund_language():
    """Each test starts in the fund's language: a request in English in an earlier test
    must not leave its language active for the services a later test calls."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's, signed in as a session that passed the second factor."""
    from .staff import log_in_staff

    return log_in_staff(client, admin_user)


def restore_rows_the_migrations_wrote() -> None:
    """A transactional test ends with a flush, which takes the rows the data migrations
    wrote (the first fund rules, the committee's policies): write them again, as the
    migrations do, for a test that needs them (idempotent)."""
    import importlib

    from django.apps import apps

    importlib.import_module("allocations.migrations.0005_initial_fund_rules").forward(apps, None)
    from governance import proposals
    from governance.models import Kind

    for kind in Kind.values:
        proposals.policy_for(kind)
