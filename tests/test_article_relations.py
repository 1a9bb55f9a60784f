"""Issue 12: one registry describes what an article shows of other rows. The read path,
the write path and the "which articles show this row" query come from it; the spec's two
forms of each relation must say what the server sends for it."""

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from cms.extensions import db
from cms.models import page_citations
from cms.services.article_relations import ARTICLE_RELATIONS, ArticleRelation
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    CategoryFactory,
    ImageFactory,
    PageFactory,
    PublicationFactory,
    TagFactory,
)

SPEC = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
SCHEMAS = json.loads(SPEC.read_text())["components"]["schemas"]


def _documented_fields(name: str) -> set[str]:
    """Every property a component declares, its allOf bases included."""
    schema = SCHEMAS[name]
    fields = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        if "$ref" in part:
            fields |= _documented_fields(part["$ref"].rsplit("/", 1)[-1])
        fields |= set(part.get("properties", {}))
    return fields


def _forms(relation: ArticleRelation) -> tuple[str, str]:
    """The spec's (full, compact) component names of the relation's field."""
    field = SCHEMAS["Article"]["properties"][relation.name]
    variants = (field["items"] if relation.many else field)["anyOf"]
    full, compact = (variant["$ref"].rsplit("/", 1)[-1] for variant in variants[:2])
    return full, compact


@pytest.fixture
def article_showing_everything(app: Any) -> int:
    article = ArticleFactory(
        authors=[AuthorFactory()],
        tags=[TagFactory()],
        category=CategoryFactory(),
        cover_image=ImageFactory(),
        publication=PublicationFactory(),
    )
    page = PageFactory()
    db.session.execute(page_citations.insert().values(page_id=page.id, article_id=article.id))
    db.session.commit()
    return int(article.id)


def _shown(relation: ArticleRelation, article: dict[str, Any]) -> dict[str, Any]:
    value = article[relation.name]
    return value[0] if relation.many else value


@pytest.mark.parametrize("relation", ARTICLE_RELATIONS, ids=lambda relation: relation.name)
def test_each_relation_sends_the_fields_its_two_forms_document(
    client: FlaskClient, article_showing_everything: int, relation: ArticleRelation
) -> None:
    full, compact = _forms(relation)
    url = f"/api/v1/articles/{article_showing_everything}"

    plain = client.get(url).json
    included = client.get(f"{url}?include={relation.name}").json
    listed = client.get(f"/api/v1/articles?include={relation.name}").json["data"][0]

    assert set(_shown(relation, plain)) == _documented_fields(compact)
    assert set(_shown(relation, included)) == _documented_fields(full)
    assert _shown(relation, listed) == _shown(relation, included)
    assert {column.key for column in relation.compact} <= _documented_fields(compact)


@pytest.mark.parametrize(
    "relation",
    [relation for relation in ARTICLE_RELATIONS if relation.write_field],
    ids=lambda relation: relation.name,
)
def test_each_writable_relation_is_set_by_its_write_field(
    client: FlaskClient, auth: dict[str, str], relation: ArticleRelation
) -> None:
    factory = {
        "authors": AuthorFactory,
        "tags": TagFactory,
        "category": CategoryFactory,
        "cover_image": ImageFactory,
        "publication": PublicationFactory,
    }[relation.name]
    first, second = factory(), factory()
    value = [second.id, first.id] if relation.many else second.id

    created = client.post(
        "/api/v1/articles",
        json={"title": "Shown", "body_html": "<p>x</p>", relation.write_field: value},
        headers=auth,
    )

    assert created.status_code == 201, created.json
    shown = created.json[relation.name]
    assert ([item["id"] for item in shown] if relation.many else shown["id"]) == value
