"""The review web app: editors review, edit and approve translations before anything is sent.

``create_app(ctx_or_settings_or_config)`` builds the ASGI app; ``syndicate serve`` runs it with uvicorn.
Imported lazily so ``syndicate --help`` (which mounts ``syndication.web.cli``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syndication.web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from syndication.web.app import create_app

        return create_app
    raise AttributeError(name)
