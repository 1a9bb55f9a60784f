"""Images: register a remote image (JSON) or upload one (multipart). An image still used
as a cover cannot be deleted; deleting an unused upload removes its files. The library
is read with a token (contributor and above); readers get images inside articles."""

from collections.abc import Callable
from typing import Any

import flask
import marshmallow as ma
from flask import Response, current_app, request, send_from_directory, url_for
from flask.views import MethodView
from sqlalchemy import inspect, select
from sqlalchemy.orm import selectinload

from cms.api.crud import Resource, register_crud
from cms.api.framework import Blueprint, json_response
from cms.api.images.schemas import UPLOAD_REQUEST_BODY, ImageSchema, ImageUploadSchema
from cms.api.openapi import read_schema, write_schema
from cms.api.screening import read_json
from cms.caching import validators
from cms.extensions import db
from cms.jobs import after_commit, after_rollback, enqueue
from cms.models import Image, ImageStatus, Role
from cms.problems import InsufficientStorage, fail
from cms.services import DbSession
from cms.services.articles import touch_articles_using
from cms.services.media import (
    RejectedImageError,
    inspect_upload,
    new_prefix,
    original_key,
    render_image,
    rendition_keys,
)
from cms.services.rendering import render_pending
from cms.storage import IMMUTABLE, LocalStorage, StorageFullError, checked, storage

blp = Blueprint(
    "images", __name__, url_prefix="/api/v1/images", description="Images: remote or uploaded"
)
# Not part of the API (no JSON, no spec): the local storage's files.
media = flask.Blueprint("media", __name__, url_prefix="/media")


def on_image_change(session: DbSession, image: Image) -> Callable[[], None]:
    """Articles showing it change; a deleted upload's files go once the delete commits."""
    touched = touch_articles_using(session, image)
    keys = rendition_keys(image) if image.id is not None else []

    def finish() -> None:
        touched()
        if keys and inspect(image).was_deleted:
            after_commit(session, lambda: storage().delete(keys))

    return finish


register_crud(
    blp,
    Resource(
        Image,
        ImageSchema,
        "image",
        "images",
        slug_from=None,
        creatable=False,
        query=lambda: select(Image).options(selectinload(Image.renditions)),
        on_change=on_image_change,
        # Anyone who writes articles may add a cover image; editors curate the library.
        create_role=Role.CONTRIBUTOR,
        # The library holds the covers of drafts (embargoed photos among them): readers
        # see an image only embedded in an article they may read.
        read_role=Role.CONTRIBUTOR,
    ),
)


IMAGE_PROBLEMS = ("unsupported_image", "invalid_image", "image_too_large", "insufficient_storage")


@blp.route("")
class ImageCreation(MethodView):
    @blp.requires(Role.CONTRIBUTOR)
    @blp.response(201, ImageSchema)
    @blp.errors(*IMAGE_PROBLEMS)
    @blp.doc(
        operationId="createImage",
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": write_schema(ImageSchema)}},
        },
    )
    def post(self) -> Response:
        """Register a remote image

        Its URL is kept exactly as given (CDN sizing parameters and all). This path
        also takes an upload as multipart/form-data, as uploadImage does (one media
        type per documented operation: generated clients handle that best).
        """
        image = _upload() if request.mimetype == "multipart/form-data" else _remote()
        return _created(image)


@blp.route("/upload")
class ImageUpload(MethodView):
    @blp.requires(Role.CONTRIBUTOR)
    @blp.response(201, ImageSchema)
    @blp.errors(*IMAGE_PROBLEMS)
    @blp.doc(
        operationId="uploadImage",
        requestBody={
            "required": True,
            "content": {"multipart/form-data": UPLOAD_REQUEST_BODY},
        },
    )
    def post(self) -> Response:
        """Upload an image

        The file is checked (a real JPEG, PNG, WebP, AVIF or GIF, within the pixel and
        byte caps), then re-encoded into renditions: `status` is `processing` until
        they exist, then `ready` with its `srcset`.
        """
        if request.mimetype != "multipart/form-data":
            fail(415, detail="Send the image as multipart/form-data, its file as `file`.")
        return _created(_upload())


