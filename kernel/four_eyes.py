"""Four eyes: the registry of the steps that take effect only once a second person approves.

The mechanism (allocations.approvals: `request`, `approve`, `refuse`, `require`, on the
generic `Approval` model, kept where its migrations are) knows no step of its own. Each
app registers its steps at startup, in its `AppConfig.ready()`:

    four_eyes.register("settlement_payment", label=_("payment of a settlement run"),
                       execute="vendors.settlements.execute_payment")

`execute` (a callable, or its dotted path, imported on first use) is called with the
approval inside the approval's transaction and returns an outcome text; `refuse`, if
given, is called when the request is refused. The mechanism looks the step up here by
its action, so it imports no app, and a new kind of approval needs no change to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Step:
    action: str
    label: str
    execute: Callable | str
    refuse: Callable | str | None = None

    def _call(self, target, *args, **kwargs):
        function = import_string(target) if isinstance(target, str) else target
        return function(*args, **kwargs)

    def carry_out(self, approval, **kwargs) -> str:
        return self._call(self.execute, approval, **kwargs) or ""

    def refused(self, approval) -> None:
        if self.refuse is not None:
            self._call(self.refuse, approval)


_STEPS: dict[str, Step] = {}


class UnknownStep(LookupError):
    pass


def register(action: str, *, label, execute: Callable | str, refuse: Callable | str | None = None) -> Step:
    """Register what an approval of `action` does. Registering the same action twice
    with another executor is a mistake (two apps claiming one name) and is refused."""
    step = Step(action, label, execute, refuse)
    known = _STEPS.get(action)
    if known is not None and (known.execute, known.refuse) != (execute, refuse):
        raise ValueError(f"four eyes: the step {action!r} is already registered")
    _STEPS[action] = step
    return step


def step(action: str) -> Step:
    try:
        return _STEPS[action]
    except KeyError:
        raise UnknownStep(f"four eyes: no step {action!r} is registered") from None


def label(action: str) -> str:
    known = _STEPS.get(action)
    return str(known.label) if known else action


def actions() -> list[str]:
    return sorted(_STEPS)
