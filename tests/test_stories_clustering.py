"""Clustering as articles are published: the samples, copies, follow-ups, the window."""

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from cms.demo import load_demo
from cms.extensions import db
from cms.models import Article, ContentEvent, Story, StoryMember, StoryRole, utcnow
from cms.services.dispatch import dispatch_events
from cms.services.search import reindex
from cms.services.stories import place_articles
from tests.conftest import run_jobs
from tests.factories import ArticleFactory, PublicationFactory

MEMO_DAY = datetime(2025, 7, 30, 18, tzinfo=UTC)
BODY = " ".join(
    f"Sentence {n} of the wire report on the chip plant in Arizona, which the company "
    f"says will employ {n * 10} people and open in the spring."
    for n in range(30)
)


def clustered() -> None:
    """What the worker does after commits: dispatch the outbox, run the clustering job."""
    run_jobs(until=utcnow() + timedelta(seconds=2))
    dispatch_events()
    run_jobs()


def member(article_id: int) -> StoryMember:
    found = db.session.get(StoryMember, article_id)
    assert found is not None
    return found


def story_of(article_id: int) -> Story:
    found = db.session.get(Story, member(article_id).story_id)
    assert found is not None
    return found


def test_the_two_samples_are_one_story_led_by_techcrunch(app: Flask) -> None:
    """Engadget and TechCrunch report the memo of 2025-07-30. Both publications are
    rated 3, so credibility ties; TechCrunch's article carries importance 52 and
    Engadget's none: TechCrunch leads by the second step of the rule."""
    load_demo(db.session)
    db.session.commit()
    clustered()
    engadget = db.session.scalar(select(Article).where(Article.title.like("Is Mark%")))
    techcrunch = db.session.scalar(select(Article).where(Article.title.like("Zuckerberg sig%")))
    assert engadget is not None
    assert techcrunch is not None
    story = story_of(techcrunch.id)
    assert member(engadget.id).story_id == story.id
    assert story.member_count == 2
    assert story.source_count == 2
    assert story.lead_article_id == techcrunch.id
    assert member(techcrunch.id).role is StoryRole.LEAD
    assert member(engadget.id).role is StoryRole.COVERAGE
    assert story.title == techcrunch.title


def chip_article(title: str, when: datetime, **fields: object) -> Article:
    """A published article, in the search index (factories bypass the write path)."""
    article: Article = ArticleFactory(title=title, published_at=when, **fields)
    reindex(db.session, [article.id])
    db.session.commit()
    return article


def test_a_follow_up_two_days_later_joins_and_two_weeks_later_does_not(app: Flask) -> None:
    first = chip_article("Intel delays Ohio chip plant opening to 2031", MEMO_DAY)
    follow = chip_article(
        "Intel Ohio chip plant delay: what it means for the 2031 opening",
        MEMO_DAY + timedelta(days=2),
    )
    later = chip_article(
        "Intel delays Ohio chip plant again, now to 2032", MEMO_DAY + timedelta(days=14)
    )
    clustered()
    assert member(follow.id).story_id == member(first.id).story_id
    assert member(later.id).story_id != member(first.id).story_id


def test_a_syndicated_copy_is_a_duplicate_of_the_original(app: Flask) -> None:
    wire, paper = PublicationFactory(credibility=4), PublicationFactory(credibility=2)
    original = chip_article(
        "TSMC opens second Arizona chip plant",
        MEMO_DAY,
        body_html=f"<p>{BODY}</p>",
        publication=wire,
        source_url="https://wire.example/tsmc",
    )
    copy = chip_article(
        "TSMC opens its second chip plant in Arizona",
        MEMO_DAY + timedelta(hours=3),
        body_html=f"<p>By Staff. {BODY} This article originally appeared on the wire.</p>",
        publication=paper,
        source_url="https://paper.example/tsmc-copy",
    )
    clustered()
    assert member(copy.id).story_id == member(original.id).story_id
    assert member(copy.id).role is StoryRole.DUPLICATE
    assert member(copy.id).duplicate_of_id == original.id
    assert member(original.id).role is StoryRole.LEAD


def story_events(story_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(ContentEvent.type).where(
                ContentEvent.resource == "story", ContentEvent.resource_id == story_id
            )
        )
    )


def test_a_job_refreshes_each_story_once(app: Flask) -> None:
    """Three articles on one event, placed by one job: their story is written once."""
    ids = [
        chip_article(title, MEMO_DAY + timedelta(hours=hours)).id
        for title, hours in [
            ("Intel delays Ohio chip plant opening to 2031", 0),
            ("Intel Ohio chip plant opening delayed to 2031", 2),
            ("Ohio chip plant: Intel delays opening to 2031", 5),
        ]
    ]
    placed = place_articles(db.session, ids)
    db.session.commit()
    assert len(set(placed.values())) == 1
    story = story_of(ids[0])
    assert story.member_count == 3
    assert story_events(story.id) == ["story.updated"]


def test_placing_again_changes_nothing_and_records_nothing(app: Flask) -> None:
    first = chip_article("Intel delays Ohio chip plant opening to 2031", MEMO_DAY)
    follow = chip_article("Intel Ohio chip plant opening delayed to 2031", MEMO_DAY)
    place_articles(db.session, [first.id, follow.id])
    db.session.commit()
    story = story_of(first.id)
    version, events = story.version, story_events(story.id)
    place_articles(db.session, [follow.id, first.id])
    db.session.commit()
    assert story_of(first.id).version == version
    assert story_events(story.id) == events
