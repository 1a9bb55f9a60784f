"""The public site's URLs. A headless CMS does not own the frontend's pages, so feeds
and sitemaps link to them by configured patterns (`ARTICLE_URL_PATTERN`, ...), with the
placeholders {site} (SITE_URL), {slug} and {id}."""

from typing import Literal

from flask import current_app

PageKind = Literal["article", "category", "tag", "author", "publication"]


def site_url() -> str:
    return str(current_app.config["SITE_URL"])


def page_url(kind: PageKind, *, slug: str, id: int) -> str:
    """The public page of an article (or a category, tag, author, publication)."""
    pattern = current_app.config[f"{kind.upper()}_URL_PATTERN"]
    return str(pattern.format(site=site_url(), slug=slug, id=id))


def api_url(path: str) -> str:
    """A URL of this API as the public reaches it (PUBLIC_BASE_URL, never the Host
    header: these documents are cached publicly, and a forged Host would poison them)."""
    return f"{current_app.config['PUBLIC_BASE_URL']}{path}"
