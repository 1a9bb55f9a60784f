"""Images: cover images and other media. An image still used as a cover cannot be deleted."""

from cms.api.crud import Resource, register_crud
from cms.api.images.schemas import ImageSchema
from cms.extensions import Blueprint
from cms.models import Image, Role

blp = Blueprint(
    "images",
    __name__,
    url_prefix="/api/v1/images",
    description="Images (metadata; uploads come later)",
)
# Anyone who writes articles may add a cover image; editors curate the library.
register_crud(
    blp,
    Resource(Image, ImageSchema, "image", "images", slug_from=None, create_role=Role.CONTRIBUTOR),
)
