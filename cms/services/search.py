"""Full-text search over articles: keeping the index current, and querying it.

Ranking costs time in proportion to the number of matches (PERFORMANCE.md), so only
the newest `window` matches the caller may see are ranked: a common word over a million
articles still answers in bounded time, relevance is judged among recent coverage, and
drafts the caller cannot see cost no ranking. A query's cost also grows with its words
(each is matched in every document), so repeats count once and MAX_SEARCH_WORDS caps
the rest.
"""

import html
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Subquery,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import selectinload

from cms.caching import CACHES, LRU, content_generation
from cms.models import Article, ArticleTag, SearchDocument, SourceCopy
from cms.services import DbSession
from cms.services.html import html_to_text

MAX_SEARCH_WORDS = 16
SNIPPET_SOURCE_CHARS = 2000
# Snippet delimiters no text contains: the snippet is escaped, then they become <mark>.
_START, _STOP = "\x02", "\x03"
_TERM = re.compile(r'"([^"]*)"|(-?)([^\s"]+)')
_WORD = re.compile(r"\w+")
# bm25 weights per column: title, excerpt, summary, body_text, tag_names.
_BM25 = "bm25(articles_fts, 10.0, 3.0, 3.0, 1.0, 5.0)"
_FTS = table("articles_fts", column("rowid", Integer))
_TSVECTOR: ColumnElement[Any] = literal_column("search_documents.tsv")
_TOKENIZER = "porter unicode61 remove_diacritics 2"  # the index's (migration 0003)
_OPENING_WORDS = 16
_scratch = threading.local()


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


@dataclass(frozen=True)
class SearchTerms:
    """The distinct terms of a query, each a phrase of one or more lower-case words:
    all `wanted` must match, none of `excluded`."""

    wanted: tuple[str, ...]
    excluded: tuple[str, ...]

    @property
    def word_count(self) -> int:
        return sum(len(term.split()) for term in (*self.wanted, *self.excluded))

    def fts5(self) -> str:
        """An FTS5 expression: every term quoted, so no FTS5 operator is passed on."""
        return " AND ".join(f'"{term}"' for term in self.wanted) + "".join(
            f' NOT "{term}"' for term in self.excluded
        )

    def fts5_any(self) -> str:
        """Any wanted term: what a snippet highlights."""
        return " OR ".join(f'"{term}"' for term in self.wanted)

    def websearch(self) -> str:
        """The same terms for PostgreSQL's websearch_to_tsquery (quoted: its `or` is
        an operator, which the FTS5 side does not have)."""
        return " ".join(f'"{term}"' for term in self.wanted) + "".join(
            f' -"{term}"' for term in self.excluded
        )


def search_terms(user_query: str) -> SearchTerms:
    """What a person typed: words and "quoted phrases" must all match, -word excludes.
    A repeated term counts once: it matches the same rows and only adds work."""
    wanted: dict[str, None] = {}  # dicts: distinct, in the order typed
    excluded: dict[str, None] = {}
    for phrase, minus, word in _TERM.findall(user_query):
        words = _WORD.findall((phrase or word).lower())
        if words:
            (excluded if minus and not phrase else wanted)[" ".join(words)] = None
    return SearchTerms(tuple(wanted), tuple(excluded))


def ranked_matches(
    session: DbSession,
    terms: SearchTerms,
    window: int,
    visible: Sequence[ColumnElement[bool]],
    *,
    match_any: bool = False,
) -> Subquery | None:
    """(article_id, score) of the newest `window` matches among the articles `visible`
    selects; higher score = more relevant. None when there is nothing to search for.
    `match_any`: a match needs any one wanted term, not all (stories' candidates)."""
    if not terms.wanted:
        return None
    dialect = session.get_bind().dialect.name
    query: BindParameter[str] = bindparam("q", match_query(dialect, terms, match_any=match_any))
    newest_first = dialect != "postgresql" or _walk_newest_first(
        session, terms, window, match_any=match_any
    )
    return matches(dialect, query, window, visible, newest_first=newest_first)


# The share of search documents holding each of some words, from PostgreSQL's statistics
# of the tsvector column (its most common lexemes; a word not among them is rare), and
# how many documents there are.
_WORD_SHARES = text(
    """
    WITH words AS (
        SELECT unnest(tsvector_to_array(to_tsvector('english', :words))) AS lexeme
    ), common AS (
        SELECT e.lexeme, e.share
        FROM pg_stats AS s,
             unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs)
                 AS e(lexeme, share)
        WHERE s.schemaname = current_schema()
          AND s.tablename = 'search_documents' AND s.attname = 'tsv'
    )
    SELECT min(coalesce(c.share, 0)) AS rarest, max(coalesce(c.share, 0)) AS commonest,
           (SELECT reltuples FROM pg_class WHERE oid = 'search_documents'::regclass)
               AS documents
    FROM words AS w LEFT JOIN common AS c ON c.lexeme = w.lexeme
    """
)


