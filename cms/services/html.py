"""Article bodies: sanitize HTML with nh3, render Markdown with markdown-it-py.

Bodies come from contributors and feeds, so the work is bounded: HTML is balanced and
depth-capped before nh3 parses it (html_bounds), Markdown is rendered up to a cost budget
and the rest shown as plain paragraphs, and text extraction is a linear regex pass.
"""

import re
from functools import cache, partial
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import nh3

from cms.services.html_bounds import balance, strip_tags

# markdown-it is imported by the first Markdown body rendered (a write): each web worker
# that only reads is 0.8 MiB smaller without it.
if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore

# Markdown-it-py costs about 1 µs per character of prose but up to 20 µs per character
# of dense punctuation ("![a\n" repeated, "[*", ...): each markup character weighs this
# much, and a body renders as Markdown while the weight of what it rendered fits the
# budget (about 0.4 s at worst; ~250 KB of ordinary prose). Past it, plain paragraphs.
MARKDOWN_BUDGET = 300_000
_MARKUP_WEIGHT = 20
_MARKUP_CHARACTERS = "\n!#$%&*+-:<=>@[\\]^_`{|}~"  # what starts or ends a construct
_WITHOUT_MARKUP = str.maketrans("", "", _MARKUP_CHARACTERS)

# A reference definition is written once and copied into every link that uses it: a
# long one would let a small body render huge.
MAX_REFERENCE_CHARS = 2048


# js-default mirrors markdown-it's JavaScript defaults: CommonMark plus tables and
# strikethrough, raw HTML escaped. Its output is still sanitized, as any HTML is.
# Nesting past 20 (CommonMark's own limit) only multiplies the cost of "[[[[...".
@cache
def _markdown() -> "MarkdownIt":
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("js-default", {"maxNesting": 20})
    markdown.core.ruler.after("block", "drop_long_references", _drop_long_references)
    return markdown


def _drop_long_references(state: "StateCore") -> None:
    references = state.env.get("references", {})
    for label, reference in list(references.items()):
        if len(reference["href"]) + len(reference["title"] or "") > MAX_REFERENCE_CHARS:
            del references[label]


# Ammonia's defaults already drop <script>, <style>, event handlers and most unsafe URLs;
# we add what news bodies use and it leaves out by default.
_EXTRA_ATTRIBUTES = {
    "span": {"id"},
    "img": {"width", "height", "loading"},
    "blockquote": {"cite"},
}
GENERIC_ATTRIBUTES = frozenset({"lang", "title"})  # ammonia's, allowed on every tag


def _allowed_attributes() -> dict[str, set[str]]:
    attributes = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
    for tag, attrs in _EXTRA_ATTRIBUTES.items():
        attributes.setdefault(tag, set()).update(attrs)
    return attributes


ALLOWED_ATTRIBUTES = _allowed_attributes()

# Every URL-valued attribute allowed above. Ammonia checks the scheme of href and src
# only (cite kept "javascript:"), so each is checked here: http(s), mailto or relative.
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))  # trimmed from both ends of a URL
_URL_NOISE = str.maketrans("", "", "\t\n\r")  # and these removed from anywhere in it

# Ids are prefixed, as GitHub does: an anchor still works, but a body can no longer
# name a global its page's scripts read (DOM clobbering: <span id="config">).
ID_PREFIX = "user-content-"


def sanitize_html(html: str, base_url: str | None = None) -> str:
    """Keep links, images, quotes, lists, headings and emphasis; drop anything executable.
    With `base_url`, relative links become absolute (bodies taken from other sites)."""
    return _clean(balance(html, ALLOWED_ATTRIBUTES, GENERIC_ATTRIBUTES), base_url)


def _clean(html: str, base_url: str | None) -> str:
    """nh3 alone: quadratic on hostile nesting, so only ever given balanced HTML."""
    return nh3.clean(
        html,
        attributes=ALLOWED_ATTRIBUTES,
        link_rel="noopener noreferrer",
        url_schemes=set(SAFE_SCHEMES),
        id_prefix=ID_PREFIX,
        attribute_filter=partial(_safe_attribute, base_url),
    )


def _safe_attribute(base_url: str | None, element: str, attribute: str, value: str) -> str | None:
    if attribute not in URL_ATTRIBUTES:
        return value
    if not is_safe_url(value):
        return None
    return urljoin(base_url, value) if base_url else value


def is_safe_url(url: str) -> bool:
    """http(s), mailto or relative, read as a browser reads it (the value arrives with
    character references decoded; leading controls and spaces, tabs and newlines are
    ignored by URL parsing)."""
    scheme = _SCHEME.match(url.strip(_C0_AND_SPACE).translate(_URL_NOISE))
    return scheme is None or scheme[1].lower() in SAFE_SCHEMES


def render_markdown(markdown: str) -> str:
    """Sanitized HTML of `markdown`; past the budget, plain paragraphs (escaped here, so
    they need no sanitizing)."""
    affordable = _affordable_length(markdown)
    rendered = sanitize_html(_markdown().render(markdown[:affordable]))
    return rendered + _plain_paragraphs(markdown[affordable:])


def _affordable_length(markdown: str) -> int:
    """How much of `markdown` fits the budget, cut at a blank line where there is one."""
    if _weight(markdown) <= MARKDOWN_BUDGET:
        return len(markdown)
    fits, too_much = 0, min(len(markdown), MARKDOWN_BUDGET + 1)  # weight >= length
    while too_much - fits > 1:  # the weight of a prefix grows with its length
        middle = (fits + too_much) // 2
        if _weight(markdown[:middle]) <= MARKDOWN_BUDGET:
            fits = middle
        else:
            too_much = middle
    blank_line = markdown.rfind("\n\n", 0, fits)
    return blank_line if blank_line > 0 else fits


def _weight(markdown: str) -> int:
    markup = len(markdown) - len(markdown.translate(_WITHOUT_MARKUP))
    return len(markdown) + _MARKUP_WEIGHT * markup


def _plain_paragraphs(text: str) -> str:
    return "".join(
        f"<p>{escape(paragraph.strip(), quote=False)}</p>\n"
        for paragraph in text.split("\n\n")
        if paragraph.strip()
    )


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment (for search and excerpts), character references as
    the sanitizer writes them."""
    text = strip_tags(html)
    if _REWRITTEN_REFERENCE.search(text):
        text = nh3.clean(text, tags=set())  # html5ever decodes them; nh3 writes them back
    else:  # the sanitizer's own output: only the references it writes, nothing to decode
        text = text.replace(">", "&gt;").replace("\xa0", "&nbsp;").replace("\0", "")
    return " ".join(text.split())


# A character reference the sanitizer would not write as it stands.
_REWRITTEN_REFERENCE = re.compile(r"&(?!(?:amp|lt|gt|nbsp);)")


# What XML 1.0 cannot hold (C0 controls but tab and newlines, lone surrogates, U+FFFE/F):
# JSON carries them escaped, so stored text may have them; XML outputs drop them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """The text without the characters an XML 1.0 document cannot contain."""
    return _NOT_XML.sub("", text)
