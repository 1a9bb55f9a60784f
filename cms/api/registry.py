"""Every blueprint of the API, in the order the spec lists them."""

from cms.api.articles import lifecycle as _article_lifecycle  # noqa: F401 - registers its routes
from cms.api.articles import posts as _article_posts  # noqa: F401 - registers its routes
from cms.api.articles import previews as _article_previews  # noqa: F401 - registers its routes
from cms.api.articles import revisions as _article_revisions  # noqa: F401 - registers its routes
from cms.api.articles import trash as _article_trash  # noqa: F401 - registers its routes
from cms.api.articles.routes import blp as articles_blp
from cms.api.audit.routes import blp as audit_blp
from cms.api.auth.routes import blp as auth_blp
from cms.api.authors.routes import blp as authors_blp
from cms.api.categories.routes import blp as categories_blp
from cms.api.feeds.routes import blp as feeds_blp
from cms.api.health import blp as health_blp
from cms.api.images.routes import blp as images_blp
from cms.api.jobs.routes import blp as jobs_blp
from cms.api.pages.routes import blp as pages_blp
from cms.api.publications.routes import blp as publications_blp
from cms.api.sitemaps.routes import blp as sitemaps_blp
from cms.api.stories import related as _story_related  # noqa: F401 - registers its route
from cms.api.stories.routes import blp as stories_blp
from cms.api.syndication.routes import blp as syndication_blp
from cms.api.tags.routes import blp as tags_blp
from cms.api.tokens.routes import blp as tokens_blp
from cms.api.users.routes import blp as users_blp
from cms.api.webhooks.routes import blp as webhooks_blp
from cms.api.websub.routes import blp as websub_blp

# (Named *_blp: a bare `images` here would hide the cms.api.images package.)
BLUEPRINTS = (
    articles_blp,
    authors_blp,
    tags_blp,
    categories_blp,
    publications_blp,
    images_blp,
    pages_blp,
    stories_blp,
    feeds_blp,
    websub_blp,
    syndication_blp,
    sitemaps_blp,
    webhooks_blp,
    auth_blp,
    users_blp,
    tokens_blp,
    jobs_blp,
    audit_blp,
    health_blp,
)
