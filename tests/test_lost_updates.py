"""Issue 10, findings 7 and 8: If-Match is atomic, and validators move with what they cover.

The races and the relation changes are generated from the route map and the spec's
relation fields: a new editable resource (or relation) fails here until SAMPLES (or
TARGETS) says how to make one.
"""

import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image as Pillow
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from cms import create_app
from cms.services.rendering import render_pending
from tests.conftest import edit, remove, with_etag

_unique = count(1)
STALE_WRITE = "Someone else changed this meanwhile; fetch it again and retry."

# How to make one of each resource, and changes to what it shows (the first: a text).
SAMPLES: dict[str, tuple[Callable[[int], dict[str, Any]], list[dict[str, Any]]]] = {
    "/api/v1/articles": (
        lambda n: {"title": f"Article {n}", "status": "published"},
        [{"title": "Renamed"}, {"status": "draft"}, {"status": "published"}],
    ),
    "/api/v1/authors": (lambda n: {"name": f"Author {n}"}, [{"name": "Renamed"}]),
    "/api/v1/categories": (lambda n: {"name": f"Category {n}"}, [{"name": "Renamed"}]),
    "/api/v1/feeds": (lambda n: {"url": f"https://feeds.example/{n}.xml"}, [{"title": "Renamed"}]),
    # A public address literal: nothing to resolve when the URL is checked.
    "/api/v1/webhooks": (
        lambda n: {"url": f"https://93.184.215.14/hook/{n}"},
        [{"description": "Renamed"}],
    ),
    "/api/v1/images": (lambda n: {"url": f"https://img.example/{n}.png"}, [{"alt": "Renamed"}]),
    "/api/v1/pages": (lambda n: {"title": f"Page {n}", "type": "Risk"}, [{"title": "Renamed"}]),
    "/api/v1/publications": (
        lambda n: {"name": f"Publication {n}", "credibility": 3},
        [{"name": "Renamed"}],
    ),
    "/api/v1/tags": (lambda n: {"name": f"Tag {n}"}, [{"name": "Renamed"}]),
    "/api/v1/users": (
        lambda n: {
            "email": f"user{n}@example.com",
            "password": "long enough password",
            "display_name": f"User {n}",
            "role": "author",
        },
        [{"display_name": "Renamed"}],
    ),
}
# What each relation field of a write schema points at.
TARGETS = {
    "article_ids": "/api/v1/articles",
    "author_id": "/api/v1/authors",
    "author_ids": "/api/v1/authors",
    "category_id": "/api/v1/categories",
    "category_ids": "/api/v1/categories",  # a webhook's category filter
    "cover_image_id": "/api/v1/images",
    "publication_id": "/api/v1/publications",
    "tag_ids": "/api/v1/tags",
}

_APP = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
_SPEC = _APP.test_client().get("/api/v1/openapi.json").json
# Every item route PATCH changes, e.g. "/api/v1/tags/<int:item_id>", with its methods.
EDITABLE = {
    rule.rule: set(rule.methods or ())
    for rule in _APP.url_map.iter_rules()
    if "PATCH" in (rule.methods or ())
}


def collection_of(item_rule: str) -> str:
    return item_rule.rsplit("/", 1)[0]


