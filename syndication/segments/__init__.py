"""Split article HTML into translation units and join translations back.

``split`` turns a sanitized article body into a :class:`SplitDocument`: a skeleton with one slot per
translatable unit and the :class:`~syndication.models.Segment` list. Inline markup travels inside
segments as placeholders (``<g id="1">…</g>``, ``<x id="2"/>``, see :mod:`.markup`); protected
content (``pre``, ``code``, ``translate="no"``, ``class="notranslate"``) never leaves the skeleton
or its placeholder. ``join`` fills the slots, falling back to the source, and
``join(split(html), {}).html == normalize_html(html)``.
"""

from syndication.segments.checks import placeholder_problems
from syndication.segments.join import JoinedDocument, join, render_segment
from syndication.segments.markup import plain_text
from syndication.segments.serialize import normalize_html
from syndication.segments.split import SplitDocument, has_words, split

__all__ = [
    "JoinedDocument",
    "SplitDocument",
    "has_words",
    "join",
    "normalize_html",
    "placeholder_problems",
    "plain_text",
    "render_segment",
    "split",
]
