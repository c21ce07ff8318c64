"""The body of every stage task in ``flows/``: one pipeline stage, its log lines in the run log."""

from __future__ import annotations

from syndication.orchestration.runlog import forward_to_run_logger


def run_logged_stage(
    stage: str,
    config: str | None,
    *,
    dry_run: bool = False,
    started_at: float | None = None,
    **options: object,
) -> dict[str, object]:
    """``syndication.pipeline.run_stage`` with the stage's log records forwarded to the Prefect run
    logger (see ``runlog``). Returns the stage's summary as plain data."""
    from syndication.pipeline import run_stage

    with forward_to_run_logger():
        return run_stage(stage, config, dry_run=dry_run, started_at=started_at, **options)
