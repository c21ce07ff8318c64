"""The queue, the item page, and the actions on it: edit a segment, approve, reject, publish now.

Every action answers JSON to ``static/review.js`` (``Accept: application/json``) and a page or a
redirect to a browser without JavaScript; both get the same status codes: 409 for a conflict (another
editor's edit, a stale revision or item), 422 for an edit that breaks placeholders or an approval that
still needs its QA flags confirmed, 400 for other refusals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syndication.errors import EditConflictError, PlaceholderError, ReviewError, StaleRevisionError
from syndication.review import (
    approve,
    awaiting_per_language,
    current_per_state,
    edit_segment,
    queue_page,
    reject,
)
from syndication.review.actions import flagged_open_segments, last_actor, source_incomplete
from syndication.review.queries import SORTS, next_item
from syndication.store import Feed, Post, TranslatedSegment, Translation
from syndication.web.editor import chips_html, normalize_edit
from syndication.web.item_page import ItemPage, item_page
from syndication.web.preview import current_preview
from syndication.web.rendering import flash
from syndication.web.security import checked_form, require_admin, require_user
from syndication.web.users import SignedIn

if TYPE_CHECKING:
    from syndication.web.app import WebState

STATES = ("machine_translated", "approved", "rejected", "failed", "all")
PER_PAGE = 50
"""Queue items per page unless ``?per_page=`` says otherwise (at most ``MAX_PER_PAGE``)."""
MAX_PER_PAGE = 500
MAX_PAGE = 1_000_000
MAX_COMMENT = 4000
MAX_SEGMENT = 20_000
EVENT_LABELS = {
    "edit": "edited",
    "approve": "approved",
    "reject": "rejected",
    "retract": "retracted",
    "auto_approve": "approved (auto-approve policy)",
    "carry_over_approve": "approved (unchanged since the last approval)",
    "publish_started": "started publishing",
    "publish_now": "published now",
}
"""History lines read "anna approved", "anna edited segment 5" (the number the page shows)."""
PREVIEW_CSP = (
    "sandbox; default-src 'none'; img-src http: https: data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def _state(request: Request) -> WebState:
    from syndication.web.app import state_of

    return state_of(request)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _translation_id(request: Request) -> int:
    value = request.path_params["tid"]
    assert isinstance(value, int)
    return value


async def _require_lang(request: Request, user: SignedIn, translation_id: int) -> None:
    """403 unless ``user`` may review the item's language (``syndicate users add --lang``)."""
    if user.langs is None:
        return
    state = _state(request)

    def lang_of() -> str | None:
        with state.ctx.store.session() as session:
            return session.scalar(select(Translation.lang).where(Translation.id == translation_id))

    lang = await run_in_threadpool(lang_of)
    if lang is not None and not user.may_review(lang):
        raise HTTPException(
            403, f"you review {', '.join(user.langs)} only; this item is in {lang} (item {translation_id})"
        )


# ------------------------------------------------------------------------------------------ queue


def _int_param(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value) if value else default
    except ValueError:
        return default
    return min(high, max(low, number))


def _queue_link(page: int, per_page: int, **filters: str | None) -> str:
    params = {k: v for k, v in filters.items() if v}
    if per_page != PER_PAGE:
        params["per_page"] = str(per_page)
    if page > 1:
        params["page"] = str(page)
    return "/?" + urlencode(params) if params else "/"


