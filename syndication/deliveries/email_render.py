"""Newsletter e-mails: one ``EmailMessage`` per (issue, subscriber), ``multipart/alternative`` with a
plain-text part and an HTML part styled inline (mail clients drop ``<style>`` blocks), per-language
wording, templates and footers.

Pure functions: the channel decides who gets what; this module only turns items into messages.
"""

from __future__ import annotations

import hashlib
import html
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, Policy
from email.utils import format_datetime, getaddresses
from pathlib import Path
from string import Template
from urllib.parse import quote, urljoin

import lxml.html
from lxml import etree

from syndication.deliveries.outgoing import attribution, safe_html
from syndication.i18n import _, ngettext
from syndication.models import ApprovedTranslation


def wording(lang: str) -> dict[str, str]:
    """The fixed texts of a newsletter in ``lang``, from the catalogue (``syndication/locale``)."""
    return {
        "read_original": _(lang, "Read the original"),
        "unsubscribe": _(lang, "Unsubscribe"),
        "footer": _(lang, "You get this e-mail because you subscribed to {list}."),
        "digest_heading": _(lang, "New since the last issue"),
    }


def digest_subject(lang: str, list_title: str, count: int) -> str:
    return ngettext(lang, "{list}: {count} new post", "{list}: {count} new posts", count).format(
        list=list_title, count=count
    )


FONT = "Georgia, 'Times New Roman', serif"
SANS = "Helvetica, Arial, sans-serif"
# Inline styles per tag: most mail clients ignore <style> blocks and external CSS.
STYLES: dict[str, str] = {
    "p": "margin:0 0 16px;",
    "h1": f"font-family:{SANS};font-size:26px;line-height:1.25;margin:0 0 16px;color:#111111;",
    "h2": f"font-family:{SANS};font-size:21px;line-height:1.3;margin:24px 0 12px;color:#111111;",
    "h3": f"font-family:{SANS};font-size:18px;line-height:1.3;margin:20px 0 10px;color:#111111;",
    "h4": f"font-family:{SANS};font-size:16px;margin:16px 0 8px;color:#111111;",
    "a": "color:#1a5fb4;text-decoration:underline;",
    "img": "max-width:100%;height:auto;border:0;",
    "blockquote": "margin:0 0 16px;padding:0 0 0 16px;border-left:3px solid #dddddd;color:#555555;",
    "ul": "margin:0 0 16px;padding:0 0 0 24px;",
    "ol": "margin:0 0 16px;padding:0 0 0 24px;",
    "li": "margin:0 0 6px;",
    "figure": "margin:0 0 16px;",
    "figcaption": f"font-family:{SANS};font-size:14px;color:#666666;",
    "pre": "white-space:pre-wrap;background:#f6f6f6;padding:12px;font-size:14px;",
    "code": "font-family:Menlo, Consolas, monospace;font-size:90%;",
    "table": "border-collapse:collapse;margin:0 0 16px;",
    "td": "border:1px solid #dddddd;padding:4px 8px;",
    "th": "border:1px solid #dddddd;padding:4px 8px;text-align:left;",
}

HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="$lang"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>$title</title></head>
<body style="margin:0;padding:0;background:#f3f3f3;">
<div style="max-width:620px;margin:0 auto;padding:28px 24px;background:#ffffff;
 font-family:$font;font-size:17px;line-height:1.55;color:#222222;">
$content
<hr style="border:0;border-top:1px solid #dddddd;margin:32px 0 16px;">
<p style="font-family:$sans;font-size:13px;line-height:1.5;color:#666666;margin:0;">$footer<br>
<a href="$unsubscribe_url" style="color:#666666;text-decoration:underline;">$unsubscribe_label</a></p>
</div></body></html>
"""

TEXT_TEMPLATE = """$content

