"""What is not part of an article body, recognised by markup or by its words.

Used inside an already chosen body (a WordPress ``.entry-content``, the blocks trafilatura picked,
a feed's ``content:encoded``): never on the ancestors of that body, whose classes (``single-post
has-comments``) describe the page, not the block.
"""

from __future__ import annotations

import functools
import re

from lxml.html import HtmlElement

# Removed together with everything inside them: active content, embeds, forms, page chrome.
DROP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "iframe", "frame", "frameset", "object", "embed",
        "applet", "form", "button", "input", "select", "textarea", "label", "option", "svg", "math",
        "canvas", "audio", "video", "source", "track", "map", "area", "nav", "aside", "dialog",
        "menu", "link", "meta", "base", "head", "title", "param", "portal", "slot",
    }
)  # fmt: skip

# Void by the HTML standard but not always to libxml2, which then nests the rest of the page in
# them: these are unwrapped (their mis-nested content kept), not removed with their content.
VOID_DROP_TAGS = frozenset(
    {"embed", "source", "track", "param", "input", "area", "base", "link", "meta", "keygen"}
)

# Class/id tokens of share buttons, related posts, comments, author boxes, widgets and ads (WordPress
# core, Jetpack, AddToAny, YARPP, Elementor and the common themes). Two strengths: a distinctive
# name counts anywhere in a token (``sd-sharing-enabled``, ``td-post-sharing``); a common word
# only at the start of a token (``share-buttons`` but not ``elementor-widget-text-editor``, whose
# "widget" is a page-builder block that holds the article itself).
_DISTINCTIVE = (
    "sharedaddy|sharing|addtoany|a2a_kit|sharethis|shariff|social-share|share-buttons|share-links|"
    "jp-relatedposts|relatedposts|related-posts|related-articles|yarpp|crp_related|jetpack-likes|"
    "wpl-likebox|akismet|comment-respond|comments-area|comment-form|comment-list|commentlist|"
    "author-box|authorbox|author-bio|about-author|author-info|saboxplugin|post-navigation|"
    "screen-reader-text|sr-only|visually-hidden|adsbygoogle|advertisement|newsletter|"
    "mc4wp|wpforms|printfriendly|wp-embedded-content|skip-link|more-link|breadcrumbs?"
)
_LEADING_WORDS = (
    "share|shares|social|related|comments?|respond|reply|widget|widgets|sidebar|navigation|"
    "nav-links|pagination|pager|ads?|advert|sponsor|promo|subscribe|subscription|cookie|"
    "entry-meta|post-meta|entry-footer|post-footer|post-tags|tags-links|cat-links|byline|"
    "author|wpcnt|sd-\\w+"
)
_BOILERPLATE_ATTR = re.compile(
    rf"(?:(?:^|[\s_-])(?:{_DISTINCTIVE})|(?:^|\s)(?:{_LEADING_WORDS}))(?=$|[\s_-])",
    re.IGNORECASE,
)

