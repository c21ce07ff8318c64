"""OPUS-MT models (issue 12, part 2): a tiny real Marian archive, built here in the layout
Helsinki-NLP publishes, goes through the real ``OpusMTConverter`` and the real engine; installing by
pair downloads from a loopback mirror (never the internet); engine chains pick the first installed
engine; the memory key changes with the model while an editor's version still wins."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndication.errors import EngineUnavailableError
from syndication.settings import load_settings
from syndication.translations import opus_mt
from syndication.translations.engine_choice import choose
from syndication.translations.models_cli import models
from syndication.translations.opus_engine import OpusMTEngine
from tests.opus_builder import RELEASE, build_archive


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>|&[a-z]+;", "", html)


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("opus-archives")
    return {
        "sv": build_archive(root / "sv", "upper"),
        "nor": build_archive(
            root / "nor", "copy", targets=("nno", "nob"), language_tokens=(">>nno<<", ">>nob<<")
        ),
    }


@pytest.fixture(scope="module")
def installed_sv(archives: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder with the da→sv test model converted and installed (tests must not change it)."""
    directory = tmp_path_factory.mktemp("opus-models")
    opus_mt.install_archive(archives["sv"], directory)
    return directory


# ---------------------------------------------------------------------------- addresses


def test_archive_urls_are_the_published_ones() -> None:
    assert opus_mt.archive_url("da", "sv", {}) == (
        "https://object.pouta.csc.fi/Tatoeba-MT-models/dan-swe/opus-2021-02-19.zip"
    )
    # Bokmål and Nynorsk come from one multi-target model.
    assert (
        opus_mt.archive_url("da", "nb", {})
        == opus_mt.archive_url("da", "nn", {})
        == ("https://object.pouta.csc.fi/Tatoeba-MT-models/dan-nor/opus-2021-02-23.zip")
    )
    assert opus_mt.archive_url("da", "en", {}).endswith("/OPUS-MT-models/da-en/opus-2019-12-18.zip")
    assert opus_mt.archive_url("da", "de", {}).endswith("/OPUS-MT-models/da-de/opus-2020-01-26.zip")
    assert opus_mt.archive_url("da", "sv", {"OPUS_MT_BASE_URL": "http://mirror.local/opus/"}) == (
        "http://mirror.local/opus/Tatoeba-MT-models/dan-swe/opus-2021-02-19.zip"
    )


def test_pairs_are_parsed_in_every_spelling_and_unknown_ones_explained() -> None:
    assert opus_mt.parse_pair("opus-mt:da-sv") == opus_mt.parse_pair("opus-da-sv") == ("da", "sv")
    with pytest.raises(EngineUnavailableError, match="not an OPUS-MT pair"):
        opus_mt.parse_pair("opus-mt:danish")
    with pytest.raises(EngineUnavailableError, match="no published OPUS-MT model is known for da→fr"):
        opus_mt.archive_url("da", "fr", {})


# ---------------------------------------------------------------------- convert + translate


def test_converted_model_translates_with_placeholders(installed_sv: Path) -> None:
    [model] = opus_mt.installed_models(installed_sv)
    assert (model.name, model.source, model.target, model.source_prefix) == ("opus-da-sv", "da", "sv", "")
    assert model.quantization == "int8" and model.release == RELEASE
    config = json.loads((model.path / "config.json").read_text(encoding="utf-8"))
    assert config["add_source_eos"] is True  # OpusMTConverter's Marian config, not transformers'
    engine = OpusMTEngine({"pair": "da-sv", "models_dir": str(installed_sv), "intra_threads": 1})
    assert engine.name == "opus-mt"
    assert engine.version("da", "sv") == f"opus-da-sv@{RELEASE}+int8"
    outputs = engine.translate(
        ["Netværk er guld.", 'Læs <g id="1">mere om <g id="2">os</g></g> her.', 'Linje et<x id="1"/>to.'],
        source="da",
        target="sv",
    )
    assert [o.text for o in outputs] == [
        "NETVÆRK ER GULD.",
        'LÆS <g id="1">MERE OM <g id="2">OS</g></g> HER.',
        'LINJE ET<x id="1"/>TO.',
    ]
    assert all(o.confidence is not None and o.confidence > 0.9 for o in outputs)


