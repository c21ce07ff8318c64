"""Where the glossary comes from: `config/glossary.csv` by default, or the configured path."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndication.errors import ConfigError
from syndication.settings import load_settings
from syndication.translations.glossary import configured_glossary

TERMS = "term,lang,translation,case_sensitive\nMesse C,*,,\n"


def project(tmp_path: Path, translation: str = "", glossary: str | None = TERMS):
    config = tmp_path / "config" / "syndication.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[translation]\ntargets = ["en"]\n{translation}', encoding="utf-8")
    if glossary is not None:
        (tmp_path / "config" / "glossary.csv").write_text(glossary, encoding="utf-8")
    return load_settings(config, environ={})


def test_config_glossary_csv_is_used_without_a_setting(tmp_path: Path) -> None:
    found = configured_glossary(project(tmp_path))
    assert found is not None and [e.term for e in found.entries] == ["Messe C"]


def test_no_file_and_no_setting_means_no_glossary(tmp_path: Path) -> None:
    assert configured_glossary(project(tmp_path, glossary=None)) is None


def test_an_empty_setting_switches_the_default_off(tmp_path: Path) -> None:
    assert configured_glossary(project(tmp_path, 'glossary = ""\n')) is None


def test_a_configured_path_wins_and_must_exist(tmp_path: Path) -> None:
    (tmp_path / "terms.csv").write_text("term,lang,translation\nHerning,*,\n", encoding="utf-8")
    found = configured_glossary(project(tmp_path, 'glossary = "terms.csv"\n'))
    assert found is not None and [e.term for e in found.entries] == ["Herning"]
    with pytest.raises(ConfigError, match=r"missing\.csv not found"):
        configured_glossary(project(tmp_path, 'glossary = "missing.csv"\n'))
