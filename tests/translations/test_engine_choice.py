"""Which engine translates which language when the config does not say: Argos for every language
Argos reaches, Apertium for the Scandinavian ones it translates from Danish; the config wins."""

from __future__ import annotations

from pathlib import Path

from syndication.config_template import render
from syndication.settings import load_settings


def settings_from(tmp_path: Path, text: str):
    config = tmp_path / "config" / "syndication.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")
    return load_settings(config, environ={})


def test_unlisted_languages_default_to_argos_except_scandinavian(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, '[translation]\ntargets = ["nb", "nn", "sv", "en", "de", "fr"]\n')
    chosen = {lang: settings.engine_for(lang) for lang in settings.translation.targets}
    assert chosen == {
        "nb": "apertium",
        "nn": "apertium",
        "sv": "apertium",
        "en": "argos",
        "de": "argos",
        "fr": "argos",
    }


def test_the_config_wins(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        '[translation]\ntargets = ["nb", "sv", "en"]\ndefault_engine = "apertium"\n'
        'engines = { sv = "argos" }\n',
    )
    assert [settings.engine_for(lang) for lang in ("nb", "sv", "en")] == ["apertium", "argos", "apertium"]


def test_a_new_config_translates_english_with_argos(tmp_path: Path) -> None:
    # `syndicate init` writes the template; adding "en" to its targets must not send English
    # to Apertium (which has no da→en pair).
    text = render().replace('targets = ["nb", "sv"]', 'targets = ["nb", "sv", "en"]')
    assert 'targets = ["nb", "sv", "en"]' in text
    settings = settings_from(tmp_path, text)
    assert [settings.engine_for(lang) for lang in ("nb", "sv", "en")] == ["apertium", "apertium", "argos"]
