"""The Prefect automations the repository ships (``contrib/prefect/automations/*.yaml``), applied by
``syndicate deploy``: each is created, or updated to the file when one of that name exists, so
deploying again changes nothing (or brings the server in line with the file).

Today one automation: ``crash-zombie-runs.yaml`` marks a run Crashed when its heartbeats stop.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from prefect.events.schemas.automations import AutomationCore

AUTOMATIONS = Path("contrib") / "prefect" / "automations"


def load_automation(path: Path, **changes: Any) -> AutomationCore:
    """One automation file, validated; ``changes`` replace top-level fields (``name``) or, for
    ``within`` (seconds), the trigger's window (tests use a short one)."""
    from prefect.events.schemas.automations import AutomationCore

    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    within = changes.pop("within", None)
    if within is not None:
        spec["trigger"]["within"] = within
    spec.update(changes)
    automation = AutomationCore.model_validate(spec)
    if within is not None:
        assert automation.trigger.within == timedelta(seconds=within)  # type: ignore[union-attr]
    return automation


def apply_automation(automation: AutomationCore) -> str:
    """Create ``automation`` or update the one of the same name; says which it did."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        existing = client.read_automations_by_name(automation.name)
        if not existing:
            client.create_automation(automation)
            return f"created automation {automation.name!r}"
        for found in existing:
            client.update_automation(found.id, automation)
        return f"updated automation {automation.name!r}"


def apply_automations(root: Path) -> list[str]:
    """Every automation file of the checkout at ``root``."""
    return [apply_automation(load_automation(path)) for path in sorted((root / AUTOMATIONS).glob("*.yaml"))]
