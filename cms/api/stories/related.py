"""An article's related articles: its story first, then similar ones."""

from typing import Any

from flask.views import MethodView

from cms.api.articles.routes import _stamp, blp, by_id
from cms.api.common import envelope, list_envelope
from cms.api.stories.read import related_articles
from cms.api.stories.schemas import RelatedArticle, RelatedQueryArgs
from cms.auth.principal import current_principal
from cms.extensions import db
from cms.problems import fail


@blp.route("/<int:article_id>/related")
class RelatedArticles(MethodView):
    @blp.arguments(RelatedQueryArgs, location="query")
    @blp.response(200, envelope(RelatedArticle))
    @blp.errors(404)
    @blp.doc(operationId="listRelatedArticles")
    def get(self, args: dict[str, Any], article_id: int) -> dict[str, Any]:
        """Articles related to this one: its story's members, then similar articles"""
        if _stamp(by_id(article_id), current_principal()) is None:
            fail(404, detail=f"No article with id {article_id}.")
        found = related_articles(db.session, article_id, args["limit"])
        return list_envelope(found, page=1, page_size=args["limit"], total=None, more=False)
