"""``syndicate models`` through click's CliRunner, against real package files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from syndication.translations.models_cli import models


@pytest.fixture()
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no config/syndication.toml here
    monkeypatch.delenv("SYNDICATION_CONFIG", raising=False)
    monkeypatch.delenv("ARGOS_PACKAGES_DIR", raising=False)
    return CliRunner()


def test_install_list_remove_from_files(
    runner: CliRunner, tmp_path: Path, argos_dist: dict[str, Path]
) -> None:
    packages = tmp_path / "pk"
    base = ["--packages-dir", str(packages)]

    empty = runner.invoke(models, [*base, "list"])
    assert empty.exit_code == 0, empty.output
    assert "(none)" in empty.output

    for name in ("da_en", "en_de"):
        done = runner.invoke(models, [*base, "install", str(argos_dist[name])])
        assert done.exit_code == 0, done.output
    assert "Installed translate-en_de 1.0 (en→de)" in done.output

    listed = runner.invoke(models, [*base, "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert any(line.split()[:4] == ["da→en", "translate-da_en", "1.0", "argos"] for line in lines)
    assert any(line.split()[:4] == ["en→de", "translate-en_de", "1.0", "argos"] for line in lines)
    assert any(line.strip().startswith("da→de  via English") for line in lines)

    removed = runner.invoke(models, [*base, "remove", "translate-en_de"])
    assert removed.exit_code == 0, removed.output
    assert "Removed translate-en_de 1.0" in removed.output
    assert "en→de" not in runner.invoke(models, [*base, "list"]).output


def test_packages_dir_from_environment(
    runner: CliRunner, tmp_path: Path, argos_dist: dict[str, Path]
) -> None:
    packages = tmp_path / "from-env"
    done = runner.invoke(
        models, ["install", str(argos_dist["da_en"])], env={"ARGOS_PACKAGES_DIR": str(packages)}
    )
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in packages.iterdir()) == ["translate-da_en-1.0"]


def test_errors_are_clear_and_exit_nonzero(runner: CliRunner, tmp_path: Path) -> None:
    base = ["--packages-dir", str(tmp_path / "pk")]
    junk = tmp_path / "junk.argosmodel"
    junk.write_text("not a zip", encoding="utf-8")
    bad = runner.invoke(models, [*base, "install", str(junk)])
    assert bad.exit_code == 1
    assert "not a zip archive" in bad.output

    missing = runner.invoke(models, [*base, "remove", "translate-da_en"])
    assert missing.exit_code == 1
    assert "no package translate-da_en is installed" in missing.output

    offline = runner.invoke(
        models, [*base, "install", "translate-da_en", "--index-url", "http://127.0.0.1:9/i.json"]
    )
    assert offline.exit_code == 1
    assert "syndicate models install FILE.argosmodel" in offline.output


def test_damaged_package_is_shown(runner: CliRunner, tmp_path: Path) -> None:
    packages = tmp_path / "pk"
    (packages / "translate-da_en-1.0").mkdir(parents=True)
    listed = runner.invoke(models, ["--packages-dir", str(packages), "list"])
    assert listed.exit_code == 0
    assert "DAMAGED" in listed.output and "no metadata.json" in listed.output


def test_configured_ctranslate2_models_are_listed(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "syndication.toml").write_text(
        '[engines.opus_de]\ntype = "ctranslate2"\nmodel = "models/opus-mt-da-de"\n'
        'source = "da"\ntarget = "de"\n',
        encoding="utf-8",
    )
    listed = runner.invoke(models, ["--packages-dir", str(tmp_path / "pk"), "list"])
    assert listed.exit_code == 0, listed.output
    assert "da→de  opus_de  ctranslate2" in listed.output
    assert "MISSING model.bin" in listed.output


def test_packages_dir_from_the_config_wins_over_the_environment(
    runner: CliRunner, tmp_path: Path, argos_dist: dict[str, Path]
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "syndication.toml").write_text(
        '[engines.argos]\ntype = "argos"\npackages_dir = "models/argos"\n', encoding="utf-8"
    )
    done = runner.invoke(
        models, ["install", str(argos_dist["da_en"])], env={"ARGOS_PACKAGES_DIR": str(tmp_path / "env")}
    )
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "models" / "argos").iterdir()) == ["translate-da_en-1.0"]
    assert not (tmp_path / "env").exists()


def test_paths_are_installed_as_files_never_looked_up_in_the_index(
    runner: CliRunner, tmp_path: Path, packages_dir: Path
) -> None:
    base = ["--packages-dir", str(tmp_path / "pk")]
    folder = next(p for p in packages_dir.iterdir() if p.name.startswith("translate-da_en"))
    as_folder = runner.invoke(models, [*base, "install", str(folder)])
    assert as_folder.exit_code == 1
    assert "is a folder" in as_folder.output and "index" not in as_folder.output

    # A mistyped path (no .argosmodel suffix) is a missing file, not a package code to download.
    typo = runner.invoke(models, [*base, "install", "./downloads/translate-da_en.zip"])
    assert typo.exit_code == 1
    assert "does not exist" in typo.output and "index" not in typo.output


def test_config_option_names_the_config_like_every_other_command(
    runner: CliRunner, tmp_path: Path, argos_dist: dict[str, Path]
) -> None:
    # A config outside ./config/ (as `syndicate run -c FILE` uses): install where its engine reads.
    elsewhere = tmp_path / "srv" / "app.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text('[engines.argos]\ntype = "argos"\npackages_dir = "argos"\n', encoding="utf-8")
    done = runner.invoke(models, ["-c", str(elsewhere), "install", str(argos_dist["da_en"])])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "srv" / "argos").iterdir()) == ["translate-da_en-1.0"]
    listed = runner.invoke(models, ["-c", str(elsewhere), "list"])
    assert "translate-da_en" in listed.output
    # A config named explicitly must load.
    broken = runner.invoke(models, ["-c", str(tmp_path / "nope.toml"), "list"])
    assert broken.exit_code == 1 and "nope.toml not found" in broken.output
