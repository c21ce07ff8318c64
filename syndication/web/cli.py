"""``syndicate serve`` (the review web app) and ``syndicate users`` (its accounts)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from syndication.cli_support import config_option, open_context
from syndication.errors import UserError

if TYPE_CHECKING:
    from syndication.settings import WebSettings

log = logging.getLogger("syndication.web")


@click.command()
@config_option
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1, or [web] host).")
@click.option(
    "--port", default=None, type=click.IntRange(0, 65535), help="Port (default 8000, or [web] port)."
)
@click.option(
    "--log-level", default="info", type=click.Choice(["critical", "error", "warning", "info", "debug"])
)
def serve(config: Path | None, host: str | None, port: int | None, log_level: str) -> None:
    """Start the review web app next to the pipeline's database."""
    import uvicorn

    from syndication.errors import SyndicationError
    from syndication.web.app import create_app

    logging.basicConfig(level=log_level.upper(), format="%(levelname)s: %(name)s: %(message)s")
    # Here, not at the top: `syndicate --help` loads this module, and the fetch package pulls requests.
    from syndication.fetch.guard import is_loopback_name

    with open_context(config) as ctx:
        settings = ctx.settings.web
        bind = host if host is not None else settings.host
        if not is_loopback_name(bind):
            if host is None:
                raise click.ClickException(
                    f"the config asks to listen on {bind!r}, which other machines can reach; "
                    f"pass --host {bind} to confirm (and put HTTPS in front of it)"
                )
            log.warning(
                "listening on %s: the review app is reachable from other machines; serve it behind "
                "HTTPS (a reverse proxy) so passwords and session cookies never cross the network in clear",
                bind,
            )
        try:
            app = create_app(ctx)
        except SyndicationError as exc:
            raise click.ClickException(str(exc)) from exc
        listen_port = port if port is not None else settings.port
        shown = f"[{bind}]" if ":" in bind else bind
        click.echo(
            f"review app on http://{shown}:{listen_port}/  (database {ctx.store.url}) — Ctrl-C stops it"
        )
        with ctx.store.session() as session:
            from sqlalchemy import func, select

            from syndication.web.users import User

            if not session.scalar(select(func.count()).select_from(User)):
                click.echo("no users yet: add one with `syndicate users add NAME --role admin`", err=True)
        uvicorn.run(app, host=bind, port=listen_port, log_level=log_level, **proxy_options(settings))


def proxy_options(settings: WebSettings) -> dict[str, Any]:
    """uvicorn's options for forwarded headers: believed only from ``[web] trusted_proxies``.

    uvicorn's own default trusts 127.0.0.1, so anything on the machine (or a proxy passing the
    header through) could pick the client address the login throttle counts, or reset it.
    """
    if not settings.trusted_proxies:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}


# ------------------------------------------------------------------------------------------ users


@click.group()
def users() -> None:
    """Accounts of the review web app (editors and admins)."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@users.command("add")
@config_option
@click.argument("name")
@click.option("--role", type=click.Choice(["editor", "admin"]), default="editor", show_default=True)
@click.option(
    "--lang",
    "langs",
    multiple=True,
    help="A language this user may review (repeat, or nb,sv); default: every language.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def users_add(
    config: Path | None, name: str, role: str, langs: tuple[str, ...], password_stdin: bool
) -> None:
    """Create an account (the password is prompted, hidden, twice)."""
    from syndication.web.users import add_user, check_langs, check_password, normalize_username

    lang_text = ",".join(langs) or None
    try:
        normalize_username(name)
        check_langs(lang_text)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    password = _read_password(password_stdin)
    try:
        check_password(password)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    with open_context(config) as ctx, ctx.store.session() as session:
        try:
            user = add_user(
                session,
                name,
                password,
                role=role,
                langs=lang_text,
                known_langs=list(ctx.settings.translation.targets),
            )
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"added {user.role} {user.username}" + (f" (reviews {user.langs})" if user.langs else ""))


@users.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
def users_list(config: Path | None, as_json: bool) -> None:
    """Every account with its role and state."""
    from syndication.web.users import list_users

    with open_context(config) as ctx, ctx.store.session() as session:
        rows: list[dict[str, str | bool]] = [
            {
                "username": u.username,
                "role": u.role,
                "disabled": u.disabled,
                "langs": u.langs or "all",
                "created_at": u.created_at.isoformat(),
            }
            for u in list_users(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no users yet: `syndicate users add NAME --role admin`")
    for row in rows:
        state = "disabled" if row["disabled"] else "active"
        since = str(row["created_at"])[:10]
        click.echo(f"{row['username']!s:<24} {row['role']!s:<7} {state:<9} {row['langs']!s:<8} since {since}")


@users.command("disable")
@config_option
@click.argument("name")
def users_disable(config: Path | None, name: str) -> None:
    """Disable an account; its sessions end at once."""
    from syndication.web.users import set_disabled

    with open_context(config) as ctx, ctx.store.session() as session:
        user = set_disabled(session, name, True)
        click.echo(f"disabled {user.username}")


@users.command("enable")
@config_option
@click.argument("name")
def users_enable(config: Path | None, name: str) -> None:
    """Enable a disabled account again."""
    from syndication.web.users import set_disabled

    with open_context(config) as ctx, ctx.store.session() as session:
        user = set_disabled(session, name, False)
        click.echo(f"enabled {user.username}")


@users.command("passwd")
@config_option
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def users_passwd(config: Path | None, name: str, password_stdin: bool) -> None:
    """Set a new password; the user's sessions end."""
    from syndication.web.users import check_password, find_user, set_password

    with open_context(config) as ctx:
        with ctx.store.session() as session:
            if find_user(session, name) is None:
                raise click.ClickException(f"no user named {name!r}; `syndicate users list` shows them")
        password = _read_password(password_stdin)
        try:
            check_password(password)
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
        with ctx.store.session() as session:
            user = set_password(session, name, password)
            click.echo(f"new password set for {user.username}; their sessions have ended")


@users.command("unlock")
@config_option
@click.argument("name")
def users_unlock(config: Path | None, name: str) -> None:
    """Forget a user's failed logins, so a locked-out editor can log in at once."""
    from syndication.web.users import unlock

    with open_context(config) as ctx, ctx.store.session() as session:
        count = unlock(session, name)
    click.echo(f"{name}: {count} failed login(s) forgotten")