--
$footer
$unsubscribe_label: $unsubscribe_url
"""


class UrlListHeader(UnstructuredHeader, BaseHeader):
    """``List-Unsubscribe`` (RFC 2369): a list of ``<URL>``s that mail clients read as they stand.

    The stdlib folds a long unstructured header by turning it into RFC 2047 encoded-words, which
    Gmail, Yahoo and others do not decode here: the one-click unsubscribe would silently vanish.
    So fold only between the URLs (a URL line may pass 78 characters; the hard limit is 998)."""

    def fold(self, *, policy: Policy) -> str:
        urls = re.findall(r"<[^<>]*>", str(self)) or [str(self)]
        return f"{self.name}: " + ("," + policy.linesep + " ").join(urls) + policy.linesep


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", UrlListHeader)
MAIL_POLICY = SMTP.clone(header_factory=_HEADERS)
"""``policy=SMTP`` (CRLF, RFC 2047 where allowed) with ``List-Unsubscribe`` kept verbatim."""


@dataclass(frozen=True)
class Envelope:
    """Who a message is from and to, and how it identifies itself to mail clients."""

    sender: str
    """``From`` (``"Name <addr>"`` or an address)."""
    to: str
    subject: str
    message_id: str
    list_id: str
    unsubscribe_url: str
    unsubscribe_mailto: str | None = None
    reply_to: str | None = None
    date: datetime | None = None


@dataclass(frozen=True)
class Templates:
    """Per-language wording and layout: built-ins, overridden by ``<folder>/<lang>.html|.txt`` and
    per-language footers from the channel config."""

    folder: Path | None = None
    footers: Mapping[str, str] | None = None
    list_title: str = "the newsletter"

    def wording(self, lang: str) -> dict[str, str]:
        return wording(lang)

    def footer(self, lang: str) -> str:
        if self.footers and lang in self.footers:
            return self.footers[lang]
        return self.wording(lang)["footer"].format(list=self.list_title)

    def layout(self, lang: str, kind: str) -> Template:
        if self.folder is not None:
            path = self.folder / f"{lang}.{kind}"
            if path.is_file():
                return Template(path.read_text(encoding="utf-8"))
        return Template(HTML_TEMPLATE if kind == "html" else TEXT_TEMPLATE)


def message_id(issue: str, subscriber: str, domain: str) -> str:
    """Deterministic per (issue, subscriber): the same issue to the same person is the same message."""
    digest = hashlib.sha256(f"{issue}\x00{subscriber}".encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def sender_domain(sender: str) -> str:
    addresses = getaddresses([sender])
    address = addresses[0][1] if addresses else ""
    return address.rsplit("@", 1)[1].lower() if "@" in address else "localhost"


def one_line(text: str) -> str:
    """Header-safe text: no line breaks (they would be header injection), whitespace collapsed."""
    return re.sub(r"\s+", " ", text).strip()


# ------------------------------------------------------------------------------- item → content


def item_html(item: ApprovedTranslation, *, heading: str = "h1") -> str:
    """One item as styled HTML: title, featured image, body, attribution, link to the original."""
    texts = wording(item.lang)
    parts = [f"<{heading}>{html.escape(item.title)}</{heading}>"]
    if item.featured_image is not None:
        src = html.escape(urljoin(item.source_url, item.featured_image.src), quote=True)
        alt = html.escape(item.featured_image.alt, quote=True)
        parts.append(f'<p><img src="{src}" alt="{alt}"></p>')
    parts.append(absolute_urls(safe_html(item.html), item.source_url))
    parts.append(attribution(item))
    link = html.escape(item.source_url, quote=True)
    parts.append(f'<p><a href="{link}">{html.escape(texts["read_original"])}</a></p>')
    return inline_styles("\n".join(parts))


def item_text(item: ApprovedTranslation) -> str:
    texts = wording(item.lang)
    title = item.title.strip()
    body = html_to_text(absolute_urls(safe_html(item.html), item.source_url))
    credit = html_to_text(attribution(item))
    underline = "=" * min(len(title), 72)
    return f"{title}\n{underline}\n\n{body}\n\n{credit}\n{texts['read_original']}: {item.source_url}"


def absolute_urls(fragment: str, base: str) -> str:
    """Mail has no base URL: every link and image must be absolute."""
    if not fragment.strip():
        return fragment
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for element in root.iter("a", "img"):
        attribute = "href" if element.tag == "a" else "src"
        value = element.get(attribute)
        if value and not value.startswith(("mailto:", "#")):
            element.set(attribute, urljoin(base, value))
    return _inner(root)


def inline_styles(fragment: str) -> str:
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag in STYLES:
            element.set("style", STYLES[element.tag])
    return _inner(root)


def _inner(root: lxml.html.HtmlElement) -> str:
    out = html.escape(root.text or "", quote=False)
    for child in root:
        out += etree.tostring(child, encoding="unicode", method="html")
    return out


_BLOCKS = {
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "ul",
    "ol",
    "li",
    "figure",
    "figcaption",
    "pre",
    "table",
    "tr",
    "hr",
}


def html_to_text(fragment: str, *, width: int = 72) -> str:
    """Readable plain text for the ``text/plain`` part: paragraphs, list bullets, link targets."""
    if not fragment.strip():
        return ""
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    blocks: list[str] = []
    current: list[str] = []

    def flush(prefix: str) -> None:
        text = re.sub(r"[ \t\r\f\v]+", " ", "".join(current)).strip()
        current.clear()
        if not text:
            return
        rest = prefix.replace("- ", "  ")
        lines = [
            textwrap.fill(
                line.strip(),
                width,
                break_long_words=False,
                break_on_hyphens=False,
                initial_indent=prefix,
                subsequent_indent=rest,
            )
            for line in text.split("\n")
            if line.strip()
        ]
        blocks.append("\n".join(lines))

    def walk(element: lxml.html.HtmlElement, prefix: str) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        block = tag in _BLOCKS
        if block:
            flush(prefix)
        inner = {"li": prefix + "- ", "blockquote": prefix + "> "}.get(tag, prefix)
        if tag == "br":
            current.append("\n")
        elif tag == "img":
            if element.get("alt"):
                current.append(f"[{element.get('alt')}]")
        elif tag not in ("script", "style"):
            if element.text:
                current.append(element.text)
            for child in element:
                walk(child, inner)
                if child.tail:
                    current.append(child.tail)
            href = element.get("href") or "" if tag == "a" else ""
            label = (element.text_content() or "").strip()
            if href and href != label and not href.startswith("#"):
                current.append(f" <{href}>")
        if block:
            flush(inner)

    walk(root, "")
    flush("")
    return "\n\n".join(blocks)


# ----------------------------------------------------------------------------------- messages


def build_message(
    envelope: Envelope,
    *,
    lang: str,
    html_content: str,
    text_content: str,
    templates: Templates,
) -> EmailMessage:
    """The full message: headers for list handling and one-click unsubscribe, both MIME parts."""
    wording = templates.wording(lang)
    footer = templates.footer(lang)
    values = {
        "lang": html.escape(lang),
        "title": html.escape(envelope.subject),
        "content": html_content,
        "footer": html.escape(footer),
        "unsubscribe_url": html.escape(envelope.unsubscribe_url, quote=True),
        "unsubscribe_label": html.escape(wording["unsubscribe"]),
        "font": FONT,
        "sans": SANS,
    }
    html_body = templates.layout(lang, "html").safe_substitute(values)
    text_body = templates.layout(lang, "txt").safe_substitute(
        content=text_content,
        footer=footer,
        unsubscribe_url=envelope.unsubscribe_url,
        unsubscribe_label=wording["unsubscribe"],
        lang=lang,
        title=envelope.subject,
    )
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = envelope.sender
    message["To"] = Address(addr_spec=envelope.to)
    if envelope.reply_to:
        message["Reply-To"] = envelope.reply_to
    message["Subject"] = one_line(envelope.subject)  # non-ASCII becomes an RFC 2047 encoded-word
    message["Date"] = format_datetime(envelope.date or datetime.now(UTC))
    message["Message-ID"] = envelope.message_id
    message["Content-Language"] = lang
    message["List-Id"] = envelope.list_id
    targets = [f"<{envelope.unsubscribe_url}>"]
    if envelope.unsubscribe_mailto:
        targets.append(f"<{envelope.unsubscribe_mailto}>")
    message["List-Unsubscribe"] = ", ".join(targets)
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Precedence"] = "bulk"
    message.set_content(text_body, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html_body, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


def mailto(address_or_url: str | None, token: str) -> str | None:
    """``mailto:`` target for List-Unsubscribe; the subject names the subscriber's token so a person
    reading the unsubscribe mailbox can act on it."""
    if not address_or_url:
        return None
    target = address_or_url if address_or_url.startswith("mailto:") else f"mailto:{address_or_url}"
    separator = "&" if "?" in target else "?"
    return f"{target}{separator}subject={quote('unsubscribe ' + token)}"


def digest_content(items: Sequence[ApprovedTranslation], lang: str) -> tuple[str, str]:
    texts = wording(lang)
    heading = f"<h1>{html.escape(texts['digest_heading'])}</h1>"
    html_parts = [inline_styles(heading)]
    text_parts = [texts["digest_heading"]]
    for item in items:
        html_parts.append(item_html(item, heading="h2"))
        text_parts.append(item_text(item))
    separator = '\n<hr style="border:0;border-top:1px solid #eeeeee;margin:28px 0;">\n'
    return separator.join(html_parts), "\n\n\n".join(text_parts)
