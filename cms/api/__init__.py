"""The HTTP API: one package per resource, each with its routes and schemas."""

from cms.api.articles import imports as _article_imports  # noqa: F401 - registers its route
from cms.api.articles.routes import blp as articles
from cms.api.auth.routes import blp as auth
from cms.api.authors.routes import blp as authors
from cms.api.categories.routes import blp as categories
from cms.api.feeds.routes import blp as feeds
from cms.api.images.routes import blp as images
from cms.api.pages.routes import blp as pages
from cms.api.publications.routes import blp as publications
from cms.api.tags.routes import blp as tags
from cms.api.tokens.routes import blp as tokens
from cms.api.users.routes import blp as users

BLUEPRINTS = (
    articles,
    authors,
    tags,
    categories,
    publications,
    images,
    pages,
    feeds,
    auth,
    users,
    tokens,
)
