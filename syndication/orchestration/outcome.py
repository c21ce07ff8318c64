"""A run whose work partly failed does not end plain ``Completed``.

Every flow returns its summary through :func:`run_outcome`: unchanged when all went well, else as a
Prefect ``Failed`` state that carries the same summary as its data and says what failed in its
message ("3 deliveries and 1 feed failed"). Prefect's automations and notifications match that
state like any other failure; the summary artifact lists the items.

A ``Failed`` state returned by a flow makes a plain call of that flow raise, so callers that want the
summary either way (the CLI, ``python -m flows.*``) go through :func:`call_flow`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from syndication.summary import RunSummary


def run_outcome(summary: dict[str, Any]) -> Any:
    """What a flow returns: ``summary``, or a ``Failed`` state carrying it when work failed."""
    result = RunSummary.from_dict(summary)
    if not result.failed:
        return summary
    from prefect.states import Failed

    return Failed(message=f"{result.failure_headline()}; see the run's summary artifact", data=summary)


def call_flow(flow: Callable[..., Any], **parameters: Any) -> dict[str, Any]:
    """Run ``flow`` and return its summary, also when the run ended ``Failed`` because some of its
    work failed. A run that failed for another reason (an exception) raises that exception."""
    state = flow(**parameters, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):
        raise result
    if not isinstance(result, dict):
        raise RuntimeError(f"the {getattr(flow, 'name', 'flow')} run ended {state.name}: {state.message}")
    return result


def exit_status(summary: dict[str, Any]) -> int:
    """The process exit status for ``python -m flows.*``: 1 when work failed, else 0."""
    return 1 if RunSummary.from_dict(summary).failed else 0
