"""Which engine translates a target language, and why (issue 12: engine chains).

``[translation] engines = { sv = ["opus-da-sv", "apertium"] }`` names a chain: the first engine
that is *installed* is used. Only engines backed by a model on disk can be missing (a ``ctranslate2``
model folder, an ``opus-mt`` model, an ``opus-da-sv`` name); the rest count as installed and report
their own problems when they translate. When no engine of a chain is installed the last one is used,
so the error the pipeline records says what to install.

Engine names of the form ``opus-da-sv`` need no ``[engines]`` section: they mean the OPUS-MT model
installed by ``syndicate models install opus-mt:da-sv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndication.errors import SyndicationError
from syndication.translations import opus_mt

if TYPE_CHECKING:
    from syndication.settings import Settings


@dataclass(frozen=True)
class EngineChoice:
    lang: str
    name: str
    engine_type: str
    options: dict[str, Any]
    reason: str
    chain: list[str] = field(default_factory=list)


def models_dir(settings: Settings) -> Path:
    configured = settings.translation.models_dir
    return settings.resolve_path(configured).expanduser() if configured else opus_mt.default_models_dir()


def engine_spec(settings: Settings, name: str) -> tuple[str, dict[str, Any]]:
    """Engine type and options for an engine name (an ``[engines]`` section, an ``opus-XX-YY`` name,
    or a registered engine type used as it is)."""
    config = settings.engines.get(name)
    if config is not None:
        options: dict[str, Any] = dict(config.model_extra or {})
        engine_type = config.type
    elif opus_mt.is_model_name(name):
        engine_type, options = "opus-mt", {"name": name}
    else:
        engine_type, options = name, {}
    # Relative model and package paths resolve like every other path in the config.
    options.setdefault("base_dir", str(settings.base_dir))
    if engine_type == "opus-mt":
        options.setdefault("models_dir", str(models_dir(settings)))
    return engine_type, options


def installed(settings: Settings, name: str) -> tuple[bool, str]:
    """Whether the engine has what it needs on disk, and where (or what is missing)."""
    engine_type, options = engine_spec(settings, name)
    if engine_type == "opus-mt":
        try:
            model = opus_mt.model_from_options(options, [name])
        except SyndicationError as exc:
            return False, str(exc)
        return True, f"{model.version} in {model.path}"
    if engine_type == "ctranslate2":
        model_path = Path(str(options.get("model", "")))
        if not model_path.is_absolute():
            model_path = Path(str(options["base_dir"])) / model_path
        if not (model_path / "model.bin").is_file():
            return False, f"no model.bin in {model_path}"
        return True, str(model_path)
    return True, engine_type


def choose(settings: Settings, lang: str) -> EngineChoice:
    chain = settings.engine_chain(lang)
    skipped: list[str] = []
    for position, name in enumerate(chain):
        ok, detail = installed(settings, name)
        last = position == len(chain) - 1
        if ok or last:
            engine_type, options = engine_spec(settings, name)
            if ok:
                reason = f"{detail}" if not skipped else f"{detail}; not installed: {', '.join(skipped)}"
            else:
                reason = f"NOT INSTALLED ({detail}); last of the chain"
            return EngineChoice(lang, name, engine_type, options, reason, chain)
        skipped.append(name)
    raise AssertionError("an engine chain is never empty")  # guarded by the settings validator
