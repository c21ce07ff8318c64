"""Jinja2 templates for the review app: autoescaped, strict about undefined names, compiled once."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from syndication.web.editor import chips_html, source_diff
from syndication.web.security import CSRF_FIELD, csrf_token, current_user

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
DISPLAY_TZ = ZoneInfo("Europe/Copenhagen")
"""The blog's editors work in Danish time; stored times are UTC."""


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(DISPLAY_TZ).strftime(fmt)


def iso_time(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def is_web_url(value: object) -> bool:
    """Only http(s) URLs become links: a ``javascript:`` URL from a feed must stay text."""
    return isinstance(value, str) and value.lower().startswith(("https://", "http://"))


def static_versions() -> dict[str, str]:
    """File name → short content hash, appended to static URLs so a new release is never cached."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        for path in STATIC.iterdir()
        if path.is_file()
    }


class Pages:
    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(enabled_extensions=("html",), default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.env.filters["local_time"] = local_time
        self.env.filters["iso_time"] = iso_time
        versions = static_versions()
        self.env.globals["static"] = lambda name: f"/static/{name}?v={versions.get(name, '0')}"
        self.env.globals["csrf_field"] = CSRF_FIELD
        self.env.globals["chips"] = chips_html
        self.env.globals["word_diff"] = source_diff
        self.env.filters["is_web_url"] = is_web_url

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(**context)

    def response(self, request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        flashes = request.session.pop("flash", None) if "flash" in request.session else None
        html = self.render(
            name,
            request=request,
            user=current_user(request),
            csrf_token=csrf_token(request),
            flashes=flashes or [],
            **context,
        )
        return HTMLResponse(html, status_code=status_code)


def flash(request: Request, kind: str, text: str) -> None:
    """A message for the next page this browser renders (``kind``: ok, info, warn, error)."""
    messages = list(request.session.get("flash") or [])
    messages.append([kind, text])
    request.session["flash"] = messages[-5:]