def test_multi_target_model_gets_its_language_token(archives: dict[str, Path], tmp_path: Path) -> None:
    nb = opus_mt.install_archive(archives["nor"], tmp_path, pair=("da", "nb"))
    nn = opus_mt.install_archive(archives["nor"], tmp_path, pair=("da", "nn"))
    assert (nb.name, nb.source_prefix) == ("opus-da-nb", ">>nob<<")
    assert (nn.name, nn.source_prefix) == ("opus-da-nn", ">>nno<<")
    engine = OpusMTEngine({"pair": "da-nn", "models_dir": str(tmp_path), "intra_threads": 1})
    assert engine.model.source_prefix == [">>nno<<"]
    # The test model drops the first source token: the text comes back whole only when the
    # language token was put before it (and placeholders still land around the right words).
    outputs = engine.translate(["Netværk er guld.", 'Læs <g id="1">mere</g> her.'], source="da", target="nn")
    assert [o.text for o in outputs] == ["Netværk er guld.", 'Læs <g id="1">mere</g> her.']
    # Without --pair the archive's README says nno and nob: the user must choose.
    with pytest.raises(EngineUnavailableError, match="--pair SRC-TGT"):
        opus_mt.install_archive(archives["nor"], tmp_path / "other")
    with pytest.raises(EngineUnavailableError, match=r">>nno<< >>nob<<.*not into 'sv'"):
        opus_mt.install_archive(archives["nor"], tmp_path / "other", pair=("da", "sv"))


def test_bad_archives_are_refused_with_a_clear_error(archives: dict[str, Path], tmp_path: Path) -> None:
    not_zip = tmp_path / "opus.zip"
    not_zip.write_bytes(b"<html>404</html>")
    with pytest.raises(EngineUnavailableError, match="not a zip"):
        opus_mt.install_archive(not_zip, tmp_path / "m")
    # The archive without its vocabulary: named in decoder.yml, missing.
    partial = tmp_path / "partial.zip"
    with zipfile.ZipFile(archives["sv"]) as source, zipfile.ZipFile(partial, "w") as sink:
        for info in source.infolist():
            if not info.filename.endswith(".vocab.yml"):
                sink.writestr(info, source.read(info))
    with pytest.raises(EngineUnavailableError, match=r"vocab\.yml, named in decoder\.yml, is missing"):
        opus_mt.install_archive(partial, tmp_path / "m")
    with pytest.raises(EngineUnavailableError, match="SHA-256 is"):
        opus_mt.install_archive(archives["sv"], tmp_path / "m", expected_sha256="00" * 32)
    assert not (tmp_path / "m" / "opus-da-sv").exists()
    assert [p.name for p in (tmp_path / "m").iterdir()] == []  # no staging left behind


# ---------------------------------------------------------------------------- download


def test_install_by_pair_downloads_the_release_and_checks_it(
    archives: dict[str, Path], http_server, tmp_path: Path
) -> None:
    http_server.add("/Tatoeba-MT-models/dan-swe/opus-2021-02-19.zip", archives["sv"].read_bytes())
    environ = {"OPUS_MT_BASE_URL": http_server.base_url}
    model = opus_mt.install_pair("da", "sv", tmp_path, environ=environ)
    assert model.version == "opus-da-sv@dan-swe/opus-2021-02-19+int8"
    metadata = json.loads((model.path / "opus-mt.json").read_text(encoding="utf-8"))
    assert (
        metadata["url"] == http_server.base_url.rstrip("/") + "/Tatoeba-MT-models/dan-swe/opus-2021-02-19.zip"
    )
    assert metadata["sha256"] == opus_mt.sha256_of(archives["sv"])


def test_offline_install_says_how_to_install_by_hand(tmp_path: Path) -> None:
    environ = {"OPUS_MT_BASE_URL": "http://127.0.0.1:9/"}  # discard port: connection refused
    with pytest.raises(EngineUnavailableError, match=r"offline.*models install FILE\.zip --pair da-sv"):
        opus_mt.install_pair("da", "sv", tmp_path, environ=environ, timeout=5)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ the CLI


def test_cli_installs_from_a_file_lists_the_choice_and_removes(
    archives: dict[str, Path], tmp_path: Path
) -> None:
    runner = CliRunner()
    config = tmp_path / "syndication.toml"
    config.write_text('[translation]\ntargets = ["nb", "sv", "en"]\n', encoding="utf-8")
    models_dir = tmp_path / "models"
    base = ["--config", str(config), "--models-dir", str(models_dir), "--packages-dir", str(tmp_path / "p")]
    result = runner.invoke(models, [*base, "install", str(archives["sv"])])
    assert result.exit_code == 0, result.output
    assert f"Installed opus-da-sv (da→sv, opus-da-sv@{RELEASE}+int8)" in result.output
    result = runner.invoke(models, [*base, "list"])
    assert result.exit_code == 0, result.output
    assert "da→sv  opus-da-sv" in result.output
    assert "  sv: opus-da-sv (opus-mt)" in result.output
    assert "  nb: apertium (apertium)" in result.output and "not installed: opus-da-nb" in result.output
    result = runner.invoke(models, [*base, "remove", "opus-mt:da-sv"])
    assert result.exit_code == 0, result.output
    assert not (models_dir / "opus-da-sv").exists()
    result = runner.invoke(models, [*base, "install", "opus-mt:da-fr"])
    assert result.exit_code == 1 and "no published OPUS-MT model is known for da→fr" in result.output


