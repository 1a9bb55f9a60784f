"""The CMS plus two baselines, served by the same gunicorn in the same run.

- /bench/hello: a fixed 48-byte JSON answer (what the stack costs per request).
- /bench/one-query: the bare Flask endpoint of PERFORMANCE.md: one Core query (the 20
  newest published articles joined with author and category), dicts, orjson.
"""

import orjson
from flask import Response
from sqlalchemy import select

from cms import create_app
from cms.extensions import db
from cms.models import Article, ArticleAuthor, ArticleStatus, Author, Category

app = create_app()

_HELLO = orjson.dumps({"message": "hello, world", "service": "bench", "ok": True})


@app.get("/bench/hello")
def hello() -> Response:
    return Response(_HELLO, mimetype="application/json")


@app.get("/bench/one-query")
def one_query() -> Response:
    rows = db.session.execute(
        select(
            Article.id,
            Article.slug,
            Article.title,
            Article.excerpt,
            Article.body_html,
            Article.published_at,
            Author.name.label("author"),
            Category.name.label("category"),
        )
        .join(ArticleAuthor, ArticleAuthor.article_id == Article.id)
        .join(Author, Author.id == ArticleAuthor.author_id)
        .outerjoin(Category, Category.id == Article.category_id)
        .where(Article.status == ArticleStatus.PUBLISHED)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(20)
    ).mappings()
    payload = orjson.dumps({"data": [dict(row) for row in rows]}, option=orjson.OPT_UTC_Z)
    return Response(payload, mimetype="application/json")
