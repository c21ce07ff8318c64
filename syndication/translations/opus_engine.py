"""The ``opus-mt`` engine: an OPUS-MT model installed by ``syndicate models install opus-mt:…``.

It is the ``ctranslate2`` engine configured from the installed model's ``opus-mt.json`` (language
pair, ``>>nob<<``-style target token, release and quantization for the memory key), so placeholders,
sub-batching and confidence work exactly as for any CTranslate2 model.

Config (``[engines.NAME]``, ``type = "opus-mt"``): ``pair = "da-sv"``, optional ``models_dir``
(default ``$SYNDICATION_MODELS_DIR``, else ``~/.local/share/syndication/models``), plus the runtime
settings of the ``ctranslate2`` engine. Engine names of the form ``opus-da-sv`` need no section.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syndication.translations import opus_mt
from syndication.translations.argos import CTranslate2Engine


class OpusMTEngine(CTranslate2Engine):
    name = "opus-mt"

    def __init__(self, config: Mapping[str, Any]) -> None:
        name = str(config.get("name", ""))
        self.installed = opus_mt.model_from_options(config, [name] if name else [])
        super().__init__(opus_mt.engine_config(self.installed, config))
