"""The honest baselines: a bare Flask app that imports nothing from cms/, served in its
own gunicorn on its own port, reading the same database as the CMS under test.

- /hello: a fixed 48-byte JSON answer (what Flask and gunicorn cost per request).
- /one-query: the 20 newest published articles with their bodies, joined to author
  and category, as one SQLAlchemy Core `text()` query, plain dicts and orjson: the
  least any list endpoint of this stack can do (PERFORMANCE.md).

BARE_DATABASE_URL names the database (bench.run sets it to the CMS's).
"""

import os

import orjson
from flask import Flask, Response
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["BARE_DATABASE_URL"])

_HELLO = orjson.dumps({"message": "hello, world", "service": "bench", "ok": True})
_NEWEST = text(
    """
    SELECT a.id, a.slug, a.title, a.excerpt, a.body_html, a.published_at,
           au.name AS author, c.name AS category
    FROM articles a
    JOIN article_authors aa ON aa.article_id = a.id
    JOIN authors au ON au.id = aa.author_id
    LEFT JOIN categories c ON c.id = a.category_id
    WHERE a.status = 'published'
    ORDER BY a.published_at DESC, a.id DESC
    LIMIT 20
    """
)


@app.get("/hello")
def hello() -> Response:
    return Response(_HELLO, mimetype="application/json")


@app.get("/one-query")
def one_query() -> Response:
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(_NEWEST).mappings()]
    return Response(orjson.dumps({"data": rows}, default=str), mimetype="application/json")
