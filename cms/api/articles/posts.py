"""Articles as the site's front-matter posts: import one, export one.

Registered on the articles blueprint (cms.api.registry imports this module); the same
services as `flask cms import` and `flask cms export`, so they cannot disagree.
"""

from typing import Any

import marshmallow as ma
from flask import Response, request, url_for
from flask.views import MethodView

from cms.api.articles.routes import (
    MARKDOWN,
    article_response,
    blp,
    by_id,
    markdown_response,
    visible_stamp,
)
from cms.api.articles.schemas import ArticleSchema
from cms.extensions import db
from cms.models import Role
from cms.problems import fail
from cms.services.posts import import_post

EXAMPLE = """---
title: Example headline
date: 2026-11-20
excerpt: One line about it.
author: Jane Doe
tags:
  - Policy
category: News
source: https://example.com/2026/11/20/example
---
<p>The body, in HTML or Markdown.</p>
"""


class PostSchema(ma.Schema):
    """One front-matter post, as JSON (generated clients send JSON best)."""

    markdown = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=2_000_000),
        metadata={"description": "The whole post: YAML front matter, then the body"},
    )


@blp.route("/import")
class ArticleImport(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.response(201, ArticleSchema, description="A new article")
    @blp.alt_response(200, schema=ArticleSchema, description="The article imported before, updated")
    @blp.errors(409)
    @blp.doc(
        operationId="importArticle",
        requestBody={
            "required": True,
            "content": {
                "application/json": {"schema": PostSchema, "example": {"markdown": EXAMPLE}}
            },
        },
    )
    def post(self) -> Response:
        """Import a front-matter post

        Send `{"markdown": "<the post>"}`, or the post itself as `text/markdown`
        (UTF-8). Front matter keys: title and date (required), excerpt, coverImage,
        author (one or a list), tags, category, source; any other key is refused.
        Published as dated. Importing the same post again (same source, else same slug)
        updates that article: 200 instead of 201.

        Every value is validated as createArticle validates it (and names, the cover,
        as their own create operations do); a 422 keys its errors by front-matter key,
        `body` for the body and `front_matter` for the YAML itself, which may not use
        aliases, tags beyond JSON's types, or more than 64 KiB.
        """
        article, created = import_post(db.session, _post_text())
        if not created:
            return article_response(by_id(article.id), {})
        location = url_for("articles.ArticleById", article_id=article.id)
        return article_response(by_id(article.id), {}, 201, {"Location": location})


def _post_text() -> str:
    if request.is_json:
        try:
            data: dict[str, Any] = PostSchema().load(request.get_json())
        except ma.ValidationError as error:
            fail(422, errors=error.messages_dict)
        return str(data["markdown"])
    if request.mimetype not in (MARKDOWN, "text/plain"):
        fail(415, detail=f"Send the post as JSON or as {MARKDOWN} (UTF-8).")
    try:
        return request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        fail(422, detail="The post is not valid UTF-8.", errors={"body": ["Not UTF-8."]})


@blp.route("/<int:article_id>/markdown")
class ArticleMarkdown(MethodView):
    @blp.response(
        200,
        {"type": "string"},
        content_type=MARKDOWN,
        description="The front-matter post: the body as written (lossless) for the "
        "article's editors and authors, its sanitized HTML for other readers",
    )
    @blp.errors(404)
    @blp.doc(operationId="getArticleMarkdown")
    def get(self, article_id: int) -> Response:
        """Export an article as a front-matter post"""
        return markdown_response(visible_stamp(by_id(article_id)))
