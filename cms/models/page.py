"""Evergreen topic pages, and the articles they cite."""

from sqlalchemy import CheckConstraint, Column, Float, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms.models.article import Article, ArticleStatus
from cms.models.base import Base, Timestamped, Versioned, utcnow

page_citations = Table(
    "page_citations",
    Base.metadata,
    Column("page_id", ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Page(Timestamped, Versioned, Base):
    __tablename__ = "pages"
    __table_args__ = (CheckConstraint("quality BETWEEN 0 AND 100", name="quality_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    # What kind of page it is on the site: "Approach", "Risk", "Organization", ...
    type: Mapped[str] = mapped_column(String(60))
    quality: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")

    cited_articles: Mapped[list[Article]] = relationship(secondary=page_citations)
    # What anonymous readers may see of the citations: drafts and the trash stay hidden.
    published_citations: Mapped[list[Article]] = relationship(
        secondary=page_citations,
        secondaryjoin=lambda: (
            (Article.id == page_citations.c.article_id)
            & (Article.status == ArticleStatus.PUBLISHED)
            & Article.trashed_at.is_(None)
        ),
        order_by=lambda: Article.published_at.desc(),
        viewonly=True,
    )

    @property
    def public_citations(self) -> list[Article]:
        """The published citations public now: their time come, their takedown not."""
        now = utcnow()
        return [
            article
            for article in self.published_citations
            if article.published_at is not None
            and article.published_at <= now
            and (article.unpublish_at is None or article.unpublish_at > now)
        ]
