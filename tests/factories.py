"""factory_boy factories, committing through the app's session."""

from datetime import UTC, datetime, timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from cms.extensions import db
from cms.models import (
    Article,
    ArticleAuthor,
    ArticleStatus,
    ArticleTag,
    Author,
    BodyFormat,
    Category,
    Image,
    Page,
    Publication,
    Tag,
)
from cms.services.identifiers import new_stable_id


class Factory(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class AuthorFactory(Factory):
    class Meta:
        model = Author

    name = factory.Sequence(lambda n: f"Author {n}")
    slug = factory.Sequence(lambda n: f"author-{n}")


class TagFactory(Factory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"Tag {n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")


class CategoryFactory(Factory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class PublicationFactory(Factory):
    class Meta:
        model = Publication

    name = factory.Sequence(lambda n: f"Publication {n}")
    slug = factory.Sequence(lambda n: f"publication-{n}")
    domain = factory.Sequence(lambda n: f"publication{n}.example")
    credibility = 3


class ImageFactory(Factory):
    class Meta:
        model = Image

    url = factory.Sequence(lambda n: f"https://img.example/{n}.jpg")
    width = 1200
    height = 630
    alt = "A picture"


class ArticleFactory(Factory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    stable_id = factory.LazyFunction(new_stable_id)
    body_format = BodyFormat.HTML
    body_source = "<p>Body</p>"
    body_html = "<p>Body</p>"
    status = ArticleStatus.PUBLISHED
    published_at = factory.Sequence(lambda n: datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=n))
    key_points: list[str] = []

    @factory.post_generation
    def authors(self, create: bool, authors: list[Author] | None) -> None:
        self.author_links = [
            ArticleAuthor(author=a, position=i) for i, a in enumerate(authors or [])
        ]

    @factory.post_generation
    def tags(self, create: bool, tags: list[Tag] | None) -> None:
        self.tag_links = [ArticleTag(tag=t, position=i) for i, t in enumerate(tags or [])]
        if create:
            db.session.commit()


class PageFactory(Factory):
    class Meta:
        model = Page

    title = factory.Sequence(lambda n: f"Page {n}")
    slug = factory.Sequence(lambda n: f"page-{n}")
    type = "Approach"
    quality = 50.0
