"""Configuration: ``config/syndication.toml`` overlaid with environment variables.

Layering (later wins): built-in defaults → the TOML file → ``SYNDICATION__SECTION__KEY`` variables.
A double underscore descends one level, so ``SYNDICATION__CHANNELS__PARTNER_NO__PASSWORD`` sets
``password`` on the channel named ``partner_no``. Secrets (passwords, tokens, keys) are accepted only
from the environment or a Prefect Secret block; finding one in the TOML is a ``ConfigError``, because a
config file is the thing people commit and paste into issues.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from syndication.errors import ConfigError

ENV_PREFIX = "SYNDICATION__"
DEFAULT_CONFIG_PATH = Path("config/syndication.toml")
LANG_TAGS = {"da", "en", "de", "sv", "nb", "nn", "fr", "es", "it", "nl", "pl", "fi", "is", "uk", "pt"}
SECRET_KEYS = {
    "password", "secret", "secret_key", "token", "api_key", "apikey", "app_password", "smtp_password"
}  # fmt: skip


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreSettings(_Model):
    url: str = "sqlite:///syndication.db"
    """Any SQLAlchemy URL; a relative SQLite path is resolved against the config file's folder."""


class FetchSettings(_Model):
    user_agent: str = "syndication/0.1 (+https://github.com/syndication/syndication)"
    timeout: float = Field(20.0, gt=0)
    """Seconds to connect, and to wait for each read (every byte that arrives starts it again)."""
    deadline: float = Field(60.0, gt=0)
    """Seconds one fetch may take in all: connect, redirects, headers and body. A server dripping
    its answer a byte at a time is cut off here (``timeout`` alone would never end it)."""
    run_budget: float = Field(600.0, gt=0)
    """Seconds a run may spend polling feeds and extracting posts (10 min: well inside the 30-minute
    schedule). Then the rest waits for the next run, counted in the summary but not an error, and
    no request outlasts it."""
    max_bytes: int = Field(10_000_000, gt=0)
    """Size cap for any one response; larger bodies are refused, not truncated."""
    max_redirects: int = Field(5, ge=0)
    min_host_interval: float = Field(1.0, ge=0)
    """Seconds between the starts of two requests to the same host (politeness); a host never has
    more than one request in flight, however many workers poll."""
    concurrency: int = Field(16, ge=1)
    """Feeds polled at the same time (worker threads); 1 polls one after another."""
    max_retry_after: float = Field(30.0, ge=0)
    """Longest ``Retry-After`` we wait inside a run; longer ones are left for the next run."""
    allow_private_hosts: list[str] = Field(default_factory=list)
    """Hosts that may resolve to private, loopback or link-local addresses (e.g. a local demo): the
    host as written in URLs, or a network (``10.1.2.0/24``, ``127.0.0.1/32``) any name may resolve to."""
    respect_robots: bool = True


