"""Cached copies of aggregated articles' source pages: the fetch record, and the page's
main text and metadata (trafilatura, cms.services.page_text).

The record (HTTP status, fetched_at, bytes, content hash) is what the resource page
shows ("HTTP 200, fetched ..., 8 KB"); the text is searched with the article.
"""

import hashlib

from cms.models import Article, SourceCopy, utcnow
from cms.services import DbSession
from cms.services.fetching import FetchError, FetchPolicy, fetch
from cms.services.page_text import extract_page
from cms.services.search import index_articles


def cache_source(session: DbSession, article: Article, policy: FetchPolicy) -> None:
    """Fetch the article's source page and keep its record and text. An HTTP error is
    recorded (status, time) and the earlier copy kept; other failures raise FetchError
    and change nothing."""
    if not article.source_url:
        raise FetchError("bad_url", "The article has no source_url.")
    try:
        page = fetch(article.source_url, policy)
    except FetchError as error:
        if error.status is None:
            raise
        article.fetch_status, article.fetched_at = error.status, utcnow()
        return
    article.fetch_status = page.status
    article.fetched_at = utcnow()
    article.fetch_bytes = len(page.body)
    article.fetch_content_hash = hashlib.sha256(page.body).hexdigest()
    copy = session.get(SourceCopy, article.id) or SourceCopy(article_id=article.id)
    extracted = extract_page(_decode(page.body, page.headers.get("content-type", "")), page.url)
    copy.text = extracted.text
    copy.title, copy.author = extracted.title, extracted.author
    copy.published_on, copy.language = extracted.published_on, extracted.language
    session.add(copy)
    session.flush()
    index_articles(session, [article])


def _decode(body: bytes, content_type: str) -> str:
    charset = "utf-8"
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip("\"'")
    try:
        return body.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")
