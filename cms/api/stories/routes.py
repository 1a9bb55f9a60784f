"""Stories: lists and one story for readers, merge/split/pin/lock for editors."""

from typing import Any

from flask import url_for
from flask.views import MethodView
from sqlalchemy import func, select

from cms.api.common import envelope, list_envelope
from cms.api.framework import Blueprint
from cms.api.stories.read import (
    encode_cursor,
    ordered,
    render_stories,
    render_story,
    story_filters,
)
from cms.api.stories.schemas import (
    LockSchema,
    MergeSchema,
    PinLeadSchema,
    SplitSchema,
    StoryDetailSchema,
    StoryQueryArgs,
    StorySchema,
)
from cms.cache_tags import show
from cms.caching import fresh_until
from cms.extensions import db
from cms.models import Role, Story
from cms.problems import fail
from cms.services.purging import list_key, resource_key
from cms.services.story_editing import (
    StoryEditError,
    lock_story,
    merge_stories,
    pin_lead,
    split_story,
)
from cms.services.visibility import next_change

blp = Blueprint(
    "stories",
    __name__,
    url_prefix="/api/v1/stories",
    description="Stories: one event's coverage across publications, grouped as it is ingested",
)


def _story_or_404(story_id: int) -> Story:
    story = db.session.get(Story, story_id)
    if story is None:
        fail(404, detail=f"No story with id {story_id}.")
    return story


def _shown(story: Story) -> dict[str, Any]:
    rendered = render_story(db.session, story)
    if rendered is None:  # no public member (yet, or any more)
        fail(404, detail=f"No story with id {story.id}.")
    show(
        [
            resource_key("story", story.id),
            *(f"article-{m['article']['id']}" for m in rendered["members"]),
        ]
    )
    return rendered


@blp.route("")
class Stories(MethodView):
    @blp.arguments(StoryQueryArgs, location="query")
    @blp.response(200, envelope(StorySchema))
    @blp.doc(operationId="listStories")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List stories, most recently updated (or largest) first"""
        fresh_until(next_change(db.session))
        show([list_key("story")])
        page, page_size, cursor = args["page"], args["page_size"], args.get("cursor")
        where = story_filters(args)
        query = ordered(select(Story).where(*where), args["sort"], cursor)
        if cursor is None:
            query = query.offset((page - 1) * page_size)
        stories = list(db.session.scalars(query.limit(page_size + 1)))
        more = len(stories) > page_size
        stories = stories[:page_size]
        total = None
        if args["count"]:
            total = db.session.scalar(select(func.count()).select_from(Story).where(*where))
        return list_envelope(
            render_stories(db.session, stories),
            page=None if cursor is not None else page,
            page_size=page_size,
            total=total,
            more=more,
            next_cursor=encode_cursor(args["sort"], stories[-1]) if more else None,
        )


@blp.route("/<int:story_id>")
class StoryById(MethodView):
    @blp.response(200, StoryDetailSchema)
    @blp.errors(404)
    @blp.doc(operationId="getStory")
    def get(self, story_id: int) -> dict[str, Any]:
        """Get a story: the timeline of its members, its credibility spread"""
        fresh_until(next_change(db.session))
        return _shown(_story_or_404(story_id))


def _edited(story_id: int, operation: Any, *args: Any) -> Story:
    story = _story_or_404(story_id)
    try:
        return operation(db.session, story, *args)  # type: ignore[no-any-return]
    except StoryEditError as error:
        fail(409, "invalid_story_operation", error.detail)


@blp.route("/<int:story_id>/merge")
class StoryMerge(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.arguments(MergeSchema)
    @blp.response(200, StoryDetailSchema)
    @blp.errors(404, "invalid_story_operation")
    @blp.doc(operationId="mergeStories")
    def post(self, data: dict[str, Any], story_id: int) -> dict[str, Any]:
        """Merge another story into this one (its members stay put from then on)"""
        return _shown(_edited(story_id, merge_stories, data["story_id"]))


@blp.route("/<int:story_id>/split")
class StorySplit(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.arguments(SplitSchema)
    @blp.response(201, StoryDetailSchema)
    @blp.errors(404, "invalid_story_operation")
    @blp.doc(operationId="splitStory")
    def post(self, data: dict[str, Any], story_id: int) -> tuple[dict[str, Any], int, Any]:
        """Split members out into a new story (they stay put from then on)"""
        new = _edited(story_id, split_story, data["article_ids"])
        location = url_for("stories.StoryById", story_id=new.id)
        return _shown(new), 201, {"Location": location}


@blp.route("/<int:story_id>/pin-lead")
class StoryPinLead(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.arguments(PinLeadSchema)
    @blp.response(200, StoryDetailSchema)
    @blp.errors(404, "invalid_story_operation")
    @blp.doc(operationId="pinStoryLead")
    def post(self, data: dict[str, Any], story_id: int) -> dict[str, Any]:
        """Pin a member as the lead (null: the lead rule decides again)"""
        return _shown(_edited(story_id, pin_lead, data["article_id"]))


@blp.route("/<int:story_id>/lock")
class StoryLock(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.arguments(LockSchema)
    @blp.response(200, StoryDetailSchema)
    @blp.errors(404)
    @blp.doc(operationId="lockStory")
    def post(self, data: dict[str, Any], story_id: int) -> dict[str, Any]:
        """Lock a story (ingest adds no members and moves none out) or unlock it"""
        return _shown(_edited(story_id, lock_story, data["locked"]))
