"""The channel adapter: what every delivery channel (built-in or plugin) provides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from syndication.models import ApprovedTranslation, Payload, Receipt

if TYPE_CHECKING:
    from syndication.store import Store


@dataclass(frozen=True)
class ChannelContext:
    """What a channel may know about its surroundings, passed in so channels do no global lookups."""

    name: str
    """The channel's name in the config (``[channels.partner_no]`` → ``partner_no``)."""
    config: Mapping[str, Any]
    """The channel's settings from the TOML (extra keys included)."""
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Secrets from the environment or Prefect Secret blocks; never logged, never rendered."""
    base_dir: Path = Path(".")
    dry_run: bool = False
    store: Store | None = None
    """The pipeline's store, for channels that keep state of their own (newsletter subscribers)."""


@runtime_checkable
class Channel(Protocol):
    """A place approved translations go to.

    ``render`` is pure (no I/O): the same payload is used for ``--dry-run`` and preview. ``send`` must
    be idempotent on ``key``: sending the same key twice leaves one copy at the destination and
    returns the same receipt. ``retract`` takes an earlier receipt and withdraws that copy.
    ``update`` sends a new version of an item to the object an earlier receipt names.

    ``at_most_once`` channels (e-mail) cannot look up whether a send happened: the ledger never
    resends an item whose send started but was not recorded, and reports it instead.
    """

    name: str
    at_most_once: bool

    def targets(self, item: ApprovedTranslation) -> list[str]:
        """Where this item goes within the channel (a site, each subscriber); ``[""]`` for one."""
        ...

    def render(self, item: ApprovedTranslation, *, target: str = "") -> Payload: ...

    def send(self, payload: Payload, *, key: str, previous: Receipt | None = None) -> Receipt:
        """Deliver; ``previous`` is the receipt of the last delivery of the same post and language
        to the same target, so an edit updates the same remote object instead of creating one."""
        ...

    def retract(self, receipt: Receipt) -> None: ...


class ChannelFactory(Protocol):
    def __call__(self, context: ChannelContext) -> Channel: ...