def _created(image: Image) -> Response:
    location = url_for("images.ImageById", item_id=image.id)
    body = read_schema(ImageSchema)().dump(image)
    return json_response(body, 201, {"Location": location, **validators(image)})


def _remote() -> Image:
    if not request.is_json:
        fail(415, detail="Send JSON (a remote image) or multipart/form-data (an upload).")
    try:
        data = write_schema(ImageSchema)().load(request.get_json())
    except ma.ValidationError as error:
        fail(422, errors=error.messages_dict)
    image = Image(**data)
    db.session.add(image)
    db.session.flush()
    return image


def _upload() -> Image:
    # Photos are larger than any JSON body: this route has its own cap (413 above it).
    request.max_content_length = current_app.config["IMAGE_MAX_BYTES"]
    fields = _upload_metadata()
    files = request.files.getlist("file")
    if len(files) != 1:
        fail(422, errors={"file": ["Send one file, as the `file` part."]})
    upload = files[0]
    data = upload.read()
    try:
        found = inspect_upload(data, current_app.config["IMAGE_MAX_PIXELS"])
    except RejectedImageError as rejected:
        fail(rejected.status, rejected.code, rejected.message, errors={"file": [rejected.message]})
    image = Image(
        url="",
        width=found.width,
        height=found.height,
        status=ImageStatus.PROCESSING,
        storage_prefix=new_prefix(),
        source_format=found.format,
        source_bytes=len(data),
        renditions=[],  # none yet: so cleaning up after a rollback need not load them
        **fields,
    )
    db.session.add(image)
    db.session.flush()
    store = storage()
    # Whatever was written for a row that is then rolled back goes with it.
    after_rollback(db.session, lambda: store.delete(rendition_keys(image)))
    try:
        store.put(original_key(image), data, "application/octet-stream")
        if current_app.config["IMAGE_RENDERING"] == "request":
            render_image(db.session, store, image)
        else:
            enqueue(db.session, render_pending, image.id)
    except StorageFullError as error:
        raise InsufficientStorage from error  # rolled back: no row, and its files go
    return image


def _upload_metadata() -> dict[str, Any]:
    """The form's `metadata` part, JSON read as request bodies are; no other part."""
    unknown = (set(request.form) - {"metadata"}) | (set(request.files) - {"file"})
    if unknown:
        fail(422, errors={name: ["Unknown field."] for name in sorted(unknown)})
    parts = request.form.getlist("metadata")
    if len(parts) > 1:
        fail(422, errors={"metadata": ["Send one metadata part."]})
    try:
        metadata = read_json(parts[0]) if parts else {}
    except (ValueError, RecursionError):
        fail(422, errors={"metadata": ["Not a JSON object."]})
    if not isinstance(metadata, dict):
        fail(422, errors={"metadata": ["Not a JSON object."]})
    try:
        return ImageUploadSchema().load(metadata)  # type: ignore[no-any-return]
    except ma.ValidationError as error:
        fail(
            422,
            errors={f"metadata.{name}": messages for name, messages in error.messages_dict.items()},
        )


@media.route("/<path:key>")
def media_file(key: str) -> Response:
    """Files of the local storage: renditions only (never the uploaded originals).

    Anyone holding a URL may fetch it (they are cached as immutable, CDNs included):
    each image's files sit under a random 128-bit prefix, and nothing lists them, so a
    draft's cover cannot be found without reading the draft or the image library."""
    store = storage()
    try:  # no "..": what is served must be under images/, however the path is spelled
        checked(key)
    except ValueError:
        fail(404, detail="No such file.")
    if not isinstance(store, LocalStorage) or not key.startswith("images/"):
        fail(404, detail="No such file.")
    response = send_from_directory(store.root, key, max_age=31536000)
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