async def queue(request: Request) -> Response:
    user = require_user(request)
    state = _state(request)
    params = request.query_params
    lang = (params.get("lang") or "")[:20] or None
    if lang is not None and not user.may_review(lang):
        raise HTTPException(403, f"you review {', '.join(user.langs or ())} only, not {lang}")
    feed = (params.get("feed") or "")[:2000] or None
    search = (params.get("q") or "").strip()[:200] or None
    status = params.get("state") or "machine_translated"
    if status not in STATES:
        status = "machine_translated"
    sort = params.get("sort") or "newest"
    if sort not in SORTS:
        sort = "newest"
    per_page = _int_param(params.get("per_page"), PER_PAGE, 1, MAX_PER_PAGE)
    number = _int_param(params.get("page"), 1, 1, MAX_PAGE)

    def load() -> dict[str, Any]:
        with state.ctx.store.session() as session:
            # The tabs' counts give this view's count too, read once: what awaits review from
            # the awaiting items alone, every state from one grouped count of them all.
            known = None
            if search is not None:
                per_lang = awaiting_per_language(session)
            elif status == "all" and feed is None:
                grouped = current_per_state(session)
                per_lang = {code: n for (st, code), n in grouped.items() if st == "machine_translated"}
                known = sum(
                    n
                    for (st, code), n in grouped.items()
                    if st != "superseded" and lang in (None, code) and user.may_review(code)
                )
            else:
                per_lang = awaiting_per_language(session)
                if status == "machine_translated" and feed is None:
                    mine = [n for code, n in per_lang.items() if user.may_review(code)]
                    known = per_lang.get(lang, 0) if lang else sum(mine)
            page = queue_page(
                session,
                limit=per_page,
                offset=(number - 1) * per_page,
                status=None if status == "all" else status,
                lang=lang,
                feed=feed,
                total=known,
                sort=sort,
                q=search,
                # An editor limited to some languages pages through those alone.
                langs=None if lang else user.langs,
            )
            feeds = [name or url for name, url in session.execute(select(Feed.name, Feed.url))]
        per_lang = {code: n for code, n in per_lang.items() if user.may_review(code)}
        langs = sorted(
            code for code in set(state.settings.translation.targets) | set(per_lang) if user.may_review(code)
        )
        return {"page": page, "per_lang": per_lang, "langs": langs, "feeds": sorted(feeds)}

    data = await run_in_threadpool(load)
    page = data["page"]
    state_param = None if status == "machine_translated" else status
    kept = {
        "lang": lang,
        "feed": feed,
        "state": state_param,
        "sort": None if sort == "newest" else sort,
        "q": search,
    }
    links = {
        "previous": _queue_link(number - 1, per_page, **kept) if page.previous_offset is not None else None,
        "next": _queue_link(number + 1, per_page, **kept) if page.next_offset is not None else None,
        "last": _queue_link(-(-page.total // per_page), per_page, **kept),
    }
    return state.pages.response(
        request,
        "queue.html",
        lang=lang,
        feed=feed,
        state=status,
        states=STATES,
        sort=sort,
        q=search or "",
        items=page.items,
        per_page=per_page,
        page_number=number,
        links=links,
        **data,
    )


# ------------------------------------------------------------------------------------------- item


def _load_page(state: WebState, translation_id: int) -> ItemPage:
    with state.ctx.store.session() as session:
        try:
            return item_page(session, translation_id)
        except ReviewError as exc:
            raise HTTPException(404, str(exc)) from exc


def _item_response(
    request: Request,
    page: ItemPage,
    *,
    status_code: int = 200,
    error: str | None = None,
    segment_errors: dict[str, str] | None = None,
    segment_texts: dict[str, str] | None = None,
    confirm_flags: bool = False,
    comment: str = "",
) -> HTMLResponse:
    state = _state(request)
    return state.pages.response(
        request,
        "item.html",
        status_code=status_code,
        page=page,
        item=page.detail.item,
        markups={row.view.key: row.view.markup for row in page.rows},
        numbers={row.view.key: number for number, row in enumerate(page.rows, start=1)},
        event_labels=EVENT_LABELS,
        error=error,
        segment_errors=segment_errors or {},
        segment_texts=segment_texts or {},
        confirm_flags=confirm_flags,
        comment=comment,
        uses_prefect=state.publisher.uses_prefect,
        deployment=state.publisher.deployment,
        confidence_low=state.settings.translation.confidence_threshold(page.detail.item.lang),
    )


async def item(request: Request) -> Response:
    await _require_lang(request, require_user(request), _translation_id(request))
    page = await run_in_threadpool(_load_page, _state(request), _translation_id(request))
    return _item_response(request, page)


async def preview(request: Request) -> Response:
    await _require_lang(request, require_user(request), _translation_id(request))
    state = _state(request)
    translation_id = _translation_id(request)

    def load() -> Any:
        with state.ctx.store.session() as session:
            try:
                return current_preview(session, translation_id, state.ctx)
            except ReviewError as exc:
                raise HTTPException(404, str(exc)) from exc

    doc = await run_in_threadpool(load)
    html = state.pages.render("preview.html", doc=doc)
    # A sandboxed document of its own: even a sanitizer miss could run nothing and reach nothing.
    return HTMLResponse(
        html, headers={"Content-Security-Policy": PREVIEW_CSP, "X-Frame-Options": "SAMEORIGIN"}
    )


# ------------------------------------------------------------------------------------------- edit


@dataclass(frozen=True)
class SegmentState:
    key: str
    target: str
    version: int
    origin: str
    state: str
    flags: list[dict[str, str]]
    updated_by: str | None
    item_version: int
    markup: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.target,
            "html": str(chips_html(self.target, self.markup)),
            "version": self.version,
            "origin": self.origin,
            "state": self.state,
            "flags": self.flags,
            "updated_by": self.updated_by,
            "item_version": self.item_version,
        }


def _segment_state(state: WebState, translation_id: int, key: str) -> SegmentState | None:
    from syndication.store import SegmentRow

    with state.ctx.store.session() as session:
        found = session.execute(
            select(TranslatedSegment, SegmentRow, Translation.version)
            .join(SegmentRow, SegmentRow.id == TranslatedSegment.segment_id)
            .join(Translation, Translation.id == TranslatedSegment.translation_id)
            .where(TranslatedSegment.translation_id == translation_id, TranslatedSegment.key == key)
        ).first()
        if found is None:
            return None
        row, source, item_version = found
        return SegmentState(
            key=key,
            target=row.target,
            version=row.version,
            origin=row.origin,
            state=row.state,
            flags=list(row.flags or []),
            updated_by=row.updated_by,
            item_version=item_version,
            markup=dict(source.markup),
        )


def _int_field(form: FormData, name: str) -> int:
    value = form.get(name)
    try:
        return int(str(value))
    except ValueError as exc:
        raise HTTPException(400, f"the form field {name!r} is missing or not a number") from exc


async def save_segment(request: Request) -> Response:
    user = require_user(request)
    state = _state(request)
    translation_id = _translation_id(request)
    await _require_lang(request, user, translation_id)
    key = str(request.path_params["key"])[:50]
    form = await checked_form(request)
    raw = str(form.get("text") or "")
    if len(raw) > MAX_SEGMENT:
        raise HTTPException(400, f"the text is too long ({len(raw)} characters; at most {MAX_SEGMENT})")
    version = _int_field(form, "version")
    text = normalize_edit(raw)

    from syndication.web.assist_routes import web_glossary

    glossary = await run_in_threadpool(web_glossary, state)

    def save() -> SegmentState | None:
        with state.ctx.store.session() as session:
            edit_segment(
                session,
                translation_id,
                key,
                text,
                actor=user.username,
                expected_version=version,
                glossary=glossary,
            )
        return _segment_state(state, translation_id, key)

    status, message = 200, ""
    try:
        saved = await run_in_threadpool(save)
    except PlaceholderError as exc:
        status = 422
        message = (
            f"Not saved: {exc.message}. Every placeholder of the source ({{1 … 1}}, {{2}}) must stay "
            "in the translation exactly once; click a chip in the Danish text to put it back."
        )
    except EditConflictError as exc:
        status, message = 409, f"Not saved: {exc.message}"
    except StaleRevisionError as exc:
        status, message = 409, f"Not saved: {exc.message}"
    except ReviewError as exc:
        status, message = 400, f"Not saved: {exc.message}"
    current = await run_in_threadpool(_segment_state, state, translation_id, key)
    if current is None:
        raise HTTPException(404, f"no segment {key!r} in translation {translation_id}")
    if _wants_json(request):
        body: dict[str, Any] = {"ok": status == 200, "segment": current.as_json()}
        if status != 200:
            body["error"] = message
        return JSONResponse(body, status_code=status)
    if status == 200:
        assert saved is not None
        flash(request, "ok", f"Saved segment {key}.")
        return RedirectResponse(f"/items/{translation_id}#seg-{key}", status_code=303)
    page = await run_in_threadpool(_load_page, state, translation_id)
    return _item_response(
        request,
        page,
        status_code=status,
        error=message,
        segment_errors={key: message},
        # The editor's own text stays in the box; on a conflict the other version is shown beside it.
        segment_texts={key: raw},
    )


# -------------------------------------------------------------------------------------- decisions


def _comment(form: FormData) -> str | None:
    comment = str(form.get("comment") or "").strip()
    if len(comment) > MAX_COMMENT:
        raise HTTPException(400, f"the comment is too long (at most {MAX_COMMENT} characters)")
    return comment or None


def _check_item_version(session: Any, translation_id: int, expected: int | None) -> None:
    if expected is None:
        return
    translation = session.get(Translation, translation_id)
    if translation is not None and translation.version != expected:
        raise StaleRevisionError(
            f"this translation changed since you opened it (last by {last_actor(session, translation_id)}); "
            "look at it again before deciding"
        )


async def _decide(request: Request, decision: str) -> Response:
    user = require_user(request)
    state = _state(request)
    translation_id = _translation_id(request)
    await _require_lang(request, user, translation_id)
    form = await checked_form(request)
    comment = _comment(form)
    revision = str(form.get("revision") or "") or None
    expected = _int_field(form, "item_version") if form.get("item_version") else None
    confirmed = form.get("confirm_flags") in ("1", "on", "yes", "true")

    def work() -> tuple[int, bool, int | None]:
        with state.ctx.store.session() as session:
            before = session.get(Translation, translation_id)
            already = (
                decision == "approve"
                and before is not None
                and before.status == "approved"
                and session.scalar(select(Post.current_revision_id).where(Post.id == before.post_id))
                == before.revision_id
            )
            if already:
                # A second approval (another tab, a stale form) is a no-op: no event, no publish.
                assert before is not None
                return before.post_id, True, next_item(session, translation_id, before.lang)
            _check_item_version(session, translation_id, expected)
            if decision == "approve":
                flagged = flagged_open_segments(session, translation_id)
                incomplete = source_incomplete(session, translation_id)
                if (flagged or incomplete) and not confirmed:
                    raise _NeedsConfirmation(flagged, incomplete=incomplete)
                translation = approve(
                    session,
                    translation_id,
                    actor=user.username,
                    comment=comment,
                    revision=revision,
                    confirm_flags=confirmed,
                    expected_version=expected,
                )
            else:
                translation = reject(
                    session,
                    translation_id,
                    actor=user.username,
                    comment=comment,
                    revision=revision,
                    expected_version=expected,
                )
            return translation.post_id, False, next_item(session, translation_id, translation.lang)

    done = "approved" if decision == "approve" else "rejected"
    status, message, confirm = 200, "", False
    post_id, noop, following = 0, False, None
    try:
        post_id, noop, following = await run_in_threadpool(work)
    except _NeedsConfirmation as exc:
        status, confirm = 422, True
        problems = [f"{exc.flagged} segment(s) still have QA flags"] if exc.flagged else []
        if exc.incomplete:
            problems.append("the Danish source was not read whole")
        message = (
            f"{' and '.join(problems).capitalize()}. Look at them, or confirm that the "
            "translation should be approved as it is."
        )
    except StaleRevisionError as exc:
        status, message = 409, f"Not {done}: {exc.message}. Reload the page to see the current state."
    except ReviewError as exc:
        status, message = 400, f"Not {done}: {exc.message}"
    if status == 200 and noop:
        text = "Already approved; nothing changed."
        if _wants_json(request):
            return JSONResponse({"ok": True, "message": text, "outcome": None, "next": _item_url(following)})
        flash(request, "ok", text)
        return RedirectResponse(f"/items/{translation_id}", status_code=303)
    if status == 200:
        if decision == "approve":
            result = await run_in_threadpool(
                state.publisher.after_approval,
                translation_id=translation_id,
                post_id=post_id,
                actor=user.username,
            )
            text = "Approved. " + result.message
            kind = "warn" if result.outcome == "failed" else "ok"
        else:
            text = "Rejected. Anything already sent is withdrawn on the next publish."
            result, kind = None, "ok"
        if _wants_json(request):
            return JSONResponse(
                {
                    "ok": True,
                    "message": text,
                    "outcome": result.outcome if result else None,
                    "next": _item_url(following),
                }
            )
        # On to the next item of the language; the message names the one just decided.
        if following is not None:
            flash(request, kind, f"Item {translation_id}: {text} Next item below.")
            return RedirectResponse(f"/items/{following}", status_code=303)
        flash(request, kind, f"{text} Nothing else waits for review in this language.")
        return RedirectResponse(f"/items/{translation_id}", status_code=303)
    if _wants_json(request):
        return JSONResponse({"ok": False, "error": message, "confirm": confirm}, status_code=status)
    page = await run_in_threadpool(_load_page, state, translation_id)
    return _item_response(
        request, page, status_code=status, error=message, confirm_flags=confirm, comment=comment or ""
    )


def _item_url(translation_id: int | None) -> str | None:
    return f"/items/{translation_id}" if translation_id is not None else None


class _NeedsConfirmation(Exception):
    def __init__(self, flagged: int, *, incomplete: bool = False) -> None:
        super().__init__(f"{flagged} flagged")
        self.flagged = flagged
        self.incomplete = incomplete


async def approve_item(request: Request) -> Response:
    return await _decide(request, "approve")


async def reject_item(request: Request) -> Response:
    return await _decide(request, "reject")


async def publish_now(request: Request) -> Response:
    user = require_admin(request)
    state = _state(request)
    translation_id = _translation_id(request)
    await checked_form(request)
    if state.publisher.uses_prefect:
        raise HTTPException(
            400, "a Prefect server is configured: approvals start the publish deployment there"
        )

    def post_of() -> tuple[int, str]:
        with state.ctx.store.session() as session:
            translation = session.get(Translation, translation_id)
            if translation is None:
                raise HTTPException(404, f"no translation with id {translation_id}")
            return translation.post_id, translation.status

    post_id, status = await run_in_threadpool(post_of)
    if status not in ("approved", "rejected"):
        raise HTTPException(
            400, "only an approved (or rejected, to withdraw it) translation can be published"
        )
    summary = await run_in_threadpool(
        state.publisher.publish_now, translation_id=translation_id, post_id=post_id, actor=user.username
    )
    text = f"Published now: {summary.delivery_text()}."
    for error in summary.errors[:3]:
        text += f" {error.channel or error.stage}: {error.message}"
    flash(request, "warn" if summary.deliveries_failed or summary.errors else "ok", text)
    return RedirectResponse(f"/items/{translation_id}#deliveries", status_code=303)


def review_routes() -> list[BaseRoute]:
    return [
        Route("/", queue, methods=["GET"]),
        Route("/items/{tid:int}", item, methods=["GET"]),
        Route("/items/{tid:int}/preview", preview, methods=["GET"]),
        Route("/items/{tid:int}/segments/{key}", save_segment, methods=["POST"]),
        Route("/items/{tid:int}/approve", approve_item, methods=["POST"]),
        Route("/items/{tid:int}/reject", reject_item, methods=["POST"]),
        Route("/items/{tid:int}/publish", publish_now, methods=["POST"]),
    ]
