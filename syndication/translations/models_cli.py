"""``syndicate models``: list, install and remove translation models.

Mounted by the main CLI with ``cli.add_command(models)``. Importing this module imports neither
CTranslate2 nor SentencePiece (nor ``requests`` until an install by code), so ``syndicate --help``
stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from syndication.cli_support import config_option
from syndication.errors import SyndicationError
from syndication.translations import argos_packages, opus_mt

if TYPE_CHECKING:
    from syndication.settings import Settings

MODELS_DIR_HELP = (
    "Folder of installed OPUS-MT models (default: `[translation] models_dir` in the config, else "
    "$SYNDICATION_MODELS_DIR, else ~/.local/share/syndication/models)."
)
PACKAGES_DIR_HELP = (
    "Folder of installed Argos packages (default: `packages_dir` of the argos engine in the config, "
    "else $ARGOS_PACKAGES_DIR, else ~/.local/share/argos-translate/packages)."
)


def _settings(config: Path | None) -> Settings | None:
    """The configuration: ``--config`` (which must load), else the default file if it loads."""
    from syndication.settings import load_settings

    try:
        return load_settings(config)
    except SyndicationError as exc:
        if config is not None:
            raise click.ClickException(str(exc)) from exc
        return None


def _configured_packages_dir(config: Path | None) -> Path | None:
    """``packages_dir`` of the first ``argos`` engine in the config, so the CLI installs where the
    engine reads (the engine resolves it the same way: config, then environment, then default)."""
    settings = _settings(config)
    if settings is None:
        return None
    for engine in settings.engines.values():
        value = (engine.model_extra or {}).get("packages_dir") if engine.type == "argos" else None
        if value:
            return settings.resolve_path(str(value)).expanduser()
    return None


def _group_param(ctx: click.Context, name: str) -> Path | None:
    """A parameter of the ``models`` group (its context is an ancestor of ours). Read from the
    group's parameters rather than ``ctx.obj``, which the main CLI may use for itself."""
    current: click.Context | None = ctx
    while current is not None:
        if current.command is models:
            value = current.params.get(name)
            return Path(value).expanduser() if value else None
        current = current.parent
    return None


def _packages_dir(ctx: click.Context) -> Path:
    """``--packages-dir``, else the config's, else the Argos default."""
    return (
        _group_param(ctx, "packages_dir")
        or _configured_packages_dir(_group_param(ctx, "config"))
        or argos_packages.default_packages_dir()
    )


def _models_dir(ctx: click.Context) -> Path:
    """``--models-dir``, else ``[translation] models_dir``, else the default (OPUS-MT models)."""
    from syndication.translations.engine_choice import models_dir

    explicit = _group_param(ctx, "models_dir")
    if explicit:
        return explicit
    settings = _settings(_group_param(ctx, "config"))
    return models_dir(settings) if settings is not None else opus_mt.default_models_dir()


@click.group("models")
@config_option
@click.option(
    "--packages-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=PACKAGES_DIR_HELP,
)
@click.option(
    "--models-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=MODELS_DIR_HELP,
)
def models(config: Path | None, packages_dir: Path | None, models_dir: Path | None) -> None:
    """List, install and remove offline translation models (Argos packages, OPUS-MT models)."""


@models.command("list")
@click.pass_context
def list_models(ctx: click.Context) -> None:
    """Installed pairs with their versions and engine, pivots through English, and damaged packages."""
    directory = _packages_dir(ctx)
    installed = argos_packages.installed_packages(directory)
    click.echo(f"Argos packages in {directory}:")
    usable = [p for p in installed if p.usable]
    if not usable:
        click.echo(
            "  (none) — install one with `syndicate models install translate-da_en` or FILE.argosmodel"
        )
    for package in usable:
        pair = f"{package.from_code}→{package.to_code}"
        click.echo(f"  {pair}  {package.code}  {package.version}  argos  {package.path}")
    pairs = {(p.from_code, p.to_code) for p in usable}
    pivots = sorted(
        (a, c)
        for (a, b) in pairs
        if b == "en"
        for (p, c) in pairs
        if p == "en" and c != a and (a, c) not in pairs
    )
    for a, c in pivots:
        click.echo(f"  {a}→{c}  via English (translate-{a}_en + translate-en_{c})  argos")
    for package in installed:
        if not package.usable:
            click.echo(f"  DAMAGED {package.path}: {package.problem}")
    opus_dir = _models_dir(ctx)
    click.echo(f"OPUS-MT models in {opus_dir}:")
    found = opus_mt.installed_models(opus_dir)
    if not found:
        click.echo(
            "  (none) — install one with `syndicate models install opus-mt:da-sv` or FILE.zip --pair da-sv"
        )
    for model in found:
        if model.usable:
            prefix = f"  token {model.source_prefix}" if model.source_prefix else ""
            click.echo(
                f"  {model.source}→{model.target}  {model.name}  {model.version}{prefix}  {model.path}"
            )
        else:
            click.echo(f"  DAMAGED {model.path}: {model.problem}")
    _list_configured_models(_group_param(ctx, "config"))
    _list_choices(_group_param(ctx, "config"), ctx)


