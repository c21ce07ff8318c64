"""Find engines and channels by name through entry points.

Built-ins are declared in ``pyproject.toml`` under the same entry-point groups a third-party plugin
uses (``syndication.engines``, ``syndication.channels``), so there is one lookup path. ``BUILTIN``
repeats those declarations only for running from a source tree that was never installed (no
``.dist-info``, hence no entry points).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from syndication.errors import ConfigError

ENGINE_GROUP = "syndication.engines"
CHANNEL_GROUP = "syndication.channels"

BUILTIN: dict[str, dict[str, str]] = {
    ENGINE_GROUP: {
        "apertium": "syndication.translations.apertium:ApertiumEngine",
        "argos": "syndication.translations.argos:ArgosEngine",
        "ctranslate2": "syndication.translations.argos:CTranslate2Engine",
        "opus-mt": "syndication.translations.opus_engine:OpusMTEngine",
    },
    CHANNEL_GROUP: {
        "outbox": "syndication.deliveries.outbox:OutboxChannel",
        "wordpress": "syndication.deliveries.wordpress:WordPressChannel",
        "newsletter": "syndication.deliveries.newsletter:NewsletterChannel",
        "webhook": "syndication.deliveries.webhook:WebhookChannel",
        "feed": "syndication.deliveries.feed:FeedChannel",
    },
}


def available(group: str) -> dict[str, str]:
    """Name → ``module:attr`` for every registered adapter of ``group``."""
    found = dict(BUILTIN.get(group, {}))
    for ep in entry_points(group=group):
        found[ep.name] = ep.value
    return found


def load(group: str, name: str) -> Any:
    known = available(group)
    if name not in known:
        kind = "engine" if group == ENGINE_GROUP else "channel"
        choices = ", ".join(sorted(known)) or "none"
        raise ConfigError(f"unknown {kind} type {name!r}; registered: {choices}")
    module_name, _, attr = known[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot load {name!r} from {known[name]}: {exc}") from exc
    return getattr(module, attr)
