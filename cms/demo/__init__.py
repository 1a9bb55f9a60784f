"""Demo content for `make run`: the two sample documents plus generated articles.

The samples were copied into this folder from the project's shared samples, so the
app never reads outside its own tree at run time.
"""

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from cms.models import Article, ArticleStatus, Author, Category, Page, Publication, Tag
from cms.services import DbSession
from cms.services.articles import create_article
from cms.services.identifiers import domain_of, unique_slug
from cms.services.posts import import_post

HERE = Path(__file__).parent
SAMPLE_POST = HERE / "engadget-zuckerberg-open-source.md"
SAMPLE_RESOURCE = HERE / "techcrunch-resource.json"
GENERATED_ARTICLES = 60


def load_demo(session: DbSession) -> int:
    """Load the demo content once; returns how many articles it added (0 if present)."""
    if session.scalar(select(func.count()).select_from(Article)):
        return 0
    _publication(
        session,
        {
            "name": "Engadget",
            "url": "https://www.engadget.com/",
            "credibility": 3,
            "description": "Consumer technology news.",
        },
    )
    import_post(session, SAMPLE_POST.read_text(encoding="utf-8"))
    _load_resource(session, json.loads(SAMPLE_RESOURCE.read_text(encoding="utf-8")))
    _generate(session, GENERATED_ARTICLES)
    return 2 + GENERATED_ARTICLES


def _publication(session: DbSession, data: dict[str, Any]) -> Publication:
    publication = Publication(
        slug=unique_slug(session, Publication.slug, data["name"]),
        domain=domain_of(data["url"]),
        **data,
    )
    session.add(publication)
    session.flush()
    return publication


def _named(session: DbSession, model: type[Author | Tag | Category], name: str) -> Any:
    row = model(name=name, slug=unique_slug(session, model.slug, name))
    session.add(row)
    session.flush()
    return row


def _load_resource(session: DbSession, resource: dict[str, Any]) -> None:
    publication = _publication(session, resource["publication"])
    data = dict(resource["article"])
    fetch = data.pop("fetch")
    stable_id = data.pop("stable_id")
    article = create_article(
        session,
        {
            **data,
            "status": ArticleStatus.PUBLISHED,
            "published_at": datetime.fromisoformat(data["published_at"]),
            "author_ids": [_named(session, Author, data.pop("author")).id],
            "category_id": _named(session, Category, data.pop("category")).id,
            "tag_ids": [_named(session, Tag, name).id for name in data.pop("tags")],
            "publication_id": publication.id,
        },
    )
    article.stable_id = stable_id
    article.fetch_status = fetch["status"]
    article.fetched_at = datetime.fromisoformat(fetch["fetched_at"])
    article.fetch_bytes = fetch["bytes"]
    article.fetch_content_hash = fetch["content_hash"]
    for page in resource["cited_by"]:
        session.add(
            Page(
                slug=unique_slug(session, Page.slug, page["title"]),
                cited_articles=[article],
                **page,
            )
        )
    session.flush()


_TOPICS = ("Chips", "Robotics", "Climate", "Space", "Security", "Policy", "Startups", "Health")
_WORDS = ("quietly", "finally", "unexpectedly", "officially", "reportedly")
_VERBS = ("launches", "delays", "rethinks", "expands", "cancels", "open-sources", "acquires")


def _generate(session: DbSession, how_many: int) -> None:
    """Plausible, clearly generated articles spread over categories, tags and authors."""
    rng = random.Random(20250730)  # fixed: the demo is the same on every machine
    authors = [
        _named(session, Author, name)
        for name in ("Ada Byline", "Grace Newsdesk", "Linus Wire", "Margaret Copy")
    ]
    categories = [session.scalar(select(Category).where(Category.slug == "ai"))] + [
        _named(session, Category, name) for name in ("Science", "Business")
    ]
    tags = [_named(session, Tag, topic) for topic in _TOPICS]
    start = datetime(2025, 7, 29, 9, 0, tzinfo=UTC)  # before the samples: they lead the list
    for n in range(how_many):
        topic = rng.choice(_TOPICS)
        title = f"Demo #{n + 1}: {topic} company {rng.choice(_WORDS)} {rng.choice(_VERBS)} plan"
        create_article(
            session,
            {
                "title": title,
                "excerpt": f"A generated demo article about {topic.lower()}.",
                "body_markdown": f"## {topic}\n\nGenerated demo text for *{title}*.\n\n"
                f"- point one\n- point two\n",
                "status": ArticleStatus.DRAFT if n % 10 == 9 else ArticleStatus.PUBLISHED,
                "published_at": start - timedelta(hours=7 * n),
                "author_ids": [rng.choice(authors).id],
                "category_id": rng.choice([c for c in categories if c is not None]).id,
                "tag_ids": [t.id for t in rng.sample(tags, 2)],
                "content_type": rng.choice(("news article", "analysis", "blog post")),
                "importance": rng.randint(10, 90),
            },
        )
