"""Users (admins only): create, list, change role, deactivate. Users are never deleted,
so their history stays attributable; deactivation revokes their tokens."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cms.api.crud import Resource, register_crud
from cms.api.framework import Blueprint
from cms.api.users.schemas import UserSchema
from cms.models import Role, User
from cms.services.users import apply_user_changes

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users (admin)")

register_crud(
    blp,
    Resource(
        User,
        UserSchema,
        "user",
        "users",
        slug_from=None,
        apply=apply_user_changes,
        order_by=(User.email,),
        query=lambda: select(User).options(selectinload(User.author)),
        create_role=Role.ADMIN,
        change_role=Role.ADMIN,
        read_role=Role.ADMIN,
        deletable=False,
        on_change=None,
    ),
)
