"""Tags: fine-grained topic labels. Deleting a tag removes it from its articles."""

from cms.api.crud import Resource, register_crud
from cms.api.framework import Blueprint
from cms.api.tags.schemas import TagSchema
from cms.models import Tag

blp = Blueprint("tags", __name__, url_prefix="/api/v1/tags", description="Tags")
register_crud(blp, Resource(Tag, TagSchema, "tag", "tags", order_by=(Tag.name,)))