class LinkSettings(_Model):
    depth: int = Field(1, ge=0, le=3)
    """How far to follow links from a post to other articles (0 = never)."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """Other sites whose linked articles are fetched too (the feed's own site always is)."""
    max_per_post: int = Field(10, ge=0)


class PageSettings(_Model):
    """Pages of posts and linked articles (``[pages]``): retries after a failure, re-checks."""

    retry_schedule: list[float] = Field(
        default_factory=lambda: [600.0, 3600.0, 6 * 3600.0, 86_400.0, 3 * 86_400.0]
    )
    """Seconds to wait before each new try of a page that failed (404, 403, robots.txt, too large,
    timeouts...): 10 min, 1 h, 6 h, 1 d, 3 d. After the last one the post is ``failed`` until
    ``syndicate posts retry``. Empty: a failed page is ``failed`` at once."""
    max_defer: float = Field(6 * 3600.0, ge=0)
    """Longest a host's ``Retry-After`` postpones its pages (longer values are cut to this)."""
    recheck_interval: float = Field(7 * 86_400.0, ge=0)
    """Seconds between conditional re-checks of an extracted linked article (0 = never)."""

    @field_validator("retry_schedule")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        if any(delay <= 0 for delay in value):
            raise ValueError("every delay must be a positive number of seconds")
        return value


class FeedSettings(_Model):
    url: str
    name: str | None = None
    source_lang: str = "da"
    baseline: bool = False
    """On the first poll of a new feed, mark existing entries as seen and translate nothing."""
    fetch_full_page: bool = False
    """Fetch the post page even when the feed carries full content (``content:encoded``)."""


class PollingSettings(_Model):
    """How feeds are polled when they fail (``[polling]``); every duration in seconds."""

    retire_after_polls: int = Field(3, ge=1)
    """A feed answering 410 Gone or 404 is retired only after this many such polls in a row ..."""
    retire_after_days: float = Field(7.0, ge=0)
    """... spread over at least this many days; until then it is ``failing`` and polled backed off."""
    failing_backoff: float = Field(3600.0, gt=0)
    """Wait after the first 410/404 before the next poll; doubled after each further one ..."""
    failing_backoff_max: float = Field(86_400.0, gt=0)
    """... up to this."""
    retired_probe_interval: float = Field(86_400.0, gt=0)
    """A retired feed is still asked this often; a feed that answers again is polled as before."""
    retry_after_cap: float = Field(6 * 3600.0, gt=0)
    """Longest a ``Retry-After`` (429, 503) may defer a feed's next poll; longer ones are cut."""


class EngineSettings(_Model):
    model_config = ConfigDict(extra="allow")
    type: str
    """Registered engine name (``apertium``, ``argos``, or a plugin's)."""


class ChannelSettings(_Model):
    model_config = ConfigDict(extra="allow")
    type: str
    """Registered channel name (``outbox``, ``wordpress``, ``newsletter``, ``webhook``, ...)."""
    languages: list[str] | None = None
    """Languages this channel receives; default: all target languages."""
    enabled: bool = True


class ReviewSettings(_Model):
    auto_approve: list[str] = Field(default_factory=list)
    """Languages whose machine translations are approved without an editor (QA-flagged ones never)."""
    auto_approve_min_confidence: float = Field(0.0, ge=0.0, le=1.0)
    """Auto-approve an item only when every machine segment's engine confidence is at least this
    (segments whose engine cannot say, and human or carried-over ones, do not hold it back)."""
    auto_apply_corrections: int = Field(0, ge=0)
    """Apply a learned correction to new machine output before review once editors have made it in
    at least this many segments and never undone it where it was applied automatically; each one
    applied is marked on the segment. 0 (the default): corrections are only suggested."""


class TranslationSettings(_Model):
    source_lang: str = "da"
    targets: list[str] = Field(default_factory=lambda: ["nb", "sv"])
    engines: dict[str, str | list[str]] = Field(default_factory=dict)
    """Target language → engine name from ``[engines]``, or a chain of names of which the first one
    installed is used (``sv = ["opus-da-sv", "apertium"]``); unlisted languages use
    ``default_engine``."""
    models_dir: str | None = None
    """Where ``syndicate models install opus-mt:…`` puts OPUS-MT models and engines named
    ``opus-da-sv`` find them (default ``$SYNDICATION_MODELS_DIR``, else
    ``~/.local/share/syndication/models``)."""
    default_engine: str | None = None
    """Unset: ``apertium`` for nb, nn and sv from Danish (rule-based, close languages), ``argos``
    for every other language (English directly, the rest through English)."""
    glossary: str | None = None
    # Confidence per segment (issue 12).
    low_confidence: float = Field(0.0, ge=0.0, le=1.0)
    """A machine segment whose engine confidence is below this gets the ``low_confidence`` QA flag
    (so its item is never auto-approved). 0, the default, turns the flag off: set it per language
    once ``syndicate evaluate`` shows the engine's confidence follows quality there."""
    low_confidence_by_lang: dict[str, float] = Field(default_factory=dict)
    """Per target language thresholds that replace ``low_confidence`` (``{ sv = 0.6 }``)."""

    def confidence_threshold(self, lang: str) -> float:
        return self.low_confidence_by_lang.get(lang, self.low_confidence)

    @field_validator("low_confidence_by_lang")
    @classmethod
    def _thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        for lang, threshold in value.items():
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"low_confidence_by_lang.{lang} must be between 0 and 1, not {threshold}")
        return value

    @field_validator("engines")
    @classmethod
    def _chains(cls, value: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for lang, chain in value.items():
            if not chain:
                raise ValueError(f"engines.{lang} is empty: name an engine or a list of them")
        return value

    @field_validator("targets")
    @classmethod
    def _bcp47(cls, value: list[str]) -> list[str]:
        for tag in value:
            if tag == "no":
                raise ValueError("use 'nb' (Bokmål) or 'nn' (Nynorsk), never 'no'")
        return value


class DeliverySettings(_Model):
    claim_lease_seconds: int = Field(600, ge=1)
    """How long a delivery claim protects a row being sent. A worker killed mid-send leaves its claim
    behind; after this many seconds the next run takes the row over (at-most-once channels report it
    as ``uncertain`` instead). Longer than any single send may take."""
    # Bounded failures (issue 10): each item is tried once per run; these stop a channel early.
    pause_after_failures: int = Field(5, ge=1)
    """A channel whose sends fail this many times in a row is paused for the rest of the run (the
    reason is in the run summary); what is left waits for the next run."""
    channel_time_budget_seconds: float = Field(900.0, gt=0)
    """Time one run may spend sending to one channel; when it is used up, the rest of that channel's
    deliveries wait for the next run (a slow partner cannot hold up the others for hours)."""


NotifyEvent = Literal["review", "failure"]
NOTIFY_EVENTS: tuple[NotifyEvent, ...] = ("review", "failure")


class OrchestrationSettings(_Model):
    """How the Prefect flows run (``[orchestration]``); none of this matters to the plain pipeline."""

    task_runner: Literal["default", "dask"] = "default"
    """``dask``: translation batches (one per target language) fan out over a Dask cluster through
    ``prefect-dask`` (``pip install 'syndication[dask]'``); ``default``: Prefect's thread pool."""
    dask_address: str | None = None
    """Scheduler of an existing Dask cluster (``tcp://10.0.0.5:8786``); unset: a local cluster per run."""
    dask_workers: int = Field(2, ge=1)
    """Workers of the local cluster when ``dask_address`` is unset."""
    review_url: str | None = None
    """Base URL of the review web app for links in Prefect artifacts and notifications (default:
    ``[web] base_url`` when the app is configured)."""
    notify_block: str | None = None
    """A Prefect notification block (``custom-webhook/editors``, ``syndication-email/editors``, …)
    messaged when items wait for review or a delivery failed terminally; unset: no message (the
    flows still emit the events an automation can act on)."""
    notify_on: list[NotifyEvent] = Field(default_factory=lambda: list(NOTIFY_EVENTS))
    backfill_chunk: int = Field(100, ge=1, le=10_000)
    """Posts per extract → translate → deliver round of a backfill (bounds memory; one task per stage
    per chunk in Prefect)."""


class WebSettings(_Model):
    """The review web app (``syndicate serve``)."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    base_url: str | None = None
    """Public URL of the app, used in links from e-mails and artifacts; default ``http://host:port``."""
    secure_cookies: bool | None = None
    """Session cookie only over HTTPS: ``true``/``false``; unset = when the request or ``base_url``
    is https."""
    session_max_age: int = Field(12 * 3600, gt=0)
    """Seconds a login lasts."""
    prefect_publish_deployment: str = "publish/publish"
    """Deployment started on approval when a Prefect server is configured (``PREFECT_API_URL``)."""
    secret_key: SecretStr | None = None
    """Signs session cookies; only from ``SYNDICATION__WEB__SECRET_KEY``, else a generated key file
    next to the database."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses of reverse proxies whose ``X-Forwarded-For``/``-Proto`` headers are believed (the
    client address counts failed logins, the scheme marks cookies Secure); none by default, so a
    header sent from anywhere, loopback included, changes nothing."""

    def public_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


class Settings(_Model):
    store: StoreSettings = Field(default_factory=lambda: StoreSettings())
    fetch: FetchSettings = Field(default_factory=lambda: FetchSettings())
    links: LinkSettings = Field(default_factory=lambda: LinkSettings())
    pages: PageSettings = Field(default_factory=lambda: PageSettings())
    feeds: list[FeedSettings] = Field(default_factory=list)
    polling: PollingSettings = Field(default_factory=lambda: PollingSettings())
    translation: TranslationSettings = Field(default_factory=lambda: TranslationSettings())
    engines: dict[str, EngineSettings] = Field(
        default_factory=lambda: {"apertium": EngineSettings(type="apertium")}
    )
    review: ReviewSettings = Field(default_factory=lambda: ReviewSettings())
    deliveries: DeliverySettings = Field(default_factory=lambda: DeliverySettings())
    orchestration: OrchestrationSettings = Field(default_factory=lambda: OrchestrationSettings())
    web: WebSettings = Field(default_factory=lambda: WebSettings())
    channels: dict[str, ChannelSettings] = Field(
        default_factory=lambda: {"outbox": ChannelSettings(type="outbox", path="outbox")}
    )
    base_dir: Path = Path(".")
    """Folder relative paths in the config are resolved against (the config file's parent's parent
    when the file lives in ``config/``, else its own folder)."""

    def resolve_path(self, value: str | Path) -> Path:
        path = Path(value)
        return path if path.is_absolute() else (self.base_dir / path)

    def store_url(self) -> str:
        url = self.store.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.resolve_path(url[len(prefix) :]).resolve())
        return url

    def engine_chain(self, lang: str) -> list[str]:
        """The engine names to try for ``lang``, best first (see :meth:`engine_for`)."""
        translation = self.translation
        if lang in translation.engines:
            chosen = translation.engines[lang]
            return [chosen] if isinstance(chosen, str) else list(chosen)
        if translation.default_engine:
            return [translation.default_engine]
        base = lang.split("-")[0]
        if translation.source_lang == "da" and base in ("nb", "nn", "sv"):
            # An OPUS-MT model, once installed, is clearly better than Apertium on these (issue 12).
            return [f"opus-da-{base}", "apertium"]
        return ["argos"]

    def engine_for(self, lang: str) -> str:
        """The first installed engine of the language's chain (the last one when none is)."""
        from syndication.translations.engine_choice import choose

        return choose(self, lang).name

    def channel_secret(self, channel: str, key: str) -> str | None:
        """A channel secret from the environment (never from the TOML)."""
        extra = self.channels[channel].model_extra or {}
        value = extra.get(key)
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        return str(value) if value is not None else None


