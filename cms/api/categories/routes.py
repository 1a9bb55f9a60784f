"""Categories: site sections. A category still holding articles cannot be deleted (409)."""

from cms.api.categories.schemas import CategorySchema
from cms.api.crud import Resource, register_crud
from cms.api.framework import Blueprint
from cms.models import Category

blp = Blueprint("categories", __name__, url_prefix="/api/v1/categories", description="Categories")
register_crud(
    blp, Resource(Category, CategorySchema, "category", "categories", order_by=(Category.name,))
)
