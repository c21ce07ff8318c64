"""The flows' work without Prefect: what ``syndicate run`` / ``publish`` / ``demo`` do when no Prefect
server is configured.

A flow run needs a Prefect API; without one configured, Prefect (or ``local_server``) starts a
temporary server for the run, which costs 5–10 s (40 s on a busy machine) against well under a
second of pipeline work when nothing changed. So the commands decide first (:func:`use_prefect`):

- a server is configured (``PREFECT_API_URL``, the active Prefect profile, ``prefect.toml``), the
  command says ``--prefect``, or ``[orchestration] task_runner = "dask"`` (a Prefect task runner):
  the flow runs, exactly as before;
- otherwise the same stages run here, in the command's process, through the same
  ``pipeline.run_stage`` calls in the same order the flow's tasks make them (``flows/syndicate.py``:
  the pipeline lock, poll and extract sharing the run's time budget, translate, deliver, then the
  report), with the flow's parameter checks, and the summary is the one the flow would return.

This module imports nothing of Prefect, and neither does anything it calls. What needs Prefect is
left out, and said so: no artifacts and no events (they live on a server), and a ``notify_block``
(a Prefect block, stored on a server) is not loaded: a warning names it and says how to get it.
The time budget, the lock, the summary and the exit status are the flow's.
"""

from __future__ import annotations

import logging
import os
import time
import tomllib
from pathlib import Path
from typing import Any

from syndication.summary import RunSummary

log = logging.getLogger(__name__)

FORCE_PREFECT_VARIABLE = "SYNDICATION_PREFECT"
"""``SYNDICATION_PREFECT=1``: run as Prefect flows as if ``--prefect`` were given (cron lines)."""


# ------------------------------------------------------------------------------------ deciding


