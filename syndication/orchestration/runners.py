"""Where translation batches run: in the flow's process (default) or fanned out over Dask.

``[orchestration] task_runner = "dask"`` sends each target language's translation batch to a Dask
cluster through ``prefect-dask`` (``pip install 'syndication[dask]'``): an existing one at
``dask_address`` (``tcp://scheduler:8786``; its workers need this package, the config and access to
the store — PostgreSQL, or a shared SQLite file on one machine), or a local cluster of
``dask_workers`` processes started for the run. Languages are independent (separate engine calls,
separate rows), so they translate side by side; within a language the batch stays one engine call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syndication.errors import ConfigError

if TYPE_CHECKING:
    from syndication.settings import Settings


def translation_runner(settings: Settings) -> Any | None:
    """A started-on-enter ``DaskTaskRunner`` when configured, else ``None`` (run in the flow)."""
    options = settings.orchestration
    if options.task_runner != "dask":
        return None
    try:
        from prefect_dask.task_runners import DaskTaskRunner
    except ImportError as exc:
        raise ConfigError(
            "[orchestration] task_runner = 'dask' needs prefect-dask on every worker: "
            "pip install 'syndication[dask]' (or set task_runner = 'default')"
        ) from exc
    if options.dask_address:
        return DaskTaskRunner(address=options.dask_address)
    # One thread per worker process: an engine call keeps a core busy, and CTranslate2 and
    # Apertium do their own threading.
    return DaskTaskRunner(
        cluster_kwargs={"n_workers": options.dask_workers, "threads_per_worker": 1, "dashboard_address": None}
    )


def translate_batches(
    task: Any, config: str | None, languages: list[str] | None, **parameters: Any
) -> list[dict[str, Any]]:
    """Run the translate stage task: once for all languages (default), or one task per target
    language on the Dask cluster. Returns each task's summary data."""
    from syndication.settings import load_settings

    settings = load_settings(config)
    runner = translation_runner(settings)
    if runner is None:
        return [task(config=config, languages=languages, **parameters)]
    configured = list(settings.translation.targets)
    unknown = sorted(set(languages or ()) - set(configured))
    if unknown:
        raise ConfigError(
            f"language(s) {', '.join(unknown)} not among the configured targets ({', '.join(configured)})"
        )
    targets = [lang for lang in configured if languages is None or lang in languages]
    with runner:
        futures = [
            runner.submit(task, parameters={"config": config, "languages": [lang], **parameters})
            for lang in targets
        ]
        return [future.result() for future in futures]
