"""The ``wordpress`` channel: a partner's WordPress site, through its REST API.

Authentication is an Application Password (HTTP Basic); the password comes only from the
environment (``SYNDICATION__CHANNELS__<NAME>__PASSWORD``) or a Prefect Secret block, and appears in no
payload, receipt, error or log line. The credentials are checked once per run with
``GET /wp-json/wp/v2/users/me`` because WordPress answers public reads with 200 even for a wrong
password.

Exactly once in effect: before creating a post we look for the copy we may already have made — the
stored remote id, else the ``syndication_source_guid`` post meta (``?source_guid=``, added by the
partner-side plugin in ``contrib/wordpress/syndication.php``), else the slug marker (``…-<hash>``) —
and update it instead. So a crash between the remote create and our ledger record cannot produce a
second post. WordPress ignores unknown query parameters and unregistered meta silently, so every
lookup result is verified against the marker before it is trusted.

Per-partner settings (``[channels.<name>]``)::

    type = "wordpress"
    url = "https://partner.example.no"      # the site root (the REST API is under /wp-json/)
    username = "syndication"                 # password: SYNDICATION__CHANNELS__<NAME>__PASSWORD
    languages = ["nb"]
    status = "draft"                         # draft | pending | publish (for new posts)
    retract = "draft"                        # draft | trash | delete
    seo = "attribution"                      # attribution | canonical | noindex
    categories = { "Netværk" = "Nettverk" }  # source name → partner name or term id ("" = drop)
    tags = {}
    create_terms = true                      # create missing categories/tags by name
    only_categories = []                     # take only posts in these source categories
    featured_image = true
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syndication.deliveries.channel import ChannelContext
from syndication.deliveries.media import ImageFetcher, ImageRef, body_images, replace_sources
from syndication.deliveries.outgoing import (
    Where,
    attribution,
    env_var,
    excerpt_text,
    retry_after_seconds,
    safe_html,
    short_hash,
    slugify,
    source_guid,
    wants,
    write_preview_file,
)
from syndication.errors import ConfigError, TerminalDeliveryError, TransientDeliveryError
from syndication.fetch.guard import is_loopback_name
from syndication.models import ApprovedTranslation, Payload, Receipt

STATUSES = "publish,future,draft,pending,private,trash"
"""Every status a copy of ours may be in (``any`` leaves out the trash)."""
USER_AGENT = "syndication/0.1 (wordpress channel)"


class WordPressSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = "wordpress"
    languages: list[str] | None = None
    enabled: bool = True
    password_block: str | None = None
    url: str
    username: str
    status: Literal["draft", "pending", "publish"] = "draft"
    retract: Literal["draft", "trash", "delete"] = "draft"
    seo: Literal["attribution", "canonical", "noindex"] = "attribution"
    categories: dict[str, str | int] = Field(default_factory=dict)
    tags: dict[str, str | int] = Field(default_factory=dict)
    default_categories: list[str | int] = Field(default_factory=list)
    create_terms: bool = True
    only_categories: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)
    featured_image: bool = True
    lookup: Literal["auto", "meta", "slug"] = "auto"
    """How to find an earlier copy: ``meta`` needs the partner plugin, ``slug`` works without it."""
    timeout: float = Field(30.0, gt=0)
    allow_http: bool = False
    """Plain HTTP sends the Application Password readable on the wire: only for loopback, or on purpose."""
    allow_private_hosts: list[str] = Field(default_factory=list)
    """Image hosts that may resolve to private or loopback addresses (refused otherwise)."""
    max_image_bytes: int = Field(10_000_000, gt=0)
    """Images larger than this are not copied to the media library: the post shows the original."""
    media_library: bool = True
    """Copy the body's images to the partner's media library (once each) and point the post at them."""
    language_codes: dict[str, str] = Field(default_factory=dict)
    """Our language tag → the partner's Polylang/WPML language code, where they differ
    (``{ nb = "no" }``); used only when the partner runs one of them."""
    dry_run_dir: str = "outbox/dry-run"
    """Where ``--dry-run`` writes what would be sent (one JSON file per payload)."""


def _settings(context: ChannelContext) -> WordPressSettings:
    try:
        settings = WordPressSettings.model_validate(dict(context.config))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid wordpress channel settings: {problems}", channel=context.name) from exc
    parts = urlsplit(settings.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"url {settings.url!r} is not an http(s) site address", channel=context.name)
    if parts.username or parts.password:
        raise ConfigError(
            "put no credentials in url; the password goes in the environment", channel=context.name
        )
    if parts.scheme == "http" and not settings.allow_http and not is_loopback_name(parts.hostname):
        raise ConfigError(
            f"{settings.url} is plain HTTP: the Application Password would travel unencrypted; use https "
            "(or set allow_http = true if you really mean it)",
            channel=context.name,
        )
    return settings


class WordPressChannel:
    """Create, update and withdraw translated posts on one partner's WordPress site."""

    at_most_once = False

    def __init__(self, context: ChannelContext) -> None:
        self.name = context.name
        self.settings = _settings(context)
        self._password = context.secrets.get("password")
        self._site = self.settings.url.rstrip("/")
        self._http: requests.Session | None = None
        self._checked = False
        self._terms: dict[tuple[str, str], int] = {}
        self._preview_dir = context.base_dir / self.settings.dry_run_dir / context.name
        self._language_plugin: str | None = None
        self._image_fetcher: ImageFetcher | None = None
        self._uploaded: dict[str, dict[str, Any]] = {}
        """Images copied in this run, by marker (see ``_copy_image``)."""
        self.uploads = 0
        """Files uploaded to the media library by this channel object (tests count them)."""
        """``polylang``, ``wpml`` or ``""`` (none) once the REST index was read."""

    # ------------------------------------------------------------------------------ protocol

    def targets(self, item: ApprovedTranslation) -> list[str]:
        return [""] if wants(item, self.settings.model_dump()) else []

    def render(self, item: ApprovedTranslation, *, target: str = "") -> Payload:
        settings = self.settings
        guid = source_guid(item)
        meta = {
            "syndication_source_guid": guid,
            # Always sent, so a partner that changes its SEO choice gets the old one cleared on update.
            "syndication_canonical": item.source_url if settings.seo == "canonical" else "",
            "syndication_robots": "noindex" if settings.seo == "noindex" else "",
            # The partner plugin marks the page's language and its hreflang alternates with these.
            "syndication_lang": item.lang,
            "syndication_source_url": item.source_url,
            "syndication_source_lang": item.source_lang,
            "syndication_source_key": item.post_key,
        }
        # WordPress keeps titles and excerpts as HTML and does not filter an Editor's posts: our
        # plain text goes in escaped, so a title that mentions "<script>" shows it instead of running it.
        post: dict[str, Any] = {
            "title": html.escape(item.title, quote=False),
            "content": safe_html(item.html) + "\n" + attribution(item),
            "excerpt": html.escape(excerpt_text(item.excerpt), quote=False) if item.excerpt else "",
            "status": settings.status,
            "slug": self._slug(item.title, guid),
            "meta": meta,
        }
        date = _date_gmt(item.published)
        if date:
            post["date_gmt"] = date
        categories: list[str | int] = [*item.categories, *settings.default_categories]
        image = (
            {"src": item.featured_image.src, "alt": item.featured_image.alt}
            if item.featured_image is not None and settings.featured_image
            else None
        )
        document = {
            "action": item.action,
            "source_guid": guid,
            "post_key": item.post_key,
            "lang": item.lang,
            "post": post,
            "categories": categories,
            "tags": list(item.tags),
            "image": image,
        }
        body = json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        verb = "update" if item.action == "update" else "create"
        return Payload(
            channel=self.name,
            target=target,
            summary=f"{verb} {item.lang} post {item.title!r} on {self._site} ({settings.status})",
            body=body,
            content_type="application/json",
            meta={"wordpress": document},
        )

    def send(self, payload: Payload, *, key: str, previous: Receipt | None = None) -> Receipt:
        document: Mapping[str, Any] = payload.meta["wordpress"]
        where = Where(post=str(document["post_key"]), lang=str(document["lang"]), channel=self.name)
        self._check_credentials(where)
        guid = str(document["source_guid"])
        fields = dict(document["post"])
        existing = self._find_existing(guid, str(fields["slug"]), previous, where)
        fields["categories"] = self._term_ids("categories", document["categories"], where)
        fields["tags"] = self._term_ids("tags", document["tags"], where)
        notes: list[str] = []
        lang = str(document["lang"])
        featured = self._featured_media(document.get("image"), lang, where, notes)
        if featured is not None:
            fields["featured_media"] = featured["id"]
        fields["content"], copied = self._body_media(str(fields["content"]), lang, where, notes)
        language = self._language_params(str(document["lang"]), where)
        if existing is not None:
            if document["action"] == "update" and existing.get("status") != "trash":
                # The partner may have published (or unpublished) our draft since: leave that to them.
                del fields["status"]
            # Keep the address the post already has (without the suffix WordPress adds in the trash).
            fields["slug"] = str(existing.get("slug") or fields["slug"]).removesuffix("__trashed")
            post = self._json(
                "POST",
                f"wp/v2/posts/{existing['id']}",
                where,
                what="updating the post",
                json=fields,
                params=language,
            )
        else:
            post = self._json(
                "POST", "wp/v2/posts", where, what="creating the post", json=fields, params=language
            )
        meta: dict[str, Any] = {
            "source_guid": guid,
            "post_key": document["post_key"],
            "lang": document["lang"],
            "slug": post.get("slug"),
            "status": post.get("status"),
            "found_existing": existing is not None and previous is None,
        }
        if language:
            meta["language_plugin"] = self._language_plugin
        if featured is not None:
            meta["media_id"] = featured["id"]
            meta["media_src"] = featured["src"]
        if copied:
            meta["media"] = copied
        if notes:
            meta["media_notes"] = notes
        return Receipt(
            channel=self.name,
            key=key,
            remote_id=str(post["id"]),
            remote_url=str(post.get("link") or ""),
            meta=meta,
        )

    def retract(self, receipt: Receipt) -> None:
        where = Where(
            post=str(receipt.meta.get("post_key") or ""),
            lang=str(receipt.meta.get("lang") or ""),
            channel=self.name,
        )
        self._check_credentials(where)
        remote_id = receipt.remote_id
        if not remote_id and receipt.meta.get("source_guid"):
            found = self._find_existing(str(receipt.meta["source_guid"]), "", None, where)
            remote_id = str(found["id"]) if found else None
        if not remote_id:
            return  # nothing of ours out there
        route = f"wp/v2/posts/{remote_id}"
        gone = (404, 410)  # deleted by the partner, or already in the trash: withdrawn either way
        if self.settings.retract == "draft":
            self._request(
                "POST", route, where, what="setting the post to draft", json={"status": "draft"}, allow=gone
            )
        elif self.settings.retract == "trash":
            self._request("DELETE", route, where, what="moving the post to the trash", allow=gone)
        else:
            self._request(
                "DELETE", route, where, what="deleting the post", params={"force": "true"}, allow=gone
            )

    def write_preview(self, payload: Payload) -> Path:
        """``--dry-run``: the post as it would be sent (term names instead of the ids they resolve to)."""
        document = payload.meta["wordpress"]
        return write_preview_file(
            self._preview_dir, f"{document['lang']}-{document['post']['slug']}.json", payload.body
        )

    def close(self) -> None:
        if self._image_fetcher is not None:
            self._image_fetcher.close()
            self._image_fetcher = None
        if self._http is not None:
            self._http.close()
            self._http = None

    # ----------------------------------------------------------------------------- lookups

    def _slug(self, title: str, guid: str) -> str:
        # The marker makes the slug findable without the partner plugin; the title part keeps it readable.
        return f"{slugify(title)}-{short_hash(guid, 8)}"

    def _find_existing(
        self, guid: str, slug: str, previous: Receipt | None, where: Where
    ) -> dict[str, Any] | None:
        if previous is not None and previous.remote_id:
            found = self._request(
                "GET",
                f"wp/v2/posts/{previous.remote_id}",
                where,
                what="reading the post we sent before",
                params={"context": "edit"},
                allow=(404, 410),
            )
            if found.status_code == 200:
                return _as_object(found, "the post we sent before", self._site)
        lookup = self.settings.lookup
        if lookup in ("auto", "meta"):
            for post in self._list("wp/v2/posts", {"source_guid": guid}, where):
                if (post.get("meta") or {}).get("syndication_source_guid") == guid:
                    return post
        if lookup in ("auto", "slug") and slug:
            for post in self._list("wp/v2/posts", {"slug": slug}, where):
                other = (post.get("meta") or {}).get("syndication_source_guid")
                if post.get("slug") == slug and other in (None, "", guid):
                    return post
        return None

    def _list(self, route: str, params: Mapping[str, str], where: Where) -> list[dict[str, Any]]:
        query = {
            **params,
            "context": "edit",
            "status": STATUSES,
            "per_page": "20",
            "orderby": "id",
            "order": "asc",
        }
        data = self._json("GET", route, where, what="looking for an earlier copy", params=query)
        if not isinstance(data, list):
            raise TerminalDeliveryError(
                f"WordPress at {self._site} answered a post search with something that is not a list",
                **where,
            )
        return [post for post in data if isinstance(post, dict)]

    # ------------------------------------------------------------------------------- terms

    def _term_ids(self, taxonomy: str, names: Iterable[str | int], where: Where) -> list[int]:
        mapping = self.settings.categories if taxonomy == "categories" else self.settings.tags
        ids: list[int] = []
        for name in names:
            target = mapping.get(str(name), name) if isinstance(name, str) else name
            term_id = target if isinstance(target, int) else self._term_id(taxonomy, target.strip(), where)
            if term_id is not None and term_id not in ids:
                ids.append(term_id)
        return ids

    def _term_id(self, taxonomy: str, name: str, where: Where) -> int | None:
        if not name:
            return None
        cache_key = (taxonomy, name.casefold())
        if cache_key in self._terms:
            return self._terms[cache_key]
        found = self._json(
            "GET",
            f"wp/v2/{taxonomy}",
            where,
            what=f"looking up {taxonomy} {name!r}",
            params={"search": name, "per_page": "100", "_fields": "id,name"},
        )
        term_id: int | None = None
        for term in found if isinstance(found, list) else []:
            if (
                isinstance(term, dict)
                and html.unescape(str(term.get("name", ""))).casefold() == name.casefold()
            ):
                term_id = int(term["id"])
                break
        if term_id is None and self.settings.create_terms:
            response = self._request(
                "POST",
                f"wp/v2/{taxonomy}",
                where,
                what=f"creating {taxonomy} {name!r}",
                json={"name": name},
                allow=(400,),
            )
            body = _maybe_json(response)
            if response.status_code == 400:
                # Created by someone else between our search and our create: WordPress names the id.
                existing = (body.get("data") or {}).get("term_id") if isinstance(body, dict) else None
                if body.get("code") != "term_exists" or existing is None:
                    raise _rejected(response, f"creating {taxonomy} {name!r}", self._site, where)
                term_id = int(existing)
            else:
                term_id = int(body["id"])
        if term_id is not None:
            self._terms[cache_key] = term_id
        return term_id

    # ------------------------------------------------------------------------------- media
    #
    # Each image is uploaded once per partner and language: the file name carries a marker made of
    # the source URL, the image's SHA-256 and the language, so a later post (or run) showing the same
    # image finds the upload in the media library instead of uploading again, while a changed image
    # (same URL, other bytes) gets a new upload. The language is in the marker because the library
    # keeps one alt text and caption per item, and a site carrying nb and sv needs each in its own.

    def _images(self) -> ImageFetcher:
        if self._image_fetcher is None:
            self._image_fetcher = ImageFetcher(
                max_bytes=self.settings.max_image_bytes,
                allow_private_hosts=self.settings.allow_private_hosts,
                timeout=self.settings.timeout,
                user_agent=USER_AGENT,
            )
        return self._image_fetcher

    def _body_media(
        self, content: str, lang: str, where: Where, notes: list[str]
    ) -> tuple[str, list[dict[str, Any]]]:
        """``content`` pointing at the partner's copies of its images, and what was copied."""
        if not self.settings.media_library:
            return content, []
        copies: dict[str, str] = {}
        copied: list[dict[str, Any]] = []
        for ref in body_images(content):
            media = self._copy_image(ref, lang, where, notes, what="image")
            if media is not None:
                copies[ref.src] = str(media["url"])
                copied.append(media)
        return replace_sources(content, copies), copied

    def _featured_media(
        self, image: Mapping[str, str] | None, lang: str, where: Where, notes: list[str]
    ) -> dict[str, Any] | None:
        if not image:
            return None
        ref = ImageRef(src=image["src"], alt=image.get("alt", ""))
        return self._copy_image(ref, lang, where, notes, what="featured image")

    def _copy_image(
        self, ref: ImageRef, lang: str, where: Where, notes: list[str], *, what: str
    ) -> dict[str, Any] | None:
        fetched = self._images().get(ref.src)
        if isinstance(fetched, str):
            notes.append(f"{what}: {fetched}")
            return None
        marker = "syn" + short_hash(f"{fetched.src}|{fetched.sha256}|{lang}", 12)
        try:
            media = self._uploaded.get(marker)
            if media is None:
                found = self._find_media(marker, where)
                if found is None:
                    found = self._json(
                        "POST",
                        "wp/v2/media",
                        where,
                        what=f"uploading the {what} {ref.src}",
                        data=fetched.data,
                        headers={
                            "Content-Type": fetched.content_type,
                            "Content-Disposition": f'attachment; filename="{marker}-{fetched.filename}"',
                        },
                    )
                    self.uploads += 1
                media = {
                    "id": int(found["id"]),
                    "url": str(found.get("source_url") or ""),
                    "src": fetched.src,
                    "sha256": fetched.sha256,
                }
            text = {"alt_text": ref.alt, "caption": ref.caption}
            if media.get("text") != text:
                self._json(
                    "POST", f"wp/v2/media/{media['id']}", where, what=f"describing the {what}", json=text
                )
                media = {**media, "text": text}
            self._uploaded[marker] = media
        except (TerminalDeliveryError, TransientDeliveryError) as exc:
            if getattr(exc, "whole_channel", False):
                raise  # the site or the login is down: the post cannot go either
            notes.append(f"{what} {ref.src} was not copied to the media library ({exc}): kept the original")
            return None
        if not media["url"]:
            notes.append(f"{what} {ref.src}: the media library gave no address; kept the original")
            return None
        return {k: v for k, v in media.items() if k != "text"}

    def _find_media(self, marker: str, where: Where) -> dict[str, Any] | None:
        found = self._json(
            "GET",
            "wp/v2/media",
            where,
            what="looking for an uploaded image",
            params={"search": marker, "per_page": "10", "_fields": "id,source_url,slug"},
        )
        for media in found if isinstance(found, list) else []:
            if isinstance(media, dict) and marker in f"{media.get('source_url', '')} {media.get('slug', '')}":
                return media
        return None

    # -------------------------------------------------------------------------------- HTTP

    def _language_params(self, lang: str, where: Where) -> dict[str, str]:
        """The query parameters that set a post's language in the partner's multilingual plugin:
        Polylang (Pro) and WPML both read ``lang`` on REST writes. Detected once per run from the
        namespaces of the REST index (``pll/v1``, ``wpml/…``); nothing for a site without them."""
        if self._language_plugin is None:
            self._language_plugin = ""
            response = self._request("GET", "", where, what="reading the REST API index", allow=(404,))
            namespaces = _maybe_json(response).get("namespaces") or []
            names = [str(n) for n in namespaces] if isinstance(namespaces, list) else []
            if any(n.startswith("pll/") for n in names):
                self._language_plugin = "polylang"
            elif any(n.startswith("wpml/") for n in names):
                self._language_plugin = "wpml"
        if not self._language_plugin:
            return {}
        return {"lang": self.settings.language_codes.get(lang, lang)}

    def _check_credentials(self, where: Where) -> None:
        if self._checked:
            return
        try:
            response = self._request(
                "GET", "wp/v2/users/me", where, what="checking the credentials", params={"_fields": "id,name"}
            )
            if not _maybe_json(response):
                raise TerminalDeliveryError(
                    f"WordPress at {self._site} answered users/me without a JSON object: is url the "
                    "site's address and its REST API enabled?",
                    **where,
                )
        except (TerminalDeliveryError, TransientDeliveryError) as exc:
            # The site or the login fails for every item alike: the stage stops sending to this
            # partner for the run (one login attempt per run, not one per post).
            exc.whole_channel = True
            raise
        self._checked = True

    def _session(self, where: Where) -> requests.Session:
        if self._http is None:
            if not self._password:
                missing = TerminalDeliveryError(
                    f"no password for WordPress user {self.settings.username} at {self._site}: set "
                    f"{env_var(self.name, 'password')} to an Application Password (WordPress: Users → "
                    "Profile → Application Passwords) or name a Prefect Secret block in password_block",
                    **where,
                )
                missing.whole_channel = True
                raise missing
            session = requests.Session()
            session.auth = (self.settings.username, self._password)
            session.headers["User-Agent"] = USER_AGENT
            self._http = session
        return self._http

    def _request(
        self,
        method: str,
        route: str,
        where: Where,
        *,
        what: str,
        allow: Iterable[int] = (),
        **kwargs: Any,
    ) -> requests.Response:
        """One REST call, with every failure mapped to transient or terminal at this boundary."""
        url = f"{self._site}/wp-json/{route}"
        session = self._session(where)
        try:
            response = session.request(
                method, url, timeout=self.settings.timeout, allow_redirects=False, **kwargs
            )
        except requests.Timeout as exc:
            error = TransientDeliveryError(
                f"WordPress at {self._site} did not answer within {self.settings.timeout:g} s while {what}",
                **where,
            )
            error.whole_channel = True
            raise error from exc
        except requests.ConnectionError as exc:
            error = TransientDeliveryError(
                f"cannot reach WordPress at {self._site} while {what}: {_reason(exc)}", **where
            )
            error.whole_channel = True
            raise error from exc
        except requests.RequestException as exc:
            raise TerminalDeliveryError(
                f"request to WordPress at {self._site} failed while {what}: {exc}", **where
            ) from exc
        status = response.status_code
        if status in allow or 200 <= status < 300:
            return response
        if status == 401:
            refused = TerminalDeliveryError(
                f"WordPress at {self._site} rejected the credentials for user {self.settings.username} while "
                f"{what}: check {env_var(self.name, 'password')} (an Application Password, not the login "
                "password)",
                **where,
            )
            refused.whole_channel = True
            raise refused
        if status == 403:
            raise TerminalDeliveryError(
                f"WordPress at {self._site} does not let user {self.settings.username} do this ({what}): "
                f"{_wp_error(response)}; give the user a role that may (Author or Editor)",
                **where,
            )
        if status == 429 or status >= 500:
            raise TransientDeliveryError(
                f"WordPress at {self._site} answered {status} while {what}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                **where,
            )
        if 300 <= status < 400:
            raise TerminalDeliveryError(
                f"WordPress at {self._site} redirects {route} to {response.headers.get('Location')}: "
                "set url to the site's current address",
                **where,
            )
        raise _rejected(response, what, self._site, where)

    def _json(self, method: str, route: str, where: Where, *, what: str, **kwargs: Any) -> Any:
        response = self._request(method, route, where, what=what, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise TerminalDeliveryError(
                f"WordPress at {self._site} answered {what} with something that is not JSON "
                f"({response.headers.get('Content-Type', 'no type')}): is url the site's address and its "
                "REST API enabled?",
                **where,
            ) from exc


def _as_object(response: requests.Response, what: str, site: str) -> dict[str, Any]:
    body = _maybe_json(response)
    if not body:
        raise TerminalDeliveryError(f"WordPress at {site} answered {what} without a JSON object")
    return body


def _maybe_json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _wp_error(response: requests.Response) -> str:
    body = _maybe_json(response)
    code, message = body.get("code"), body.get("message")
    if code or message:
        return f"HTTP {response.status_code} {code}: {html.unescape(str(message))[:300]}"
    return f"HTTP {response.status_code}: {response.text[:200]!r}"


def _rejected(response: requests.Response, what: str, site: str, where: Where) -> TerminalDeliveryError:
    return TerminalDeliveryError(
        f"WordPress at {site} refused {what}: {_wp_error(response)}; fix the channel settings or the item, "
        "then `syndicate deliveries retry ID`",
        **where,
    )


def _reason(exc: requests.ConnectionError) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return text[:200]


def _date_gmt(published: datetime | None) -> str | None:
    if published is None:
        return None
    when = published if published.tzinfo else published.replace(tzinfo=UTC)
    when = min(when.astimezone(UTC), datetime.now(UTC))  # a future date would schedule the post
    return when.replace(tzinfo=None, microsecond=0).isoformat()
