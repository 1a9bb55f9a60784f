"""Editors' decisions on stories: merge, split, pin the lead, lock.

Each marks the members it places (`placed_by_editor`), which clustering never moves
again, and `rebuild` keeps: so what an editor decided survives re-clustering and ingest.
A pinned lead stays the lead while it is a member; a locked story takes no new members
from ingest (editors can still merge into it).
"""

from collections.abc import Iterable

from sqlalchemy import select, update

from cms.models import Story, StoryMember, utcnow
from cms.services import DbSession
from cms.services.stories import refresh_story, touch_articles


class StoryEditError(Exception):
    """An operation the story's state does not allow: `code` is the problem's word."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _place(session: DbSession, story_id: int, article_ids: Iterable[int] | None = None) -> None:
    """Mark members of the story as placed by an editor (all of them by default)."""
    query = update(StoryMember).where(StoryMember.story_id == story_id)
    if article_ids is not None:
        query = query.where(StoryMember.article_id.in_(list(article_ids)))
    session.execute(
        query.values(placed_by_editor=True), execution_options={"synchronize_session": False}
    )


def merge_stories(session: DbSession, story: Story, other_id: int) -> Story:
    """Move every member of story `other_id` into `story`, which keeps its id."""
    if other_id == story.id:
        raise StoryEditError("same_story", "A story cannot be merged into itself.")
    other = session.get(Story, other_id)
    if other is None:
        raise StoryEditError("no_such_story", f"No story with id {other_id}.")
    moved = set(
        session.scalars(select(StoryMember.article_id).where(StoryMember.story_id == other_id))
    )
    session.execute(
        update(StoryMember)
        .where(StoryMember.story_id == other_id)
        .values(story_id=story.id, placed_by_editor=True),
        execution_options={"synchronize_session": False},
    )
    _place(session, story.id)
    session.flush()
    session.delete(other)
    session.flush()
    touch_articles(session, moved | refresh_story(session, story.id))
    return story


def split_story(session: DbSession, story: Story, article_ids: list[int]) -> Story:
    """Take these members out of `story` into a new story of their own."""
    members = set(
        session.scalars(
            select(StoryMember.article_id).where(
                StoryMember.story_id == story.id, StoryMember.article_id.in_(article_ids)
            )
        )
    )
    if members != set(article_ids):
        missing = sorted(set(article_ids) - members)
        raise StoryEditError("not_members", f"Not members of story {story.id}: {missing}.")
    total = session.scalar(select(Story.member_count).where(Story.id == story.id))
    if len(members) >= (total or 0):
        raise StoryEditError("split_all", "A split leaves at least one member behind.")
    now = utcnow()
    new = Story(title="", member_count=0, source_count=0, version=1, first_seen_at=now)
    new.last_seen_at = now
    session.add(new)
    session.flush()
    session.execute(
        update(StoryMember)
        .where(StoryMember.article_id.in_(members))
        .values(story_id=new.id, placed_by_editor=True),
        execution_options={"synchronize_session": False},
    )
    _place(session, story.id)
    session.flush()
    session.expire_all()
    changed = refresh_story(session, story.id) | refresh_story(session, new.id)
    touch_articles(session, members | changed)
    return new


def pin_lead(session: DbSession, story: Story, article_id: int | None) -> Story:
    """Make this member the lead whatever the rule says (None: the rule decides again)."""
    if article_id is not None:
        is_member = session.scalar(
            select(StoryMember.article_id).where(
                StoryMember.story_id == story.id, StoryMember.article_id == article_id
            )
        )
        if is_member is None:
            raise StoryEditError("not_members", f"Article {article_id} is not in this story.")
        _place(session, story.id, [article_id])
    story.lead_pinned = article_id is not None
    if article_id is not None:
        story.lead_article_id = article_id
    session.flush()
    touch_articles(session, refresh_story(session, story.id))
    return story


def lock_story(session: DbSession, story: Story, locked: bool) -> Story:
    story.locked = locked
    story.version += 1
    story.updated_at = utcnow()
    session.flush()
    return story