def relation_fields(item_rule: str) -> list[str]:
    """The fields of the rule's PATCH body that name other rows (`..._id`, `..._ids`)."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", item_rule)
    body = _SPEC["paths"][path]["patch"]["requestBody"]["content"]["application/json"]
    properties = _SPEC["components"]["schemas"][body["schema"]["$ref"].split("/")[-1]]
    return sorted(
        name
        for name, field in properties["properties"].items()
        if re.search(r"_ids?$", name) and not field.get("readOnly")
    )


RELATIONS = [(rule, name) for rule in sorted(EDITABLE) for name in relation_fields(rule)]


def create(client: FlaskClient, collection: str, headers: dict[str, str]) -> str:
    """A new item of the collection, made through the API: its URL."""
    make, _ = SAMPLES[collection]
    response = client.post(collection, json=make(next(_unique)), headers=headers)
    assert response.status_code == 201, response.json
    return f"{collection}/{response.json['id']}"


def test_every_editable_resource_and_relation_has_a_sample() -> None:
    assert {collection_of(rule) for rule in EDITABLE} <= set(SAMPLES), "add SAMPLES"
    assert {name for _, name in RELATIONS} <= set(TARGETS), "add TARGETS"


@contextmanager
def another_writer_between_check_and_flush(
    write: Callable[[], TestResponse],
) -> Iterator[list[TestResponse]]:
    """Runs `write` to its commit (in a thread: its own app context, session and
    connection) when this thread's request first flushes a change, that is after its
    If-Match check and before its UPDATE or DELETE: the worst interleaving, every time."""
    caller = threading.current_thread()
    answers: list[TestResponse] = []

    def interleave(session: Session, *_: Any) -> None:
        if threading.current_thread() is caller and not answers:
            other = threading.Thread(target=lambda: answers.append(write()))
            other.start()
            other.join(timeout=30)
            assert answers, "the other writer did not finish (a lock held by this request?)"

    event.listen(Session, "before_flush", interleave)
    try:
        yield answers
    finally:
        event.remove(Session, "before_flush", interleave)


RACES = [
    pytest.param(rule, method, id=f"{method} {rule}")
    for rule, methods in sorted(EDITABLE.items())
    for method in ("PATCH", "DELETE")
    if method in methods
]


@pytest.mark.parametrize(("item_rule", "method"), RACES)
def test_concurrent_writes_with_one_etag_lose_no_update_on_every_resource(
    app: Flask, client: FlaskClient, admin: dict[str, str], item_rule: str, method: str
) -> None:
    url = create(client, collection_of(item_rule), admin)
    field = next(iter(SAMPLES[collection_of(item_rule)][1][0]))
    both_read = with_etag(client, url, admin)

    def first_writer() -> TestResponse:
        return app.test_client().patch(url, json={field: "First"}, headers=both_read)

    with another_writer_between_check_and_flush(first_writer) as first:
        if method == "PATCH":
            second = client.patch(url, json={field: "Second"}, headers=both_read)
        else:
            second = client.delete(url, headers=both_read)

    assert (first[0].status_code, second.status_code) == (200, 412), second.text
    # Refused by the version predicate of its UPDATE or DELETE (StaleDataError), which
    # ran after the other writer committed: its If-Match check had passed.
    assert second.json["detail"] == STALE_WRITE
    assert client.get(url, headers=admin).json[field] == "First"


def assert_validator_moved(
    client: FlaskClient, url: str, old: TestResponse, headers: dict[str, str], step: str
) -> None:
    stale = old.headers["ETag"]
    assert client.get(url, headers=headers).headers["ETag"] != stale, f"{step}: {url}"
    revalidated = client.get(url, headers={**headers, "If-None-Match": stale})
    assert revalidated.status_code == 200, f"{step}: {url} still 304"
    refused = client.patch(url, json={}, headers={**headers, "If-Match": stale})
    assert refused.status_code == 412, f"{step}: {url} took a stale If-Match"


@pytest.mark.parametrize(("item_rule", "field"), RELATIONS, ids=[" ".join(r) for r in RELATIONS])
def test_every_change_to_what_a_resource_shows_moves_its_validator(
    client: FlaskClient, admin: dict[str, str], item_rule: str, field: str
) -> None:
    """Relations changed from either side: linked, unlinked, taken by another owner,
    the target changed or deleted. Whenever an owner's body changes, its ETag moves,
    an old If-None-Match gets the new body, an old If-Match a 412; and a PATCH answers
    with what a GET then shows."""
    owners = [create(client, collection_of(item_rule), admin) for _ in range(2)]
    target = create(client, TARGETS[field], admin)
    target_id = int(target.rsplit("/", 1)[1])
    linked = [target_id] if field.endswith("_ids") else target_id
    unlinked: list[int] | None = [] if field.endswith("_ids") else None

    def owner_patch(url: str, value: Any) -> Callable[[], TestResponse]:
        return lambda: edit(client, url, json={field: value}, headers=admin)

    def target_patch(change: dict[str, Any]) -> Callable[[], TestResponse]:
        return lambda: edit(client, target, json=change, headers=admin)

    steps: list[tuple[str, str | None, Callable[[], TestResponse]]] = [
        ("link", owners[0], owner_patch(owners[0], linked)),
        ("unlink", owners[0], owner_patch(owners[0], unlinked)),
        ("link again", owners[0], owner_patch(owners[0], linked)),
        ("link another owner", owners[1], owner_patch(owners[1], linked)),
        *(
            (f"change the target: {change}", None, target_patch(change))
            for change in SAMPLES[TARGETS[field]][1]
        ),
        ("delete the target", None, lambda: remove(client, target, headers=admin)),
    ]
    for step, patched, change in steps:
        before = {url: client.get(url, headers=admin) for url in owners}
        response = change()
        assert response.status_code in (200, 204, 409), (step, response.json)
        for url, old in before.items():
            now = client.get(url, headers=admin)
            if url == patched:
                assert now.json != old.json, f"{step}: the owner shows no change"
                assert (response.json, response.headers["ETag"]) == (now.json, now.headers["ETag"])
            if now.json != old.json:
                assert_validator_moved(client, url, old, admin, step)


def test_an_edit_while_an_upload_renders_loses_neither(
    app: Flask, client: FlaskClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The render job and an editor both write the image: the editor's alt text stays,
    and the job, which lost the version race, renders again."""
    monkeypatch.setitem(app.config, "IMAGE_RENDERING", "background")
    # The render job is queued, and run below (as a worker would) while an editor edits.
    upload = client.post(
        "/api/v1/images",
        data={
            "file": (io.BytesIO(png(1200, 800)), "photo.png"),
            "metadata": json.dumps({"alt": "Old"}),
        },
        headers=admin,
        content_type="multipart/form-data",
    )
    url = f"/api/v1/images/{upload.json['id']}"
    headers = with_etag(client, url, admin)

    def editor() -> TestResponse:
        return app.test_client().patch(url, json={"alt": "New"}, headers=headers)

    with another_writer_between_check_and_flush(editor) as edited:
        render_pending(upload.json["id"])

    image = client.get(url, headers=admin).json
    assert edited[0].status_code == 200
    assert (image["alt"], image["status"], bool(image["srcset"])) == ("New", "ready", True)


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Pillow.new("RGB", (width, height), "teal").save(out, "PNG")
    return out.getvalue()