def _list_choices(config: Path | None, ctx: click.Context) -> None:
    """Per target language: the engine the pipeline will use, and why."""
    from syndication.translations.engine_choice import choose

    settings = _settings(config)
    if settings is None:
        return
    if _group_param(ctx, "models_dir"):
        # The listing above used --models-dir: judge the chains against the same folder.
        settings.translation.models_dir = str(_group_param(ctx, "models_dir"))
    click.echo(f"Engine per target language (from {settings.translation.source_lang}):")
    for lang in settings.translation.targets:
        choice = choose(settings, lang)
        chain = " → ".join(choice.chain)
        click.echo(f"  {lang}: {choice.name} ({choice.engine_type})  {choice.reason}  [chain: {chain}]")


def _list_configured_models(config: Path | None) -> None:
    """CTranslate2 model folders configured as engines in the settings, if a config is found."""
    from syndication.settings import load_settings

    try:
        settings = load_settings(config)
    except SyndicationError as exc:
        if config is not None:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"(configured engines not shown: {exc})", err=True)
        return
    configured = [(name, e) for name, e in settings.engines.items() if e.type == "ctranslate2"]
    if not configured:
        return
    click.echo("CTranslate2 models configured as engines:")
    for name, engine in configured:
        extra = engine.model_extra or {}
        model = settings.resolve_path(str(extra.get("model", "?")))
        state = "" if (model / "model.bin").is_file() else "  MISSING model.bin"
        click.echo(
            f"  {extra.get('source', '?')}→{extra.get('target', '?')}  {name}  ctranslate2  {model}{state}"
        )


@models.command("install")
@click.argument("source")
@click.option(
    "--index-url",
    default=None,
    help="Package index (default: the Argos index, or $ARGOS_PACKAGE_INDEX).",
)
@click.option("--pair", default=None, help="OPUS-MT archive: the pair to install it for (da-nb, da-nn, …).")
@click.option(
    "--quantization",
    type=click.Choice(opus_mt.QUANTIZATIONS),
    default="int8",
    show_default=True,
    help="OPUS-MT: weight type of the converted model.",
)
@click.option("--sha256", default=None, help="OPUS-MT: refuse the archive unless it has this SHA-256.")
@click.pass_context
def install(
    ctx: click.Context,
    source: str,
    index_url: str | None,
    pair: str | None,
    quantization: str,
    sha256: str | None,
) -> None:
    """Install SOURCE: opus-mt:da-sv (download and convert an OPUS-MT model), an OPUS-MT .zip
    archive (offline; --pair when it serves several languages), a .argosmodel file (offline) or an
    Argos package code such as translate-da_en (online)."""
    path = Path(source).expanduser()
    try:
        if source.startswith("opus-mt:") or (_is_path(source, path) and _is_marian_zip(path)):
            _install_opus(ctx, source, path, pair, quantization, sha256)
            return
        directory = _packages_dir(ctx)
        if _is_path(source, path):
            package = argos_packages.install_file(path, directory)
        else:
            package = argos_packages.install_code(source, directory, url=index_url)
    except SyndicationError as exc:
        raise click.ClickException(str(exc)) from exc
    pair = f"{package.from_code}→{package.to_code}"
    click.echo(f"Installed {package.code} {package.version} ({pair}) in {package.path}")


def _is_marian_zip(path: Path) -> bool:
    """An OPUS-MT release archive (it has a ``decoder.yml``), not an Argos package."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return any(Path(name).name == "decoder.yml" for name in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return path.suffix.lower() == ".zip" and not path.is_file()


def _install_opus(
    ctx: click.Context, source: str, path: Path, pair: str | None, quantization: str, sha256: str | None
) -> None:
    directory = _models_dir(ctx)
    if source.startswith("opus-mt:"):
        src, tgt = opus_mt.parse_pair(source)
        if pair and opus_mt.parse_pair(pair) != (src, tgt):
            raise click.UsageError(f"--pair {pair} contradicts {source}")
        click.echo(f"Downloading {opus_mt.archive_url(src, tgt)} …")
        model = opus_mt.install_pair(src, tgt, directory, quantization=quantization, expected_sha256=sha256)
    else:
        model = opus_mt.install_archive(
            path,
            directory,
            pair=opus_mt.parse_pair(pair) if pair else None,
            quantization=quantization,
            expected_sha256=sha256,
        )
    token = f", target token {model.source_prefix}" if model.source_prefix else ""
    click.echo(
        f"Installed {model.name} ({model.source}→{model.target}, {model.version}{token}) in {model.path}\n"
        f'  archive SHA-256 {model.sha256}; use it with engines = {{ {model.target} = "{model.name}" }}'
    )


def _is_path(source: str, path: Path) -> bool:
    """A file or folder argument, never a package code to look up in the index: codes
    (``translate-da_en``) have no slash and no file suffix, so a mistyped path fails as a missing
    file instead of reaching for the network."""
    return (
        path.exists()
        or path.suffix.lower() in (".argosmodel", ".zip")
        or "/" in source
        or os.sep in source
        or source.startswith((".", "~"))
    )


@models.command("remove")
@click.argument("code")
@click.pass_context
def remove(ctx: click.Context, code: str) -> None:
    """Remove the installed package CODE (e.g. translate-da_en, or opus-da-sv / opus-mt:da-sv)."""
    if code.startswith(("opus-mt:", "opus-")):
        try:
            model = opus_mt.remove_model(code, _models_dir(ctx))
        except SyndicationError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Removed {model.name} ({model.version}) from {model.path.parent}")
        return
    try:
        package = argos_packages.remove_package(code, _packages_dir(ctx))
    except SyndicationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Removed {package.code} {package.version} from {package.path.parent}")
