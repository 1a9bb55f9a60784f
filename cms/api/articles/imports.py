"""POST /api/v1/articles/import: one post in the site's front-matter format.

Registered on the articles blueprint (cms.api imports this module); the same service as
`flask cms import`, so the two cannot disagree.
"""

from flask import Response, request, url_for
from flask.views import MethodView

from cms.api.articles.routes import MARKDOWN, article_response, blp
from cms.api.articles.schemas import ArticleSchema
from cms.extensions import db
from cms.models import Article, Role
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


@blp.route("/import")
class ArticleImport(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.response(201, ArticleSchema, description="A new article")
    @blp.alt_response(200, schema=ArticleSchema, description="The article imported before, updated")
    @blp.errors(409, 413, 415)
    @blp.doc(
        operationId="importArticle",
        requestBody={
            "required": True,
            "content": {MARKDOWN: {"schema": {"type": "string"}, "example": EXAMPLE}},
        },
    )
    def post(self) -> Response:
        """Import a front-matter post

        Front matter keys: title and date (required), excerpt, coverImage, author (one
        or a list), tags, category, source; any other key is refused. Published as
        dated. Importing the same post again (same source, else same slug) updates that
        article: 200 instead of 201.

        Every value is validated as createArticle validates it (and names, the cover,
        as their own create operations do); a 422 keys its errors by front-matter key,
        `body` for the body and `front_matter` for the YAML itself, which may not use
        aliases, tags beyond JSON's types, or more than 64 KiB.
        """
        if request.mimetype not in (MARKDOWN, "text/plain"):
            fail(415, detail=f"Send the post as {MARKDOWN} (UTF-8).")
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            fail(422, detail="The post is not valid UTF-8.", errors={"body": ["Not UTF-8."]})
        article, created = import_post(db.session, text)
        if not created:
            return article_response(Article.id == article.id, {})
        location = url_for("articles.ArticleById", article_id=article.id)
        return article_response(Article.id == article.id, {}, 201, {"Location": location})
