"""The picture in docs/architecture.md is enforced: import-linter's contracts
(pyproject.toml) fail the build when an app imports what it must not."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["caisse", "kernel", "users", "allocations", "members", "vendors", "governance", "coordination", "demo"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy_of_the_tree(destination: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, destination / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    # In the copy's folder: its packages come first on the path, before the installed ones.
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    if not LINT_IMPORTS.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    return _copy_of_the_tree(tmp_path_factory.mktemp("tree"))


def test_the_contracts_hold_on_the_tree_as_it_is(tree):
    result = _lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_ledger_importing_a_shop_breaks_the_build(tree):
    ledger = tree / "allocations" / "ledger.py"
    original = ledger.read_text()
    ledger.write_text(original + "\nfrom vendors.models import Vendor  # noqa\n")
    try:
        result = _lint_imports(tree)
    finally:
        ledger.write_text(original)
    assert result.returncode != 0
    assert "The ledger knows accounts, not people or shops BROKEN" in result.stdout
    assert "allocations.ledger -> vendors.models" in result.stdout


def test_members_importing_vendors_breaks_the_build(tree):
    portal = tree / "members" / "portal.py"
    original = portal.read_text()
    portal.write_text(original + "\nfrom vendors.selectors import approved_vendors  # noqa\n")
    try:
        result = _lint_imports(tree)
    finally:
        portal.write_text(original)
    assert result.returncode != 0
    assert "Members imports neither vendors nor governance BROKEN" in result.stdout


def test_make_test_runs_the_linters_before_the_suite():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert recipe.index("lint-imports") < recipe.index("pytest")
    assert recipe.index("ruff check") < recipe.index("pytest")
    assert recipe.index("mypy") < recipe.index("pytest")
