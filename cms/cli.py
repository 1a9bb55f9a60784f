"""`flask cms ...`: operator commands. They call the same services as the API."""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from cms.extensions import db
from cms.models import Role
from cms.services.users import create_user

cms_cli = AppGroup("cms", help="Content management commands.")


@cms_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.CONTRIBUTOR.value,
    show_default=True,
)
@click.option("--name", "display_name", default=None, help="Display name (default: from e-mail)")
def create_user_command(email: str, password: str, role: str, display_name: str | None) -> None:
    """Create a user who can log in."""
    user = create_user(
        db.session, email=email, password=password, role=Role(role), display_name=display_name
    )
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@cms_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def import_command(paths: tuple[Path, ...]) -> None:
    """Import post files (or every *.md below folders); one bad file stops no other."""
    from cms.services.errors import InvalidContentError
    from cms.services.posts import import_post

    files = sorted({f for p in paths for f in ([p] if p.is_file() else p.rglob("*.md"))})
    failures: list[tuple[Path, str]] = []
    with click.progressbar(files, label="Importing", file=sys.stderr) as progress:
        for path in progress:
            try:  # each file its own transaction: a failure leaves nothing half-written
                import_post(db.session, path.read_text(encoding="utf-8"))
                db.session.commit()
            except InvalidContentError as error:
                db.session.rollback()
                failures.append((path, "; ".join(_field_errors(error.errors))))
            except (UnicodeDecodeError, SQLAlchemyError) as error:
                db.session.rollback()
                failures.append((path, str(error).splitlines()[0]))
    for path, reason in failures:
        click.echo(f"{path}: {reason}", err=True)
    click.echo(
        f"Imported {len(files) - len(failures)} of {len(files)} files, {len(failures)} failed."
    )
    if failures:
        raise SystemExit(1)


def _field_errors(errors: dict[Any, Any], prefix: str = "") -> Iterator[str]:
    """`field: messages` lines; nested errors (a list's items, a cover's URL) as
    `tags.1: ...`."""
    for field, messages in errors.items():
        if isinstance(messages, dict):
            yield from _field_errors(messages, f"{prefix}{field}.")
        else:
            yield f"{prefix}{field}: {' '.join(map(str, messages))}"


@cms_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(directory: Path) -> None:
    """Write every article as DIRECTORY/<slug>.md (front matter over its body)."""
    from cms.models import Article, ArticleAuthor, ArticleTag
    from cms.services.posts import export_post

    directory.mkdir(parents=True, exist_ok=True)
    query = (
        select(Article)
        .order_by(Article.id)
        .options(
            selectinload(Article.author_links).selectinload(ArticleAuthor.author),
            selectinload(Article.tag_links).selectinload(ArticleTag.tag),
            selectinload(Article.category),
            selectinload(Article.cover_image),
        )
    )
    written = 0
    for article in db.session.scalars(query):
        (directory / f"{article.slug}.md").write_text(export_post(article), encoding="utf-8")
        written += 1
    click.echo(f"Exported {written} articles to {directory}.")


@cms_cli.command("load-demo")
def load_demo_command() -> None:
    """Load the demo content (the samples and generated articles) unless already there."""
    from cms.demo import load_demo

    added = load_demo(db.session)
    db.session.commit()
    click.echo(f"Demo content: {added} articles added." if added else "Demo content present.")


stories_cli = AppGroup("stories", help="Stories: clustering of articles into events.")
cms_cli.add_command(stories_cli)


@stories_cli.command("rebuild")
@click.option(
    "--since", type=click.DateTime(), help="Only articles published since (UTC), else all."
)
def rebuild_stories_command(since: Any) -> None:
    """Cluster public articles again, oldest first; what editors placed stays placed."""
    from datetime import UTC

    from cms.services.stories import rebuild

    when = since.replace(tzinfo=UTC) if since is not None else None
    with click.progressbar(length=0, label="Clustering") as bar:

        def advance(done: int) -> None:
            bar.length = max(bar.length or 0, done)
            bar.update(done - bar.pos)  # a batch of articles at a time

        placed = rebuild(db.session, since=when, progress=advance)
    db.session.commit()
    click.echo(f"Clustered {placed} articles.")


@cms_cli.command("ingest")
@click.argument("feed_ids", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Fetch active feeds even if not due.")
def ingest_command(feed_ids: tuple[int, ...], everything: bool) -> None:
    """Fetch the feeds that are due (or the given ids) and store their new items.

    Each feed is its own transaction; a feed that fails records its error and the
    others go on. Exits 1 when any feed failed."""
    from flask import current_app

    from cms.models import Feed, FetchOutcome, utcnow
    from cms.services.fetching import FetchPolicy
    from cms.services.ingest import cache_source_pages, ingest_feed

    policy = FetchPolicy.from_config(current_app.config)
    now = utcnow()
    query = select(Feed).order_by(Feed.id)
    if feed_ids:
        query = query.where(Feed.id.in_(feed_ids))
    feeds = [
        f
        for f in db.session.scalars(query)
        if feed_ids or (everything and f.is_active) or f.is_due(now)
    ]
    new = failed = 0
    with click.progressbar(feeds, label="Ingesting", file=sys.stderr) as progress:
        for feed in progress:
            try:
                result = ingest_feed(db.session, feed, policy)
                db.session.commit()
            except SQLAlchemyError as error:  # e.g. another ingest of it ran at once
                db.session.rollback()
                failed += 1
                click.echo(f"\nFeed {feed.id} ({feed.url}): {error.__class__.__name__}", err=True)
                continue
            if feed.cache_sources and result.new_article_ids:
                cache_source_pages(db.session, result.new_article_ids, policy)
                db.session.commit()
            new += result.new_items
            if result.status is FetchOutcome.ERROR:
                failed += 1
                click.echo(f"\nFeed {feed.id} ({feed.url}): {result.error}", err=True)
    click.echo(f"Fetched {len(feeds)} feeds: {new} new articles, {failed} feeds failed.")
    if failed:
        raise SystemExit(1)


@cms_cli.command("render-images")
@click.option("--failed", is_flag=True, help="Also retry images whose rendering failed.")
def render_images_command(failed: bool) -> None:
    """Make the renditions of uploads still `processing` (a restart interrupted their
    job) and, with --failed, retry failed ones. Each image is its own transaction."""
    from cms.models import Image, ImageStatus
    from cms.services.rendering import render_pending

    wanted = [ImageStatus.PROCESSING, *([ImageStatus.FAILED] if failed else [])]
    ids = list(db.session.scalars(select(Image.id).where(Image.status.in_(wanted))))
    if failed:
        db.session.execute(
            update(Image).where(Image.id.in_(ids)).values(status=ImageStatus.PROCESSING)
        )
        db.session.commit()
    with click.progressbar(ids, label="Rendering", file=sys.stderr) as progress:
        for image_id in progress:
            render_pending(image_id)
    still = db.session.scalar(
        select(func.count(Image.id)).where(Image.id.in_(ids), Image.status == ImageStatus.FAILED)
    )
    click.echo(f"Rendered {len(ids) - (still or 0)} of {len(ids)} images, {still} failed.")
    if still:
        raise SystemExit(1)
