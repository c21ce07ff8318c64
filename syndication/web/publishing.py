"""What an approval sets in motion: a Prefect deployment run, or nothing until the next publish.

With a Prefect server configured (``PREFECT_API_URL`` in the app's environment) the app starts the
``publish`` deployment for the approved post and returns at once (``timeout=0``); the worker sends it.
Without one, the approval waits in the database for the next ``syndicate run``/``publish`` — or for an
administrator's "publish now", which runs the deliver stage in this process for that one post.
The approval itself is committed before any of this, so a failure here never loses a decision.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from syndication.context import RunContext
from syndication.store import ReviewEvent
from syndication.summary import RunSummary

log = logging.getLogger("syndication.web")

Outcome = Literal["started", "queued", "failed"]
DeploymentRunner = Callable[..., Any]
"""``prefect.deployments.run_deployment`` or a stand-in with its signature."""


@dataclass(frozen=True)
class PublishResult:
    outcome: Outcome
    message: str


class Publisher:
    def __init__(
        self,
        ctx: RunContext,
        *,
        prefect_api_url: str | None = None,
        run_deployment: DeploymentRunner | None = None,
    ) -> None:
        self.ctx = ctx
        self.prefect_api_url = prefect_api_url
        self._run_deployment = run_deployment

    @classmethod
    def from_environment(cls, ctx: RunContext) -> Publisher:
        return cls(ctx, prefect_api_url=os.environ.get("PREFECT_API_URL") or None)

    @property
    def uses_prefect(self) -> bool:
        return bool(self.prefect_api_url)

    @property
    def deployment(self) -> str:
        return self.ctx.settings.web.prefect_publish_deployment

    def after_approval(self, *, translation_id: int, post_id: int, actor: str) -> PublishResult:
        if not self.uses_prefect:
            return PublishResult("queued", "It goes out with the next scheduled publish run.")
        parameters = {"post_ids": [post_id]}
        try:
            if self._run_deployment is not None:
                flow_run = self._run_deployment(name=self.deployment, parameters=parameters, timeout=0)
            else:
                flow_run = self._start_deployment(parameters)
        except Exception as exc:  # a Prefect or network failure must not undo the approval
            log.warning("could not start the %s deployment for post %s: %s", self.deployment, post_id, exc)
            return PublishResult(
                "failed",
                f"Approved, but the Prefect deployment {self.deployment!r} could not be started ({exc}); "
                "the next scheduled publish run sends it.",
            )
        name = getattr(flow_run, "name", None) or "?"
        run_id = getattr(flow_run, "id", None)
        with self.ctx.store.session() as session:
            session.add(
                ReviewEvent(
                    translation_id=translation_id,
                    action="publish_started",
                    actor=actor,
                    comment=f"Prefect flow run {name} ({run_id}) of {self.deployment}",
                )
            )
        return PublishResult("started", f"Publishing started: Prefect flow run {name} of {self.deployment}.")

    def _start_deployment(self, parameters: dict[str, Any]) -> Any:
        from prefect.deployments import run_deployment
        from prefect.settings import PREFECT_API_URL, temporary_settings

        # The URL this publisher was made with, whatever Prefect profile or context the request
        # thread happens to have.
        with temporary_settings(updates={PREFECT_API_URL: self.prefect_api_url}):
            return run_deployment(name=self.deployment, parameters=parameters, timeout=0)

    def publish_now(self, *, translation_id: int, post_id: int, actor: str) -> RunSummary:
        """Run the deliver stage here, for this post only (a single-machine setup without Prefect)."""
        from syndication.pipeline import deliver

        run = RunContext(
            settings=self.ctx.settings,
            store=self.ctx.store,
            channel_overrides=self.ctx.channel_overrides,
        )
        deliver(run, post_ids=[post_id])
        summary = run.summary
        with self.ctx.store.session() as session:
            session.add(
                ReviewEvent(
                    translation_id=translation_id,
                    action="publish_now",
                    actor=actor,
                    comment=summary.delivery_text(),
                )
            )
        return summary
