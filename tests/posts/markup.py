"""Reading extracted HTML back in tests (with lxml, independently of the code under test)."""

from __future__ import annotations

import re

import lxml.html

# What must never leave the cleaner, whatever the input: active elements, event handlers,
# inline styles and scriptable URLs. Judged on the parsed tree (visible text or an escaped alt
# text that mentions "onerror=" is harmless), plus a raw check for tags lxml might not show.
_ACTIVE_TAGS = frozenset(
    {"script", "iframe", "object", "embed", "svg", "math", "style", "form", "base", "meta", "link",
     "template", "noscript", "frame", "frameset", "applet", "input", "button", "textarea", "select"}
)  # fmt: skip
_RAW_ACTIVE = re.compile(r"<\s*/?\s*(?:" + "|".join(sorted(_ACTIVE_TAGS)) + r")\b", re.IGNORECASE)
_SCRIPTABLE = re.compile(r"^\s*(?:javascript|vbscript|data)\s*:", re.IGNORECASE)


def dangerous(html: str) -> str | None:
    """What in ``html`` could run or restyle anything, or None."""
    raw = _RAW_ACTIVE.search(html)
    if raw:
        return raw.group(0)
    for el in parse(html).iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag.lower() in _ACTIVE_TAGS:
            return el.tag
        for name, value in el.items():
            if name.lower().startswith("on") or name.lower() in ("style", "srcdoc", "formaction"):
                return f"{el.tag} {name}"
            if _SCRIPTABLE.match(value) and name.lower() in ("href", "src", "action", "cite", "xlink:href"):
                return f"{el.tag} {name}={value}"
    return None


def parse(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html, create_parent="div")


def top_level_tags(html: str) -> list[str]:
    return [child.tag for child in parse(html)]


def texts(html: str, tag: str) -> list[str]:
    return [" ".join(el.text_content().split()) for el in parse(html).iter(tag)]