def _walk_newest_first(
    session: DbSession, terms: SearchTerms, window: int, *, match_any: bool
) -> bool:
    """PostgreSQL: find the window by walking documents newest first, testing each (for
    common words), or by taking every match from the GIN index and keeping the newest
    (for rarer ones)? Walking tests about window/share documents, the index hands over
    about documents * share matches: walk when the first is fewer. PostgreSQL's planner
    cannot judge this itself: it prices the test as one cheap operator, but each test
    reads the document's tsvector out of TOAST, so it walked for a word in 3% of 100,000
    documents (200 ms, where the index took 20 ms). No statistics yet: the index."""
    row = session.execute(_WORD_SHARES, {"words": " ".join(terms.wanted)}).one()
    share = row.commonest if match_any else row.rarest
    if share is None or not row.documents or row.documents < 0:
        return False
    return bool(share * share * row.documents > window)


def match_query(dialect: str, terms: SearchTerms, *, match_any: bool = False) -> str:
    """The terms as the dialect's full-text engine reads them (`matches`' parameter q)."""
    if dialect == "postgresql":
        return " or ".join(f'"{t}"' for t in terms.wanted) if match_any else terms.websearch()
    return terms.fts5_any() if match_any else terms.fts5()


def matches(
    dialect: str,
    query: BindParameter[str],
    window: int,
    visible: Sequence[ColumnElement[bool]],
    *,
    id_range: tuple[BindParameter[int], BindParameter[int]] | None = None,
    scored: bool = True,
    newest_first: bool = True,
) -> Subquery:
    """`ranked_matches` for a query string given as a bound parameter: a statement built
    once can run for any terms (building one costs more than running it). `id_range`
    (lowest, highest) bounds the ids the index reads, however many older ones match.
    `scored=False`: article ids alone, at a cost that stays flat as the index grows
    (FTS5's bm25 first counts every document each term matches, for its weights).
    `newest_first=False` (PostgreSQL): the window from every match the GIN index holds,
    not from documents walked by id (`_walk_newest_first`)."""
    if dialect == "postgresql":
        return _postgresql_matches(query, window, visible, id_range, scored, newest_first)
    article_id = _FTS.c.rowid
    score = literal_column(f"-{_BM25}", Float)
    where = text(f"articles_fts MATCH :{query.key}").bindparams(query)
    columns = (
        (article_id.label("article_id"), score.label("score"))
        if scored
        else (article_id.label("article_id"),)
    )
    ranked = select(*columns).where(where)
    if id_range is not None:  # on the index's own id column, which it seeks by
        ranked = ranked.where(article_id.between(*id_range))
    # The visibility test joins the ranking, not the results: invisible matches must
    # neither be scored nor take places in the window.
    return (
        ranked.join(Article, Article.id == article_id)
        .where(*visible)
        .order_by(article_id.desc())
        .limit(window)
        .subquery("hits")
    )


_DOCUMENTS = SearchDocument.__table__
_SCORED = _DOCUMENTS.alias("scored")


def _postgresql_matches(
    query: BindParameter[str],
    window: int,
    visible: Sequence[ColumnElement[bool]],
    id_range: tuple[BindParameter[int], BindParameter[int]] | None,
    scored: bool,
    newest_first: bool,
) -> Subquery:
    """The window first, then its scores: computed in the window's query, ts_rank_cd ran
    on every match before the newest were kept (each reads a tsvector out of TOAST)."""
    tsquery = func.websearch_to_tsquery(literal_column("'english'"), query)
    article_id = _DOCUMENTS.c.article_id
    # `+ 0` hides the id order from the planner, which would otherwise walk the
    # primary key (testing each document) to save sorting the matches.
    newest = article_id.desc() if newest_first else (article_id + 0).desc()
    found = select(article_id.label("article_id")).where(_TSVECTOR.op("@@")(tsquery))
    if id_range is not None:
        found = found.where(article_id.between(*id_range))
    # The visibility test joins the window, not the results: invisible matches must
    # neither be scored nor take places in it.
    found = found.join(Article, Article.id == article_id).where(*visible)
    if not scored:
        return found.order_by(newest).limit(window).subquery("hits")
    in_window = found.order_by(newest).limit(window).subquery("in_window")
    score = func.ts_rank_cd(literal_column("scored.tsv"), tsquery, 32)
    return (
        select(in_window.c.article_id, score.label("score"))
        .join(_SCORED, _SCORED.c.article_id == in_window.c.article_id)
        .subquery("hits")
    )


