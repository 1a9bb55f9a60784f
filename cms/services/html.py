"""Article bodies: sanitize HTML with nh3, render Markdown with markdown-it-py."""

from functools import partial
from urllib.parse import urljoin

import nh3
from markdown_it import MarkdownIt

# js-default mirrors markdown-it's JavaScript defaults: CommonMark plus tables and
# strikethrough, raw HTML escaped. Its output is still sanitized, as any HTML is.
_markdown = MarkdownIt("js-default")

# Ammonia's defaults already drop <script>, <style>, event handlers and javascript: URLs;
# we add what news bodies use and it leaves out by default.
_EXTRA_ATTRIBUTES = {
    "span": {"id"},
    "img": {"width", "height", "loading"},
    "blockquote": {"cite"},
}


def _allowed_attributes() -> dict[str, set[str]]:
    attributes = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
    for tag, attrs in _EXTRA_ATTRIBUTES.items():
        attributes.setdefault(tag, set()).update(attrs)
    return attributes


_ATTRIBUTES = _allowed_attributes()


_URL_ATTRIBUTES = {"href", "src", "cite"}


def sanitize_html(html: str, base_url: str | None = None) -> str:
    """Keep links, images, quotes, lists, headings and emphasis; drop anything executable.
    With `base_url`, relative links become absolute (bodies taken from other sites)."""
    return nh3.clean(
        html,
        attributes=_ATTRIBUTES,
        link_rel="noopener noreferrer",
        attribute_filter=partial(_absolute, base_url) if base_url else None,
    )


def _absolute(base_url: str, element: str, attribute: str, value: str) -> str:
    return urljoin(base_url, value) if attribute in _URL_ATTRIBUTES else value


def render_markdown(markdown: str) -> str:
    return sanitize_html(_markdown.render(markdown))


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment (for search and excerpts)."""
    return " ".join(nh3.clean(html, tags=set()).split())
