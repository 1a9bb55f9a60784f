"""Authors: bylines on articles. An author still credited cannot be deleted (409)."""

from cms.api.authors.schemas import AuthorSchema
from cms.api.crud import Resource, register_crud
from cms.api.framework import Blueprint
from cms.models import Author

blp = Blueprint("authors", __name__, url_prefix="/api/v1/authors", description="Authors")
register_crud(blp, Resource(Author, AuthorSchema, "author", "authors", order_by=(Author.name,)))
