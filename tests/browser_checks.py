"""What every journey test does on each page it opens: axe-core (every rule, any impact
fails the test) and a screenshot kept in the test run's output for people to look at.

The screenshots go to $TEST_OUTPUT_DIR/journeys (default: test-output/journeys in the
repository, ignored by git)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

_AXE = Axe()
OUTPUT = Path(os.environ.get("TEST_OUTPUT_DIR", Path(__file__).resolve().parent.parent / "test-output")) / "journeys"


def axe_clean(page) -> None:
    """Fail on any axe-core violation, naming the rule and the elements at fault."""
    violations = _AXE.run(page).response["violations"]
    found = [
        {"rule": v["id"], "impact": v["impact"], "help": v["help"], "where": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
    ]
    assert not found, f"axe-core on {page.url}:\n" + json.dumps(found, indent=1, ensure_ascii=False)


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def visit(page, name: str) -> None:
    """The page as it stands: axe-clean, no sideways scrolling, and kept as a picture."""
    page.wait_for_load_state("load")
    screenshot(page, name)
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{page.url} scrolls sideways"
    axe_clean(page)


def transferred_bytes(page) -> int:
    """What the page cost the network: the document and everything it loaded (same origin)."""
    return page.evaluate(
        "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".reduce((total, e) => total + (e.transferSize || e.encodedBodySize || 0), 0)"
    )
