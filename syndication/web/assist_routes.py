"""JSON beside the item page: memory matches and glossary hints, and propagating a saved segment.

``GET /items/{tid}/assist`` is fetched once by ``static/review.js`` after the page loads (the page
itself stays as fast as before); ``GET …/segments/{key}/propagation`` lists the identical segments a
save could fill, and ``POST …/segments/{key}/propagate`` (CSRF-checked) fills those the editor
accepted. Every route checks the editor's languages like the item page does.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syndication.errors import ConfigError, ReviewError
from syndication.review.assist import (
    glossary_hints,
    memory_matches,
    propagate,
    propagation_candidates,
)
from syndication.review.corrections import suggestions
from syndication.store import Post, SegmentRow, TranslatedSegment, Translation
from syndication.translations.glossary import DEFAULT_PATH, Glossary, load_glossary
from syndication.web.editor import chips_html, source_diff
from syndication.web.rendering import flash
from syndication.web.review_routes import _require_lang, _translation_id, _wants_json
from syndication.web.security import checked_form, require_user

if TYPE_CHECKING:
    from syndication.web.app import WebState

MAX_TARGETS = 500

_cache_lock = threading.Lock()
_cache: dict[Path, tuple[float, Glossary]] = {}


def _state(request: Request) -> WebState:
    from syndication.web.app import state_of

    return state_of(request)


def web_glossary(state: WebState) -> Glossary | None:
    """The configured glossary, read again only when the file changes (editors add terms while the
    app runs); a broken file gives no hints rather than a broken page (``syndicate check`` names it)."""
    setting = state.settings.translation.glossary
    if setting == "":
        return None
    path = state.settings.resolve_path(setting or DEFAULT_PATH)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
    try:
        glossary = load_glossary(path)
    except ConfigError:
        return None
    with _cache_lock:
        _cache[path] = (mtime, glossary)
    return glossary


async def assist(request: Request) -> Response:
    user = require_user(request)
    translation_id = _translation_id(request)
    await _require_lang(request, user, translation_id)
    state = _state(request)
    glossary = await run_in_threadpool(web_glossary, state)

    def load() -> dict[str, Any]:
        with state.ctx.store.session() as session:
            found = session.execute(
                select(Translation.lang, Translation.engine, Post.source_lang)
                .join(Post, Post.id == Translation.post_id)
                .where(Translation.id == translation_id)
            ).first()
            if found is None:
                raise HTTPException(404, f"no translation with id {translation_id}")
            lang, engine, source_lang = found
            try:
                matches = memory_matches(session, translation_id)
            except ReviewError as exc:
                raise HTTPException(404, str(exc)) from exc
            rows = session.execute(
                select(
                    TranslatedSegment.key,
                    TranslatedSegment.target,
                    SegmentRow.source,
                    SegmentRow.markup,
                    TranslatedSegment.state,
                )
                .join(SegmentRow, SegmentRow.id == TranslatedSegment.segment_id)
                .where(TranslatedSegment.translation_id == translation_id)
            ).all()
            learned = suggestions(
                session,
                engine=engine,
                source_lang=source_lang,
                lang=lang,
                segments=[(key, source, target) for key, target, source, _, st in rows if st != "approved"],
                threshold=state.settings.review.auto_apply_corrections,
            )
        out: dict[str, Any] = {}
        for key, target, source, markup, _ in rows:
            entry: dict[str, Any] = {}
            if key in learned:
                entry["corrections"] = [s.as_json() for s in learned[key]]
            hints = glossary_hints(glossary, source, target, lang)
            if hints:
                entry["glossary"] = [hint.as_json() for hint in hints]
            if key in matches:
                entry["memory"] = [
                    {
                        **match.as_json(),
                        "html": str(chips_html(match.target, markup)),
                        "diff": str(source_diff(match.source, source, markup)),
                    }
                    for match in matches[key]
                ]
            if entry:
                out[key] = entry
        return out

    return JSONResponse({"segments": await run_in_threadpool(load)})


async def propagation(request: Request) -> Response:
    user = require_user(request)
    translation_id = _translation_id(request)
    await _require_lang(request, user, translation_id)
    key = str(request.path_params["key"])[:50]
    state = _state(request)

    def load() -> list[dict[str, Any]]:
        with state.ctx.store.session() as session:
            try:
                found = propagation_candidates(session, translation_id, key)
            except ReviewError as exc:
                raise HTTPException(404, str(exc)) from exc
        # Other languages never match (same-language query); a limited editor sees only theirs.
        return [c.as_json() for c in found]

    return JSONResponse({"candidates": await run_in_threadpool(load)})


def _targets(values: list[str]) -> list[tuple[int, str, int]]:
    """``target`` fields ``<item id>:<segment key>:<version>`` as the editor accepted them."""
    if len(values) > MAX_TARGETS:
        raise HTTPException(400, f"too many segments at once ({len(values)}; at most {MAX_TARGETS})")
    out = []
    for value in values:
        parts = value.split(":")
        try:
            if len(parts) != 3:
                raise ValueError(value)
            out.append((int(parts[0]), parts[1][:50], int(parts[2])))
        except ValueError as exc:
            raise HTTPException(400, f"the target {value[:80]!r} is not <item>:<segment>:<version>") from exc
    return out


async def propagate_segment(request: Request) -> Response:
    user = require_user(request)
    translation_id = _translation_id(request)
    await _require_lang(request, user, translation_id)
    key = str(request.path_params["key"])[:50]
    form = await checked_form(request)
    targets = _targets([str(v) for v in form.getlist("target")])
    state = _state(request)
    glossary = await run_in_threadpool(web_glossary, state)

    def work() -> dict[str, Any]:
        with state.ctx.store.session() as session:
            try:
                result = propagate(
                    session,
                    translation_id,
                    key,
                    targets,
                    actor=user.username,
                    may_review=user.may_review,
                    glossary=glossary,
                )
            except ReviewError as exc:
                raise HTTPException(404, str(exc)) from exc
        return {
            "applied": [
                {
                    "translation_id": a.translation_id,
                    "key": a.key,
                    "version": a.version,
                    "origin": "propagated",
                    "html": str(chips_html(a.target, a.markup)),
                    "text": a.target,
                    "flags": a.flags,
                    "item_version": a.item_version,
                }
                for a in result.applied
            ],
            "refused": [{"translation_id": t, "key": k, "reason": why} for t, k, why in result.refused],
        }

    body = await run_in_threadpool(work)
    if _wants_json(request):
        return JSONResponse({"ok": True, **body})
    text = f"Applied to {len(body['applied'])} identical segment(s)."
    if body["refused"]:
        text += " Not applied: " + "; ".join(r["reason"] for r in body["refused"][:5])
    flash(request, "warn" if body["refused"] else "ok", text)
    return RedirectResponse(f"/items/{translation_id}#seg-{key}", status_code=303)


def assist_routes() -> list[BaseRoute]:
    return [
        Route("/items/{tid:int}/assist", assist, methods=["GET"]),
        Route("/items/{tid:int}/segments/{key}/propagation", propagation, methods=["GET"]),
        Route("/items/{tid:int}/segments/{key}/propagate", propagate_segment, methods=["POST"]),
    ]
