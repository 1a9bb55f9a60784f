"""Publications: the venues of aggregated articles, with their credibility rating."""

from typing import Any

from cms.api.crud import Resource, register_crud, set_fields
from cms.api.framework import Blueprint
from cms.api.publications.schemas import PublicationSchema
from cms.models import Publication
from cms.services import DbSession
from cms.services.identifiers import domain_of

blp = Blueprint(
    "publications",
    __name__,
    url_prefix="/api/v1/publications",
    description="Publications (venues) and their credibility",
)


def apply_publication(session: DbSession, publication: Publication, data: dict[str, Any]) -> None:
    set_fields(session, publication, data)
    if publication.domain is None and publication.url:
        publication.domain = domain_of(publication.url)


register_crud(
    blp,
    Resource(
        Publication,
        PublicationSchema,
        "publication",
        "publications",
        apply=apply_publication,
        order_by=(Publication.name,),
    ),
)
