"""Everything a stage needs, built once per run and handed down (no globals, no I/O at import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndication import registry
from syndication.budget import RunBudget
from syndication.errors import ConfigError
from syndication.settings import Settings, channel_languages, load_settings
from syndication.store import Store, open_store
from syndication.summary import RunSummary

if TYPE_CHECKING:
    from syndication.deliveries.channel import Channel
    from syndication.fetch import Fetcher
    from syndication.translations.engine import TranslationEngine
    from syndication.translations.glossary import Glossary


@dataclass
class RunContext:
    settings: Settings
    store: Store
    dry_run: bool = False
    summary: RunSummary = field(default_factory=RunSummary)
    budget: RunBudget = field(default_factory=lambda: RunBudget(None))
    """The run's time budget (``fetch.run_budget``) that the poll and extract loops check; none
    unless the run says when it started (``open(started_at=...)``): a backfill is long on purpose."""
    fetcher_override: Fetcher | None = None
    engine_overrides: dict[str, TranslationEngine] = field(default_factory=dict)
    channel_overrides: dict[str, Channel] = field(default_factory=dict)
    _fetcher: Fetcher | None = None
    _engines: dict[str, TranslationEngine] = field(default_factory=dict)
    _channels: dict[str, Channel] | None = None
    _channel_configs: dict[str, tuple[dict[str, Any], dict[str, str]]] = field(default_factory=dict)
    _fingerprints: dict[str, str] = field(default_factory=dict)
    _glossary: Glossary | None = None
    _glossary_loaded: bool = False

    @classmethod
    def open(
        cls, config: str | Path | None = None, *, dry_run: bool = False, started_at: float | None = None
    ) -> RunContext:
        """``started_at`` (``time.time()``): when a scheduled run began (the ``syndicate`` flow
        passes it to each stage task); it gets ``fetch.run_budget`` seconds from then."""
        settings = load_settings(config)
        return cls(
            settings=settings,
            store=open_store(settings.store_url()),
            dry_run=dry_run,
            budget=RunBudget.since(started_at, settings.fetch.run_budget if started_at is not None else None),
        )

    def fetcher(self) -> Fetcher:
        if self.fetcher_override is not None:
            return self.fetcher_override
        if self._fetcher is None:
            from syndication.fetch import Fetcher

            self._fetcher = Fetcher(self.settings.fetch, budget=self.budget)
        return self._fetcher

    def engine(self, lang: str) -> TranslationEngine:
        """The engine configured for a target language (built once per run)."""
        name = self.settings.engine_for(lang)
        if name in self.engine_overrides:
            return self.engine_overrides[name]
        if name not in self._engines:
            from syndication.translations.engine_choice import engine_spec

            engine_type, options = engine_spec(self.settings, name)
            factory = registry.load(registry.ENGINE_GROUP, engine_type)
            self._engines[name] = factory(options)
        return self._engines[name]

    def glossary(self) -> Glossary | None:
        if not self._glossary_loaded:
            from syndication.translations.glossary import configured_glossary

            # Marked loaded only after success: a broken glossary must fail every language, not
            # just the first (the next would otherwise translate without it).
            self._glossary = configured_glossary(self.settings)
            self._glossary_loaded = True
        return self._glossary

    def channels(self) -> dict[str, Channel]:
        """Enabled channels by name, each built with its secrets from the environment."""
        if self._channels is None:
            from syndication.deliveries.channel import ChannelContext

            built: dict[str, Channel] = {}
            for name, config in self.settings.channels.items():
                if not config.enabled:
                    continue
                if name in self.channel_overrides:
                    built[name] = self.channel_overrides[name]
                    continue
                factory = registry.load(registry.CHANNEL_GROUP, config.type)
                options = config.model_dump()
                secrets = channel_secrets(name, options)
                self._channel_configs[name] = (dict(options), dict(secrets))
                context = ChannelContext(
                    name=name,
                    config=options,
                    secrets=secrets,
                    base_dir=self.settings.base_dir,
                    dry_run=self.dry_run,
                    store=self.store,
                )
                built[name] = factory(context)
            self._channels = built
        return self._channels

    def channel_fingerprint(self, name: str) -> str | None:
        """The channel's configuration, secrets included, as a fingerprint (see
        ``deliveries.fingerprint``); None for a channel handed in ready-made (``channel_overrides``)."""
        if name not in self._fingerprints:
            self.channels()
            config = self._channel_configs.get(name)
            if config is None:
                return None
            from syndication.deliveries.fingerprint import channel_fingerprint

            self._fingerprints[name] = channel_fingerprint(name, *config)
        return self._fingerprints[name]

    def channel_languages(self, channel: str) -> list[str]:
        return channel_languages(self.settings, channel)

    def close(self) -> None:
        self.store.dispose()


def channel_secrets(name: str, options: dict[str, Any]) -> dict[str, str]:
    """Secrets for a channel, taken out of its options so they are never rendered or logged:
    ``SYNDICATION__CHANNELS__<NAME>__<KEY>`` variables (already overlaid by ``load_settings`` as
    ``SecretStr``), or the Prefect Secret block named in ``<key>_block``
    (e.g. ``password_block = "partner-no-password"``)."""
    from pydantic import SecretStr

    secrets: dict[str, str] = {}
    for key, value in list(options.items()):
        if isinstance(value, SecretStr):
            secrets[key] = value.get_secret_value()
            del options[key]
        elif key.endswith("_block") and isinstance(value, str):
            secrets[key[: -len("_block")]] = _prefect_secret(value, channel=name)
    return secrets


def _prefect_secret(block: str, *, channel: str) -> str:
    try:
        from prefect.blocks.system import Secret

        value = Secret.load(block).get()  # type: ignore[union-attr]
    except Exception as exc:
        raise ConfigError(
            f"cannot load the Prefect Secret block {block!r}: {exc}; create it with "
            f"`prefect block create secret` or set the secret as an environment variable",
            channel=channel,
        ) from exc
    return str(value)