def prefect_api_configured(cwd: Path | None = None) -> bool:
    """Whether Prefect would talk to a server of its own choosing (not a temporary one): the
    ``PREFECT_API_URL`` variable, the active profile in ``profiles.toml``, or ``[api] url`` in a
    ``prefect.toml`` / ``[tool.prefect.api]`` in a ``pyproject.toml`` of the working folder. Read
    from the files Prefect reads, without importing Prefect (1–2 s of imports)."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    if _profile_api_url():
        return True
    folder = cwd or Path.cwd()
    for name, keys in (
        ("prefect.toml", ("api", "url")),
        ("pyproject.toml", ("tool", "prefect", "api", "url")),
    ):
        data = _toml(folder / name)
        for key in keys:
            data = data.get(key) if isinstance(data, dict) else None
        if data:
            return True
    return False


def _toml(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _profile_api_url() -> str | None:
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    data = _toml(path)
    if not isinstance(data, dict):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active")
    profile = (data.get("profiles") or {}).get(active) if active else None
    url = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return str(url) if url else None


def use_prefect(settings: Any, *, requested: bool = False, cwd: Path | None = None) -> bool:
    """Run as Prefect flows (``True``) or in this process (``False``); see the module docstring."""
    if requested or os.environ.get(FORCE_PREFECT_VARIABLE, "").strip().lower() in ("1", "true", "yes"):
        return True
    if settings is not None and settings.orchestration.task_runner == "dask":
        return True  # the Dask task runner is a Prefect one
    return prefect_api_configured(cwd)


# ---------------------------------------------------------------------------- flow parameters


def _checked(**values: tuple[Any, Any]) -> dict[str, Any]:
    """Each ``name=(annotated type, value)`` validated as Prefect validates the flow's parameters
    (``flows.params``); a bad one raises ``ParameterError`` naming it, nothing runs."""
    from pydantic import TypeAdapter, ValidationError

    from flows.params import ParameterError

    checked: dict[str, Any] = {}
    problems: list[str] = []
    for name, (annotation, value) in values.items():
        try:
            checked[name] = TypeAdapter(annotation).validate_python(value)
        except ValidationError as exc:
            for error in exc.errors():
                message = str(error["msg"]).removeprefix("Value error, ")
                where = ".".join(str(part) for part in (name, *error["loc"]))
                problems.append(f"{where}: {message}")
    if problems:
        raise ParameterError("; ".join(problems))
    return checked


# ---------------------------------------------------------------------------------------- runs


def syndicate(
    config: str | None = None,
    *,
    feed: str | None = None,
    languages: list[str] | None = None,
    dry_run: bool = False,
    force: bool = False,
    post_url: str | None = None,
) -> dict[str, Any]:
    """``flows.syndicate.syndicate_flow`` in this process; returns its summary data."""
    from flows.params import ConfigPath, FeedRef, Languages, PostURL, SyndicateOptions, check_options
    from syndication.orchestration.pipeline_lock import pipeline_lock
    from syndication.pipeline import run_stage
    from syndication.settings import load_settings

    args = _checked(
        config=(ConfigPath, config),
        feed=(FeedRef, feed),
        languages=(Languages, languages),
        post_url=(PostURL, post_url),
    )
    config, feed, languages, post_url = args["config"], args["feed"], args["languages"], args["post_url"]
    check_options(SyndicateOptions, post_url=post_url, force=force)
    url = load_settings(config).store_url()
    with pipeline_lock(url, holder="syndicate"):
        started_at = time.time()  # the run's time budget counts from the lock, as in the flow
        if post_url:
            parts = [
                run_stage(
                    "syndicate_url", config, dry_run=dry_run, url=post_url, force=force, languages=languages
                )
            ]
        else:
            parts = [
                run_stage("poll", config, feed=feed, started_at=started_at),
                run_stage("extract", config, started_at=started_at),
                run_stage("translate", config, languages=languages),
                run_stage("deliver", config, dry_run=dry_run),
            ]
    summary = RunSummary(dry_run=dry_run)
    for part in parts:
        summary.merge(RunSummary.from_dict(part))
    return report(config, summary, flow="syndicate")


def publish(
    config: str | None = None,
    *,
    dry_run: bool = False,
    channel: str | None = None,
    post_ids: list[int] | None = None,
) -> dict[str, Any]:
    """``flows.publish.publish_flow`` (without ``redeliver``) in this process; no pipeline lock,
    as in the flow: the ledger makes overlapping deliveries safe."""
    from flows.params import ChannelName, ConfigPath, PostIds
    from syndication.pipeline import run_stage

    args = _checked(config=(ConfigPath, config), channel=(ChannelName, channel), post_ids=(PostIds, post_ids))
    part = run_stage(
        "deliver", args["config"], dry_run=dry_run, channel=args["channel"], post_ids=args["post_ids"]
    )
    summary = RunSummary(dry_run=dry_run).merge(RunSummary.from_dict(part))
    return report(args["config"], summary, flow="publish")


def report(config: str | None, summary: RunSummary, *, flow: str) -> dict[str, Any]:
    """``orchestration.report.report_run`` without a server: the review queue counted once, the
    summary's lines in the log; no artifacts, no events, no notification block (warned about)."""
    from syndication.context import RunContext
    from syndication.translations.stage import count_awaiting_review

    ctx = RunContext.open(config)
    try:
        with ctx.store.session() as session:
            summary.awaiting_review = count_awaiting_review(session)
        block = ctx.settings.orchestration.notify_block
        if block:
            from syndication.orchestration.notify import notices

            found = notices(summary, flow=flow, notify_on=ctx.settings.orchestration.notify_on)
            if found:
                # A block is stored on a Prefect server: there is none to load it from.
                log.warning(
                    "not sent through the notification block %r (%s): blocks need a Prefect server; "
                    "set PREFECT_API_URL or run with --prefect",
                    block,
                    "; ".join(notice.subject for notice in found),
                )
        for line in summary.lines():
            log.info("%s", line)
        return summary.as_dict()
    finally:
        ctx.close()
