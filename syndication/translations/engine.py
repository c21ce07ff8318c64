"""The engine adapter: what every translation engine (built-in or plugin) provides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from syndication.models import EngineOutput


@runtime_checkable
class TranslationEngine(Protocol):
    """A machine-translation engine.

    ``translate`` receives whole segments: text in which inline markup is already replaced by
    placeholders (``<g id="1">…</g>``, ``<x id="2"/>``). It must return one output per input, in
    order, keep every placeholder, and translate the whole batch in as few engine calls as it can
    (one process or one batched model call per batch, never one per segment). It returns
    ``EngineOutput`` rather than a bare string so engine-specific signals (Apertium's unknown-word
    marks) become QA flags instead of leaking into the text.

    Errors are mapped at the boundary: ``TransientTranslationError`` when a retry may help,
    ``EngineUnavailableError`` (terminal) when the pair or model is not installed — its message says
    exactly what to install.
    """

    name: str

    def pairs(self) -> set[tuple[str, str]]:
        """Installed (source, target) pairs, including pivoted ones."""
        ...

    def version(self, source: str, target: str) -> str:
        """Model/package version for the pair: part of the translation-memory key and provenance.
        Raises ``EngineUnavailableError`` (saying what to install) when the pair is missing."""
        ...

    def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[EngineOutput]: ...


class EngineFactory(Protocol):
    def __call__(self, config: Mapping[str, Any]) -> TranslationEngine: ...
