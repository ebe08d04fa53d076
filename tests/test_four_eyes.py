"""One four-eyes mechanism (allocations.approvals on the generic Approval), whose steps
each app registers at startup (kernel.four_eyes): the mechanism imports no app."""

import ast
import pathlib

import pytest

from kernel import four_eyes

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_every_step_of_the_fund_is_registered_by_its_app():
    assert {"settlement_payment", "forced_issuance", "reversal", "iban_change"} <= set(four_eyes.actions())
    assert four_eyes.step("iban_change").execute == "vendors.services.execute_iban_change"


def test_a_step_nobody_registered_cannot_be_asked_for():
    with pytest.raises(four_eyes.UnknownStep):
        four_eyes.step("transfer_everything")


def test_two_apps_cannot_claim_one_step():
    with pytest.raises(ValueError):
        four_eyes.register("reversal", label="x", execute="elsewhere.execute")


def test_the_kernel_and_the_mechanism_import_no_domain_app_for_the_steps():
    def imported(path):
        tree = ast.parse((ROOT / path).read_text())
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module)
        return {name.split(".")[0] for name in names}

    apps = {"allocations", "members", "vendors", "governance", "users", "coordination", "demo", "caisse"}
    for module in (ROOT / "kernel").glob("*.py"):
        assert imported(module.relative_to(ROOT)) & apps == set(), module.name
    assert "vendors" not in imported("allocations/approvals.py")
    assert '"vendors.' not in (ROOT / "allocations/approvals.py").read_text()  # no dotted path to a step either
