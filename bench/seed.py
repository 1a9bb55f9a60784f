"""A benchmark database: N articles (~4 KB bodies), 200 authors, 20 categories, 500 tags.

Bulk Core inserts, so a million rows take minutes, not hours. One word ("zephyrine")
is planted in 3% of the articles: the selective search term.
"""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from cms.extensions import db
from cms.models import (
    Article,
    ArticleAuthor,
    ArticleTag,
    Author,
    Category,
    SearchDocument,
    Tag,
)
from cms.services.identifiers import new_stable_id
from cms.services.planner import refresh_statistics

RARE_WORD = "zephyrine"
WORDS = [
    "market",
    "model",
    "policy",
    "launch",
    "chip",
    "data",
    "court",
    "study",
    "climate",
    "space",
    "robot",
    "health",
    "energy",
    "vote",
    "budget",
    "privacy",
    "network",
    "startup",
    "research",
    "security",
    "open",
    "source",
    "cloud",
    "vision",
    "agent",
    "battery",
    "satellite",
]
BATCH = 2000


def paragraph(rng: random.Random, words: int = 60) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def seed(articles: int) -> None:
    if db.session.scalar(select(func.count()).select_from(Article)):
        return
    rng = random.Random(42)
    db.session.execute(
        insert(Author),
        [
            {"name": f"Author {i}", "slug": f"author-{i}", "bio": paragraph(rng, 20)}
            for i in range(200)
        ],
    )
    db.session.execute(
        insert(Category), [{"name": f"Category {i}", "slug": f"category-{i}"} for i in range(20)]
    )
    db.session.execute(insert(Tag), [{"name": f"Tag {i}", "slug": f"tag-{i}"} for i in range(500)])
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for offset in range(0, articles, BATCH):
        _batch(rng, start, offset, min(BATCH, articles - offset))
        # A commit per batch: one transaction of a million articles grew SQLite's WAL
        # past 6 GB (nothing can be checkpointed before the commit).
        db.session.commit()
    if db.engine.dialect.name == "postgresql":  # planner statistics for the new rows
        with db.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            # The ids were given, so the sequence never moved: the next article would
            # take id 1 (bench.writes' drafts met a 409).
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('articles', 'id'), max(id)) FROM articles"
            )
            connection.exec_driver_sql("ANALYZE")
    else:  # what the hourly job would have done by now
        refresh_statistics()


def _batch(rng: random.Random, start: datetime, offset: int, size: int) -> None:
    rows: list[dict[str, Any]] = []
    for n in range(offset, offset + size):
        body = "".join(f"<p>{paragraph(rng)}</p>" for _ in range(9))  # ~4 KB
        if n % 33 == 0:
            body += f"<p>The {RARE_WORD} report.</p>"
        rows.append(
            {
                "id": n + 1,
                "slug": f"article-{n}",
                "stable_id": new_stable_id(),
                "title": f"{paragraph(rng, 6)[:-1]} {n}",
                "excerpt": paragraph(rng, 25),
                "body_format": "html",
                "body_source": body,
                "body_html": body,
                "status": "published" if n % 20 else "draft",
                "published_at": start + timedelta(minutes=n),
                "category_id": n % 20 + 1,
                "importance": rng.randint(0, 100),
                "key_points": [],
                "version": 1,
            }
        )
    db.session.execute(insert(Article), rows)
    db.session.execute(
        insert(ArticleAuthor),
        [{"article_id": r["id"], "author_id": rng.randint(1, 200), "position": 0} for r in rows],
    )
    db.session.execute(
        insert(ArticleTag),
        [
            {"article_id": r["id"], "tag_id": tag, "position": i}
            for r in rows
            for i, tag in enumerate(rng.sample(range(1, 501), 3))
        ],
    )
    db.session.execute(
        insert(SearchDocument),
        [
            {
                "article_id": r["id"],
                "title": r["title"],
                "excerpt": r["excerpt"],
                "summary": "",
                "body_text": r["body_html"].replace("<p>", " ").replace("</p>", " "),
                "tag_names": "",
            }
            for r in rows
        ],
    )