# Whole blocks whose text is one of WordPress's/Jetpack's stock lines, in Danish and English.
_QUOTED = r"(?:[“\"«„'].{1,200}[”\"»“'])"
_BOILERPLATE_TEXT = re.compile(
    rf"""^(?:
        this\ site\ uses\ akismet\ to\ reduce\ spam.*
      | dette\ (?:websted|site|sted)\ bruger\ akismet.*
      | learn\ how\ your\ comment\ data\ is\ processed.*
      | lær\ hvordan\ dine\ kommentar(?:data|er)\ (?:bliver\ )?behandle.*
      | (?:skriv|efterlad|læg|tilføj)\ en\ kommentar(?:\ (?:annuller|annullér)\ svar)?
      | leave\ a\ (?:reply|comment)(?:\ cancel\ reply|\ (?:to|on)\ {_QUOTED})?
      | (?:one|no|\d+)\ (?:thoughts?|comments?|responses?|replies)\ (?:on|to)\ {_QUOTED}
      | (?:én|en|ingen|\d+)\ (?:kommentar|kommentarer|svar|tanker?)\ (?:til|på|om)\ {_QUOTED}
      | (?:annuller|annullér)\ svar | cancel\ reply
      | del\ dette | del | share\ this(?:\ post|\ article)? | share | del\ på\ \w+ | share\ on\ \w+
      | synes\ godt\ om\ dette | synes\ godt\ om | like\ this | like\ loading\.*
      | (?:synes\ godt\ om\ )?indlæser\.* | loading\.*
      | relateret | relaterede\ indlæg | related(?:\ posts|\ articles)? | you\ may\ also\ like
      | continue\ reading | læs\ videre | read\ more | læs\ mere
      | the\ post\ .{{1,200}}\ appeared\ first\ on\ .{{1,200}}
      | indlægget\ .{{1,200}}\ blev\ (?:vist|udgivet)\ første\ gang\ på\ .{{1,200}}
    )[\s:.!…»→]*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
BOILERPLATE_TEXT_MAX = 300
# The labels among those that head a list of links (share buttons, related posts).
_LIST_LABEL = re.compile(
    r"""^(?:del\ dette|del|share\ this(?:\ post|\ article)?|share|del\ på\ \w+|share\ on\ \w+
      | relateret|relaterede\ indlæg|related(?:\ posts|\ articles)?|you\ may\ also\ like
    )[\s:.!…»→]*$""",
    re.IGNORECASE | re.VERBOSE,
)

# Blocks the text patterns are tried on (a stock line is always one of these on its own).
# Inline elements are left alone: "we <em>share</em>" is prose, not a share button.
TEXT_BLOCK_TAGS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd"})


def is_link_list_label(text: str) -> bool:
    """True for "Del dette:", "Relateret" and the like: a label whose list of links goes too."""
    return _LIST_LABEL.match(" ".join(text.split())) is not None


@functools.lru_cache(maxsize=8192)
def _marked(value: str) -> bool:
    # Pages repeat the same class strings hundreds of times: the regex runs once per string.
    return _BOILERPLATE_ATTR.search(value) is not None


def is_boilerplate_element(el: HtmlElement) -> bool:
    """True for share/related/comment/author/widget blocks and hidden elements."""
    attrs = el.attrib
    for name in ("class", "id"):
        value = attrs.get(name)
        if value and _marked(value):
            return True
    if "hidden" in attrs or attrs.get("aria-hidden", "").strip().lower() == "true":
        return True
    style = attrs.get("style")
    if style:
        compact = style.replace(" ", "").lower()
        if "display:none" in compact or "visibility:hidden" in compact:
            return True
    return False


# The words a stock line can start with: a block whose own text starts otherwise is skipped
# without assembling its full text.
_FIRST_WORDS = frozenset(
    {"this", "dette", "learn", "lær", "skriv", "efterlad", "læg", "tilføj", "leave", "one", "no",
     "én", "en", "ingen", "annuller", "annullér", "cancel", "del", "share", "synes", "like",
     "indlæser", "loading", "relateret", "relaterede", "related", "you", "continue", "læs", "read",
     "the", "indlægget"}
)  # fmt: skip
_FIRST_WORD = re.compile(r"[^\W\d_]+|\d", re.UNICODE)


def may_be_boilerplate_text(leading: str | None) -> bool:
    """False when a block's leading text (``el.text``) rules out every stock line."""
    if leading is None or not leading.strip():
        return True  # starts with an element: the whole text must decide
    word = _FIRST_WORD.search(leading)
    if word is None:
        return True
    first = word.group(0).lower()
    return first.isdigit() or first in _FIRST_WORDS


def is_boilerplate_text(text: str) -> bool:
    """True when a whole block says nothing but a stock comment/share/feed-footer line."""
    text = " ".join(text.split())
    if not text or len(text) > BOILERPLATE_TEXT_MAX:
        return False
    return _BOILERPLATE_TEXT.match(text) is not None


# Regions of a page that hold other posts, comments or widgets, by exact class token or id (body
# classes such as "has-sidebar" or "showing-comments" describe the page, so no substrings).
_CHROME_CLASSES = frozenset(
    {"comments", "comment-list", "commentlist", "comment-body", "comment-content", "comments-area",
     "comment-respond", "related", "related-posts", "relatedposts", "jp-relatedposts",
     "yarpp-related", "crp_related", "widget", "widget-area", "sidebar", "site-footer",
     "post-navigation", "nav-links", "pagination-single", "author-bio"}
)  # fmt: skip
_CHROME_IDS = frozenset({"comments", "secondary", "sidebar", "colophon", "respond", "related-posts"})


def in_page_chrome(el: HtmlElement) -> bool:
    """True when ``el`` sits in navigation, a sidebar, the page footer, comments or related posts."""
    for ancestor in el.iterancestors():
        if ancestor.tag in ("aside", "nav"):
            return True
        if ancestor.tag == "footer" and ancestor.get("id") in ("site-footer", "colophon"):
            return True
        if ancestor.get("id") in _CHROME_IDS:
            return True
        classes = ancestor.get("class")
        if classes and not _CHROME_CLASSES.isdisjoint(classes.split()):
            return True
    return False