def _find_secrets(data: Mapping[str, Any], path: str = "") -> list[str]:
    found: list[str] = []
    for key, value in data.items():
        here = f"{path}.{key}" if path else key
        if isinstance(value, Mapping):
            found += _find_secrets(value, here)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    found += _find_secrets(item, here)
        elif key.lower() in SECRET_KEYS and value not in (None, ""):
            found.append(here)
    return found


def _refuse_store_password(path: Path, data: Mapping[str, Any]) -> None:
    """``[store] url = "postgresql://app:hunter2@db/app"``: the password would be committed with the
    file. (The URL with its password is fine in the environment.)"""
    from urllib.parse import urlsplit

    store = data.get("store")
    url = store.get("url") if isinstance(store, Mapping) else None
    if not isinstance(url, str):
        return
    try:
        password = urlsplit(url).password
    except ValueError:  # a malformed URL: SQLAlchemy says what is wrong with it when it is used
        return
    if password:
        raise ConfigError(
            f"{path}: [store] url contains a password; remove the URL from the file and set it, "
            f"password included, in the environment variable {ENV_PREFIX}STORE__URL "
            "(or keep the password in ~/.pgpass / PGPASSFILE)"
        )


def _env_overlay(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if not parts:
            continue
        node = data
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        leaf = parts[-1]
        node[leaf] = SecretStr(value) if leaf in SECRET_KEYS else value
    return data


def _base_dir_for(path: Path) -> Path:
    parent = path.resolve().parent
    return parent.parent if parent.name == "config" else parent


def load_settings(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any), overlay the environment, validate.

    ``path=None`` uses ``$SYNDICATION_CONFIG`` or ``config/syndication.toml`` when present, else
    built-in defaults (useful for ``syndicate status`` on an empty folder).
    """
    environ = os.environ if environ is None else environ
    if path is None:
        env_path = environ.get("SYNDICATION_CONFIG")
        path = Path(env_path) if env_path else DEFAULT_CONFIG_PATH
        if not Path(path).exists() and not env_path:
            path = None
    data: dict[str, Any] = {}
    base_dir = Path.cwd()
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} not found; run `syndicate init` to write one") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        secrets = _find_secrets(data)
        if secrets:
            names = ", ".join(secrets)
            raise ConfigError(
                f"{path} contains secrets ({names}); remove them and set them as environment "
                f"variables instead, e.g. {ENV_PREFIX}{secrets[0].upper().replace('.', '__')}"
            )
        _refuse_store_password(path, data)
        base_dir = _base_dir_for(path)
    data = _env_overlay(data, environ)
    data.setdefault("base_dir", base_dir)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        where = f" in {path}" if path else ""
        raise ConfigError(f"invalid configuration{where}: {problems}") from exc


def channel_languages(settings: Settings, channel: str) -> list[str]:
    configured = settings.channels[channel].languages
    return list(configured) if configured is not None else list(settings.translation.targets)
