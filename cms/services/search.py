"""Full-text search over articles: keeping the index current, and querying it.

Ranking costs time in proportion to the number of matches (PERFORMANCE.md), so only
the newest `window` matches are ranked: a common word over a million articles still
answers in bounded time, and relevance is judged among recent coverage.
"""

import html
import re
from collections.abc import Iterable

from sqlalchemy import Float, Integer, Subquery, bindparam, select, text
from sqlalchemy.orm import selectinload

from cms.models import Article, ArticleTag, SearchDocument, SourceCopy
from cms.services import DbSession
from cms.services.html import html_to_text

MAX_TERMS = 32
SNIPPET_SOURCE_CHARS = 2000
# Snippet delimiters no text contains: the snippet is escaped, then they become <mark>.
_START, _STOP = "\x02", "\x03"
_TERM = re.compile(r'"([^"]*)"|(-?)([^\s"]+)')
_WORD = re.compile(r"\w+")
# bm25 weights per column: title, excerpt, summary, body_text, tag_names.
_BM25 = "bm25(articles_fts, 10.0, 3.0, 3.0, 1.0, 5.0)"


def index_articles(session: DbSession, articles: Iterable[Article]) -> None:
    """(Re)write the search documents of these articles (their tags must be loaded).
    The text of a cached source page is searched as part of the body."""
    articles = list(articles)
    sources = dict(
        session.execute(
            select(SourceCopy.article_id, SourceCopy.text).where(
                SourceCopy.article_id.in_([a.id for a in articles])
            )
        ).all()
    )
    for article in articles:
        body_text = html_to_text(article.body_html)
        if article.id in sources:
            body_text += "\n" + sources[article.id]
        session.merge(
            SearchDocument(
                article_id=article.id,
                title=indexable(article.title),
                excerpt=indexable(article.excerpt or ""),
                summary=indexable(article.summary or ""),
                body_text=indexable(body_text),
                tag_names=" ".join(indexable(link.tag.name) for link in article.tag_links),
            )
        )


def indexable(text_or_html: str) -> str:
    """Plain text for the index: entities decoded (excerpts of imported posts carry
    them), angle brackets dropped (PostgreSQL's parser reads "<x ..." as a tag and
    swallows the words after it)."""
    return html.unescape(text_or_html).replace("<", " ").replace(">", " ")


def reindex(session: DbSession, article_ids: Iterable[int]) -> None:
    ids = list(article_ids)
    if ids:
        query = (
            select(Article)
            .where(Article.id.in_(ids))
            .options(selectinload(Article.tag_links).selectinload(ArticleTag.tag))
        )
        index_articles(session, session.scalars(query))


def fts5_query(user_query: str) -> str | None:
    """A safe FTS5 expression from what a person typed: words and "quoted phrases" must
    all match, -word excludes. Operators and quotes of FTS5 syntax are never passed on."""
    wanted: list[str] = []
    excluded: list[str] = []
    for phrase, minus, word in _TERM.findall(user_query)[:MAX_TERMS]:
        words = _WORD.findall(phrase or word)
        if words:
            (excluded if minus and not phrase else wanted).append('"' + " ".join(words) + '"')
    if not wanted:
        return None
    return " AND ".join(wanted) + "".join(f" NOT {term}" for term in excluded)


def ranked_matches(session: DbSession, user_query: str, window: int) -> Subquery | None:
    """(article_id, score) of the newest `window` matches; higher score = more relevant.
    None when the query has nothing to search for."""
    if session.get_bind().dialect.name == "postgresql":
        statement = text(
            "SELECT article_id, ts_rank_cd(tsv, query, 32) AS score "
            "FROM search_documents, websearch_to_tsquery('english', :q) AS query "
            "WHERE tsv @@ query ORDER BY article_id DESC LIMIT :window"
        ).bindparams(q=user_query, window=window)
    else:
        expression = fts5_query(user_query)
        if expression is None:
            return None
        statement = text(
            f"SELECT rowid AS article_id, -{_BM25} AS score FROM articles_fts "  # noqa: S608 - constant
            "WHERE articles_fts MATCH :q ORDER BY rowid DESC LIMIT :window"
        ).bindparams(q=expression, window=window)
    return statement.columns(article_id=Integer, score=Float).subquery("hits")


def snippets(session: DbSession, user_query: str, ids: list[int]) -> dict[int, str]:
    """Highlighted excerpts (safe HTML with <mark>) for the given result rows."""
    if not ids:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        # ts_headline re-parses the whole text (about 1 ms per 4 KB body, more than the
        # ranking of all results): highlight the lead, where news puts what matters.
        statement = text(
            "SELECT article_id, ts_headline('english', "
            "left(title || '. ' || body_text, :chars), "
            "websearch_to_tsquery('english', :q), "
            "'StartSel=\x02, StopSel=\x03, MaxWords=30, MinWords=12') AS snippet "
            "FROM search_documents WHERE article_id = ANY(:ids)"
        ).bindparams(q=user_query, ids=ids, chars=SNIPPET_SOURCE_CHARS)
    else:
        statement = text(
            "SELECT rowid AS article_id, "
            "snippet(articles_fts, -1, char(2), char(3), '…', 16) AS snippet "
            "FROM articles_fts WHERE articles_fts MATCH :q AND rowid IN :ids"
        ).bindparams(bindparam("ids", ids, expanding=True), q=fts5_query(user_query) or '""')
    return {row.article_id: _highlight(row.snippet) for row in session.execute(statement)}


def _highlight(snippet: str) -> str:
    escaped = html.escape(snippet, quote=False)
    return escaped.replace(_START, "<mark>").replace(_STOP, "</mark>")
