"""The main text of a source page, and what the page says about itself, by trafilatura:
the article without navigation, boilerplate, scripts or comments, which is what search
should match and what a cached copy should keep."""

import re
from dataclasses import dataclass
from datetime import date

from cms.services.html import html_to_text

MAX_TEXT_CHARS = 100_000
_HTML_LANG = re.compile(r"<html\b[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)")


@dataclass
class PageText:
    text: str
    title: str | None = None
    author: str | None = None
    published_on: date | None = None
    language: str | None = None  # BCP 47, as the page declares it (or as detected)


def extract_page(html: str, url: str) -> PageText:
    """The page's main text and metadata. A page trafilatura finds no main text in (a
    short one, an index) keeps its visible text, so it can still be found."""
    # Imported here, by the feed worker that extracts pages: with lxml, courlan and
    # htmldate it costs each web worker 13 MiB, and no web request extracts a page.
    import trafilatura
    from trafilatura.settings import Document

    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=True
    )
    declared = _HTML_LANG.search(html[:4096])
    language = declared.group(1) if declared else None
    if not isinstance(document, Document) or not (document.text or "").strip():
        return PageText(html_to_text(html)[:MAX_TEXT_CHARS], language=language)
    return PageText(
        text=(document.text or "")[:MAX_TEXT_CHARS],
        title=_short(document.title, 500),
        author=_short(document.author, 300),
        published_on=_date(document.date),
        language=_short(document.language or language, 35),
    )


def _short(value: str | None, length: int) -> str | None:
    value = " ".join((value or "").split())
    return value[:length] or None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None
