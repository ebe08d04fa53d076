"""The production shape: deployment checks and the compose file."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k8Jq2-production-like-secret-that-is-long-and-random-Zr4vW9xPq7Lm3Nb6",
    "PIN_HASH_KEY": "Hx7-production-like-pin-hash-key-5Tq2Lm9Zr4vW",
    "ACTIVATION_CODE_KEY": "Qw3-production-like-activation-key-8Nb6Zr4vW",
    "REPORT_DIGEST_KEY": "Jk5-production-like-report-digest-key-2Lm3Zr4vW",
    "RESEARCH_PSEUDONYM_KEY": "Vb8-production-like-research-pseudonym-key-6Tq2Zr4vW",
    "ALLOWED_HOSTS": "caisse.example.org",
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres:///caisse"),
    "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    "DJANGO_SETTINGS_MODULE": "caisse.settings",
}


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_prints_no_warning_in_production_shape():
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**env, **PRODUCTION_ENV})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"})
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_docker_compose_file_validates():
    env = {**os.environ, "POSTGRES_PASSWORD": "p", "SECRET_KEY": "s", "ALLOWED_HOSTS": "caisse.example.org",
           "BACKUP_ENCRYPTION_KEY": "k", "PIN_HASH_KEY": "p", "ACTIVATION_CODE_KEY": "a", "REPORT_DIGEST_KEY": "r",
           "RESEARCH_PSEUDONYM_KEY": "s"}
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    for service in ("postgres", "redis", "web", "worker", "beat"):
        assert f"  {service}:" in result.stdout
    assert "gunicorn" in result.stdout and "healthcheck" in result.stdout