def snippets(
    session: DbSession, terms: SearchTerms, ids: list[int], *, cached: bool = True
) -> dict[int, str]:
    """Highlighted excerpts (safe HTML with <mark>) for the given result rows, taken
    from the lead of each (title and the start of the body), where news puts what
    matters: highlighting re-reads the text, and a body can be a megabyte. Kept per
    content generation (a search document changes only with it): highlighting a page
    cost more than ranking it."""
    if not ids:
        return {}
    if not cached:
        return _highlighted(session, terms, ids)
    generation, highlighted = content_generation(), terms.fts5_any()
    found: dict[int, str] = {}
    for article_id in ids:
        snippet = _snippets.get((generation, highlighted, article_id))
        if snippet is not None:
            found[article_id] = snippet
    missing = [article_id for article_id in ids if article_id not in found]
    if missing:
        for article_id, snippet in _highlighted(session, terms, missing).items():
            _snippets.put((generation, highlighted, article_id), snippet, len(snippet))
            found[article_id] = snippet
    return found


_snippets = LRU(size=4096, max_bytes=2 * 1024 * 1024)
CACHES.append(_snippets)
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_LEAD = func.substr(SearchDocument.title + ". " + SearchDocument.body_text, 1, SNIPPET_SOURCE_CHARS)
_LEADS = select(SearchDocument.article_id, _LEAD).where(SearchDocument.article_id.in_(_IDS))


def _highlighted(session: DbSession, terms: SearchTerms, ids: list[int]) -> dict[int, str]:
    if session.get_bind().dialect.name == "postgresql":
        statement = text(
            "SELECT article_id, ts_headline('english', "
            "left(title || '. ' || body_text, :chars), "
            "websearch_to_tsquery('english', :q), "
            "'StartSel=\x02, StopSel=\x03, MaxWords=30, MinWords=12') AS snippet "
            "FROM search_documents WHERE article_id = ANY(:ids)"
        ).bindparams(q=terms.websearch(), ids=ids, chars=SNIPPET_SOURCE_CHARS)
        return {row.article_id: _highlight(row.snippet) for row in session.execute(statement)}
    leads: list[tuple[int, str]] = [
        (row[0], row[1]) for row in session.execute(_LEADS, {"ids": ids})
    ]
    found = dict(_fts5_snippets(terms, leads))
    return {
        article_id: _highlight(found.get(article_id) or _opening(lead_text))
        for article_id, lead_text in leads
    }


def _fts5_snippets(terms: SearchTerms, leads: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """FTS5 snippets of these texts. Not from the index itself: FTS5's snippet() weighs
    every pair of hits in a document (a 1 MB body of one repeated word took minutes), so
    the leads go through a scratch in-memory index with the same tokenizer, and out."""
    scratch = _scratch_index()
    try:
        scratch.executemany("INSERT INTO leads(rowid, lead) VALUES (?, ?)", leads)
        return scratch.execute(
            "SELECT rowid, snippet(leads, 0, char(2), char(3), '…', 16) FROM leads "
            "WHERE leads MATCH ?",
            (terms.fts5_any(),),
        ).fetchall()
    finally:
        scratch.rollback()


def _scratch_index() -> sqlite3.Connection:
    """This thread's in-memory FTS5 table (SQLite connections stay in their thread)."""
    connection: sqlite3.Connection | None = getattr(_scratch, "connection", None)
    if connection is None:
        connection = sqlite3.connect(":memory:")
        connection.execute(f"CREATE VIRTUAL TABLE leads USING fts5(lead, tokenize='{_TOKENIZER}')")
        _scratch.connection = connection
    return connection


def _opening(lead: str) -> str:
    """A lead without a highlighted word (the match was further on): its first words."""
    return " ".join(lead.split(maxsplit=_OPENING_WORDS)[:_OPENING_WORDS]) + " …"


def _highlight(snippet: str) -> str:
    escaped = html.escape(snippet, quote=False)
    return escaped.replace(_START, "<mark>").replace(_STOP, "</mark>")
