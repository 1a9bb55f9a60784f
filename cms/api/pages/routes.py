"""Topic pages: evergreen pages that cite articles (shown as `cited_by` on articles)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cms.api.crud import Resource, register_crud, set_fields
from cms.api.framework import Blueprint
from cms.api.pages.schemas import PageSchema
from cms.models import Article, Page
from cms.services import DbSession
from cms.services.errors import InvalidContentError
from cms.services.html import sanitize_html
from cms.services.purging import resource_key
from cms.services.references import resolve_many

blp = Blueprint("pages", __name__, url_prefix="/api/v1/pages", description="Topic pages")


def apply_page(session: DbSession, page: Page, data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    data = dict(data)
    if "article_ids" in data:
        page.cited_articles = resolve_many(
            session, Article, data.pop("article_ids"), "article_ids", errors
        )
    if "body_html" in data:
        data["body_html"] = sanitize_html(data["body_html"])
    if errors:
        raise InvalidContentError(errors)
    set_fields(session, page, data)


register_crud(
    blp,
    Resource(
        Page,
        PageSchema,
        "page",
        "pages",
        slug_from="title",
        apply=apply_page,
        order_by=(Page.title,),
        query=lambda: select(Page).options(selectinload(Page.published_citations)),
        follows_timeline=True,
        shows=lambda page: [resource_key("article", a.id) for a in page.public_citations],
    ),
)