# ------------------------------------------------------------------------------- chains


def test_chains_use_the_first_installed_engine(installed_sv: Path, tmp_path: Path) -> None:
    config = tmp_path / "syndication.toml"
    config.write_text(
        "[translation]\n"
        'targets = ["nb", "nn", "sv", "en"]\n'
        f'models_dir = "{installed_sv}"\n'
        'engines = { nn = ["opus-da-nn", "apertium"], en = ["opus-da-en", "argos"] }\n',
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})
    # Default chain for sv: the installed model before Apertium; nb has none installed.
    assert [settings.engine_for(lang) for lang in ("nb", "nn", "sv", "en")] == [
        "apertium",
        "apertium",
        "opus-da-sv",
        "argos",
    ]
    choice = choose(settings, "sv")
    assert choice.engine_type == "opus-mt" and f"opus-da-sv@{RELEASE}+int8" in choice.reason
    assert "not installed: opus-da-nn" in choose(settings, "nn").reason
    # `syndicate evaluate --engine opus-da-sv` builds the same engine without an [engines] section.
    from syndication.translations.evaluate import build_engine

    assert build_engine(settings, "opus-da-sv").version("da", "sv") == f"opus-da-sv@{RELEASE}+int8"
    # A chain with nothing installed uses its last engine, so its error says what to install.
    config.write_text(
        '[translation]\ntargets = ["sv"]\nengines = { sv = ["opus-da-sv"] }\n'
        f'models_dir = "{tmp_path / "empty"}"\n',
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})
    last = choose(settings, "sv")
    assert last.name == "opus-da-sv" and last.reason.startswith("NOT INSTALLED")
    with pytest.raises(EngineUnavailableError, match="models install opus-mt:da-sv"):
        OpusMTEngine(last.options)


def test_an_empty_chain_is_a_config_error(tmp_path: Path) -> None:
    from syndication.errors import ConfigError

    config = tmp_path / "syndication.toml"
    config.write_text("[translation]\nengines = { sv = [] }\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"engines\.sv is empty"):
        load_settings(config, environ={})


# ------------------------------------------------------------- switching engine in the pipeline


def test_switching_to_opus_mt_retranslates_but_keeps_the_editors_version(
    make_ctx, site, archives: dict[str, Path]
) -> None:
    """The memory key holds the engine and its model version: after installing an OPUS-MT model
    (which the chain ``sv = ["opus-da-sv", "apertium"]`` then prefers), a forced re-translation
    sends every segment to the new model, except the one an editor wrote, and provenance names
    the model."""
    import os

    from sqlalchemy import select

    from syndication import pipeline
    from syndication.review import current_translation, edit_segment, item_detail, resolve_post
    from syndication.store import TMEntry
    from syndication.translations.stage import translate_pending

    ctx = make_ctx(auto_approve=False)
    ctx.settings.translation.engines["sv"] = ["opus-da-sv", "apertium"]  # nothing installed yet
    pipeline.syndicate(ctx)
    with ctx.store.session() as session:
        post = resolve_post(session, f"{site.base_url}/?p=412")
        post_id = post.id
        before = current_translation(session, post, "sv")
        assert before.engine == "apertium"
        title = next(s for s in item_detail(session, before.id).segments if s.key == "title")
        edit_segment(
            session, before.id, "title", "Nätverk är guld", actor="karin", expected_version=title.version
        )

    model = opus_mt.install_archive(archives["sv"], Path(os.environ["SYNDICATION_MODELS_DIR"]))
    ctx = make_ctx(auto_approve=False)  # a new run: the chain now finds the model
    ctx.settings.translation.engines["sv"] = ["opus-da-sv", "apertium"]
    assert ctx.settings.engine_for("sv") == "opus-da-sv"
    translate_pending(ctx, post_ids=[post_id], languages=["sv"], force=True)
    assert ctx.summary.translations_failed == 0, ctx.summary.errors
    with ctx.store.session() as session:
        post = resolve_post(session, f"{site.base_url}/?p=412")
        after = current_translation(session, post, "sv")
        assert (after.engine, after.model_version) == ("opus-mt", model.version)
        segments = {s.key: s for s in item_detail(session, after.id).segments}
        assert segments["title"].target == "Nätverk är guld"
        machine = [s for key, s in segments.items() if key != "title" and s.source.strip()]
        # The test model upper-cases (markup aside), so every machine segment shows it ran.
        wrong = [s.target for s in machine if _text(s.target) != _text(s.target).upper()]
        assert machine and not wrong
        entries = session.scalars(select(TMEntry).where(TMEntry.engine == "opus-mt")).all()
        assert entries and {e.model_version for e in entries} == {model.version}
