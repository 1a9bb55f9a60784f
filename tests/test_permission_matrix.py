"""Every write operation, and every read that needs a role, x every role x own/other
object, generated from the route map.

A new write route fails here until it declares a rule (Blueprint.requires) and this
file has a recipe for calling it; so does a GET that declares a rule.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image as PillowImage
from sqlalchemy import select

from cms import create_app
from cms.auth.permissions import Rule
from cms.auth.principal import RANKS
from cms.auth.tokens import create_api_token, issue_token_pair
from cms.extensions import db
from cms.models import (
    ArticleStatus,
    Author,
    DeliveryStatus,
    Feed,
    Job,
    JobState,
    Role,
    Story,
    StoryMember,
    StoryRole,
    User,
    Webhook,
    WebhookDelivery,
    utcnow,
)
from cms.services.previews import issue_preview
from cms.services.stories import refresh_story
from cms.services.webhook_delivery import new_secret
from tests.conftest import FAST_PASSWORD
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    CategoryFactory,
    ImageFactory,
    PageFactory,
    PublicationFactory,
    TagFactory,
)

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def guarded_operations(app: Flask) -> dict[tuple[str, str], Rule | None]:
    """(endpoint, method) -> the rule its view declares, for every write route and
    every GET that declares one (the other GETs are public reads)."""
    operations: dict[tuple[str, str], Rule | None] = {}
    for url_rule in app.url_map.iter_rules():
        view = app.view_functions[url_rule.endpoint]
        for method in sorted(set(url_rule.methods or ()) & {*WRITE_METHODS, "GET"}):
            handler = getattr(getattr(view, "view_class", None), method.lower(), view)
            rule = getattr(handler, "permission", None)
            if method != "GET" or rule is not None:
                operations[(url_rule.endpoint, method)] = rule
    return operations


OPERATIONS = guarded_operations(
    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
)


@dataclass
class Caller:
    kind: str  # "anonymous", a role, or "token:<role>"
    headers: dict[str, str] = field(default_factory=dict)
    role: Role | None = None
    user: User | None = None
    author: Author | None = None


def make_caller(kind: str, password_hash: str) -> Caller:
    if kind == "anonymous":
        return Caller(kind)
    if kind.startswith("token:"):
        role = Role(kind.split(":")[1])
        _, secret = create_api_token(
            db.session, name="bot", role=role, expires_at=None, created_by=None
        )
        db.session.commit()
        return Caller(kind, {"Authorization": f"Bearer {secret}"}, role)
    role = Role(kind)
    user = User(
        email=f"{kind}@example.com",
        password_hash=password_hash,
        role=role,
        display_name=kind.title(),
    )
    author = Author(name=f"{kind} byline", slug=f"{kind}-byline", user=user)
    db.session.add_all([user, author])
    db.session.commit()
    token = issue_token_pair(user)["access_token"]
    return Caller(kind, {"Authorization": f"Bearer {token}"}, role, user, author)


@dataclass
class Raw:
    """A body that is not JSON (text, or multipart form fields and files)."""

    data: str | Callable[[], dict[str, Any]]
    content_type: str


def png_upload() -> dict[str, Any]:
    out = io.BytesIO()
    PillowImage.new("RGB", (32, 18)).save(out, format="PNG")
    out.seek(0)
    return {"file": (out, "cover.png")}


# A recipe makes what the call needs and returns (url, json body or Raw, success status).
Recipe = Callable[[Caller, str], tuple[str, Any, int]]


def article_for(caller: Caller, scope: str) -> Any:
    if scope == "own":
        return ArticleFactory(status=ArticleStatus.DRAFT, authors=[caller.author])
    status = ArticleStatus.DRAFT if scope == "other_draft" else ArticleStatus.PUBLISHED
    return ArticleFactory(status=status, authors=[AuthorFactory()])


def preview() -> tuple[int, int]:
    """(article id, preview id) of a live preview of a draft."""
    article = ArticleFactory(status=ArticleStatus.DRAFT, authors=[AuthorFactory()])
    token, _ = issue_preview(db.session, article, lifetime=timedelta(hours=1), created_by_id=None)
    db.session.commit()
    return article.id, token.id


def in_state(state: ArticleStatus) -> Callable[[Caller, str], Any]:
    """A recipe's article for a status step: the step's source status where the caller
    may act on it (their own, or anyone's for editors), else as the scope says."""

    def article(caller: Caller, scope: str) -> Any:
        if scope == "own":
            return ArticleFactory(status=state, authors=[caller.author])
        if caller.role in (Role.EDITOR, Role.ADMIN):
            return ArticleFactory(status=state, authors=[AuthorFactory()])
        return article_for(caller, scope)

    return article


def stepped(name: str, state: ArticleStatus, body: dict[str, Any] | None = None) -> Recipe:
    make = in_state(state)
    return lambda c, s: (f"/api/v1/articles/{make(c, s).id}/{name}", body, 200)


def in_trash() -> Any:
    return ArticleFactory(trashed_at=utcnow(), authors=[AuthorFactory()])


def crud(
    endpoint: str,
    path: str,
    payload: dict[str, Any],
    change: dict[str, Any],
    factory: Callable[[], Any],
) -> dict[tuple[str, str], Recipe]:
    """Recipes for a register_crud resource: `endpoint` is "blueprint.Singular"."""
    blueprint, _singular = endpoint.split(".")
    collection = f"{blueprint}.{path.title()}"
    return {
        (collection, "POST"): lambda c, s: (f"/api/v1/{path}", payload, 201),
        (f"{endpoint}ById", "PATCH"): lambda c, s: (f"/api/v1/{path}/{factory().id}", change, 200),
        (f"{endpoint}ById", "DELETE"): lambda c, s: (f"/api/v1/{path}/{factory().id}", None, 204),
    }


def other_user() -> Any:
    user = User(
        email="other@example.com", password_hash="x", role=Role.AUTHOR, display_name="Other"
    )
    db.session.add(user)
    db.session.commit()
    return user


def feed() -> Any:
    # Not allow-listed, so a fetch is refused before any connection (status "error").
    row = Feed(url="http://127.0.0.1:9/feed")
    db.session.add(row)
    db.session.commit()
    return row


def failed_job() -> Any:
    row = Job(
        id=uuid4().hex,
        name="feeds.fetch",
        args=[1],
        state=JobState.FAILED,
        attempts=1,
        max_attempts=1,
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.commit()
    return row


def api_token() -> Any:
    token, _ = create_api_token(
        db.session, name="t", role=Role.EDITOR, expires_at=None, created_by=None
    )
    db.session.commit()
    return token


def webhook() -> Any:
    # A public address literal: nothing to resolve, and nothing is sent in a request.
    row = Webhook(url="https://93.184.215.14/hook", secret_encrypted=new_secret()[1])
    db.session.add(row)
    db.session.commit()
    return row


def failed_delivery() -> tuple[int, int]:
    hook = webhook()
    row = WebhookDelivery(
        webhook_id=hook.id,
        message_id=f"msg_{uuid4().hex}",
        event_type="webhook.ping",
        payload="{}",
        status=DeliveryStatus.FAILED,
    )
    db.session.add(row)
    db.session.commit()
    return hook.id, row.id


def story_of(*, size: int = 2) -> Story:
    """A story of `size` published articles, made as clustering would leave it."""
    story = Story(title="A story", member_count=0, source_count=0, version=1)
    db.session.add(story)
    db.session.flush()
    for _ in range(size):
        article = ArticleFactory()
        db.session.add(
            StoryMember(article_id=article.id, story_id=story.id, role=StoryRole.COVERAGE)
        )
    db.session.flush()
    refresh_story(db.session, story.id)
    db.session.commit()
    return story


def story_members(story: Story) -> list[int]:
    return list(
        db.session.scalars(select(StoryMember.article_id).where(StoryMember.story_id == story.id))
    )


RECIPES: dict[tuple[str, str], Recipe] = {
    ("stories.StoryMerge", "POST"): lambda c, s: (
        f"/api/v1/stories/{story_of().id}/merge",
        {"story_id": story_of().id},
        200,
    ),
    ("stories.StorySplit", "POST"): lambda c, s: (
        lambda story: (
            f"/api/v1/stories/{story.id}/split",
            {"article_ids": story_members(story)[:1]},
            201,
        )
    )(story_of()),
    ("stories.StoryPinLead", "POST"): lambda c, s: (
        lambda story: (
            f"/api/v1/stories/{story.id}/pin-lead",
            {"article_id": story_members(story)[-1]},
            200,
        )
    )(story_of()),
    ("stories.StoryLock", "POST"): lambda c, s: (
        f"/api/v1/stories/{story_of().id}/lock",
        {"locked": True},
        200,
    ),
    ("articles.Articles", "POST"): lambda c, s: ("/api/v1/articles", {"title": "New"}, 201),
    ("articles.ArticleById", "PATCH"): lambda c, s: (
        f"/api/v1/articles/{article_for(c, s).id}",
        {"title": "Changed"},
        200,
    ),
    ("articles.ArticleById", "DELETE"): lambda c, s: (
        f"/api/v1/articles/{article_for(c, s).id}",
        None,
        204,
    ),
    ("articles.TrashedArticle", "DELETE"): lambda c, s: (
        f"/api/v1/articles/trash/{in_trash().id}",
        None,
        204,
    ),
    ("articles.ArticleRestore", "POST"): lambda c, s: (
        f"/api/v1/articles/{in_trash().id}/restore",
        None,
        200,
    ),
    ("articles.ArticlePreviews", "POST"): lambda c, s: (
        f"/api/v1/articles/{article_for(c, s).id}/previews",
        {},
        201,
    ),
    ("articles.ArticlePreviewById", "DELETE"): lambda c, s: (
        "/api/v1/articles/{}/previews/{}".format(*preview()),
        None,
        204,
    ),
    ("articles.SubmitArticle", "POST"): stepped("submit", ArticleStatus.DRAFT),
    ("articles.WithdrawArticle", "POST"): stepped("withdraw", ArticleStatus.IN_REVIEW),
    ("articles.PublishArticle", "POST"): stepped("publish", ArticleStatus.DRAFT),
    ("articles.ScheduleArticle", "POST"): stepped(
        "schedule", ArticleStatus.DRAFT, {"published_at": "2100-01-01T00:00:00Z"}
    ),
    ("articles.ArchiveArticle", "POST"): stepped("archive", ArticleStatus.PUBLISHED),
    ("articles.ArticleRevisionRestore", "POST"): lambda c, s: (
        f"/api/v1/articles/{article_for(c, s).id}/revisions/1/restore",
        None,
        200,
    ),
    **crud("tags.Tag", "tags", {"name": "T"}, {"name": "U"}, TagFactory),
    **crud("categories.Category", "categories", {"name": "C"}, {"name": "D"}, CategoryFactory),
    **crud("authors.Author", "authors", {"name": "A"}, {"bio": "b"}, AuthorFactory),
    **crud(
        "publications.Publication",
        "publications",
        {"name": "P", "credibility": 3},
        {"credibility": 4},
        PublicationFactory,
    ),
    **crud(
        "images.Image", "images", {"url": "https://i.example/a.png"}, {"alt": "x"}, ImageFactory
    ),
    ("images.ImageUpload", "POST"): lambda c, s: (
        "/api/v1/images/upload",
        Raw(png_upload, "multipart/form-data"),
        201,
    ),
    ("images.ImageCreation", "POST"): lambda c, s: (
        "/api/v1/images",
        {"url": "https://i.example/a.png"},
        201,
    ),
    **crud("pages.Page", "pages", {"title": "P", "type": "Risk"}, {"quality": 5}, PageFactory),
    ("articles.ArticleImport", "POST"): lambda c, s: (
        "/api/v1/articles/import",
        Raw("---\ntitle: Imported\ndate: 2026-01-02\n---\nBody", "text/markdown"),
        201,
    ),
    **crud("feeds.Feed", "feeds", {"url": "https://example.com/rss"}, {"is_active": False}, feed),
    ("feeds.FeedFetch", "POST"): lambda c, s: (f"/api/v1/feeds/{feed().id}/fetch", None, 202),
    ("jobs.JobRetry", "POST"): lambda c, s: (f"/api/v1/jobs/{failed_job().id}/retry", None, 202),
    ("webhooks.WebhookCreation", "POST"): lambda c, s: (
        "/api/v1/webhooks",
        {"url": "https://93.184.215.14/hook"},
        201,
    ),
    ("webhooks.WebhookById", "PATCH"): lambda c, s: (
        f"/api/v1/webhooks/{webhook().id}",
        {"enabled": False},
        200,
    ),
    ("webhooks.WebhookById", "DELETE"): lambda c, s: (
        f"/api/v1/webhooks/{webhook().id}",
        None,
        204,
    ),
    ("webhooks.WebhookSecretRotation", "POST"): lambda c, s: (
        f"/api/v1/webhooks/{webhook().id}/rotate-secret",
        None,
        200,
    ),
    ("webhooks.WebhookPing", "POST"): lambda c, s: (
        f"/api/v1/webhooks/{webhook().id}/ping",
        None,
        202,
    ),
    ("webhooks.WebhookDeliveryReplay", "POST"): lambda c, s: (
        "/api/v1/webhooks/{}/deliveries/{}/replay".format(*failed_delivery()),
        None,
        202,
    ),
    ("webhooks.WebhookReplay", "POST"): lambda c, s: (
        f"/api/v1/webhooks/{webhook().id}/replay",
        {"since": "2020-01-01T00:00:00Z"},
        202,
    ),
    ("users.Users", "POST"): lambda c, s: (
        "/api/v1/users",
        {
            "email": "new@example.com",
            "password": "long enough password",
            "display_name": "New",
            "role": "author",
        },
        201,
    ),
    ("users.UserById", "PATCH"): lambda c, s: (
        f"/api/v1/users/{other_user().id}",
        {"role": "editor"},
        200,
    ),
    ("tokens.ApiTokens", "POST"): lambda c, s: (
        "/api/v1/tokens",
        {"name": "bot", "role": "editor"},
        201,
    ),
    ("tokens.ApiTokenById", "DELETE"): lambda c, s: (f"/api/v1/tokens/{api_token().id}", None, 204),
    ("auth.Logout", "POST"): lambda c, s: (
        "/api/v1/auth/logout",
        None,
        400 if c.user is None else 204,
    ),
    ("auth.Password", "POST"): lambda c, s: (
        "/api/v1/auth/password",
        {"current_password": FAST_PASSWORD, "new_password": "a brand new password"},
        400 if c.user is None else 204,
    ),
}
RECIPES |= {
    ("articles.Trash", "GET"): lambda c, s: ("/api/v1/articles/trash", None, 200),
    ("articles.ArticleRevisions", "GET"): lambda c, s: (
        f"/api/v1/articles/{article_for(c, s).id}/revisions",
        None,
        200,
    ),
    ("articles.ArticleRevisionByNumber", "GET"): lambda c, s: (
        f"/api/v1/articles/{article_for(c, s).id}/revisions/1",
        None,
        200,
    ),
    ("articles.ArticleRevisionDiff", "GET"): lambda c, s: (
        f"/api/v1/articles/{article_for(c, s).id}/revisions/1/diff/1",
        None,
        200,
    ),
    ("images.Images", "GET"): lambda c, s: ("/api/v1/images", None, 200),
    ("images.ImageById", "GET"): lambda c, s: (f"/api/v1/images/{ImageFactory().id}", None, 200),
    ("feeds.Feeds", "GET"): lambda c, s: ("/api/v1/feeds", None, 200),
    ("feeds.FeedById", "GET"): lambda c, s: (f"/api/v1/feeds/{feed().id}", None, 200),
    ("auth.Me", "GET"): lambda c, s: ("/api/v1/auth/me", None, 200),
    ("users.Users", "GET"): lambda c, s: ("/api/v1/users", None, 200),
    ("users.UserById", "GET"): lambda c, s: (f"/api/v1/users/{other_user().id}", None, 200),
    ("tokens.ApiTokens", "GET"): lambda c, s: ("/api/v1/tokens", None, 200),
    ("tokens.ApiTokenById", "GET"): lambda c, s: (f"/api/v1/tokens/{api_token().id}", None, 200),
    ("jobs.Jobs", "GET"): lambda c, s: ("/api/v1/jobs", None, 200),
    ("jobs.JobById", "GET"): lambda c, s: (f"/api/v1/jobs/{failed_job().id}", None, 200),
    ("audit.AuditLog", "GET"): lambda c, s: ("/api/v1/audit", None, 200),
    ("webhooks.Webhooks", "GET"): lambda c, s: ("/api/v1/webhooks", None, 200),
    ("webhooks.WebhookById", "GET"): lambda c, s: (f"/api/v1/webhooks/{webhook().id}", None, 200),
    ("webhooks.WebhookDeliveries", "GET"): lambda c, s: (
        f"/api/v1/webhooks/{webhook().id}/deliveries",
        None,
        200,
    ),
}
CALLERS = ["anonymous", "contributor", "author", "editor", "admin", "token:editor"]


def expected_status(rule: Rule, caller: Caller, scope: str, success: int) -> int:
    if caller.role is None:
        return 401
    assert rule.role is not None
    if RANKS[caller.role] < RANKS[rule.role]:
        return 403
    if rule.own and RANKS[caller.role] < RANKS[Role.EDITOR]:
        if scope == "other_draft":
            return 404  # not even visible to them
        if scope == "other_published":
            return 403
    return success


def test_every_guarded_route_declares_a_rule_and_has_a_recipe() -> None:
    undeclared = [op for op, rule in OPERATIONS.items() if rule is None]
    assert undeclared == [], "declare who may call these (Blueprint.requires)"
    self_authenticating = {op for op, rule in OPERATIONS.items() if rule and rule.role is None}
    assert self_authenticating == {
        ("auth.Login", "POST"),
        ("auth.Refresh", "POST"),
        ("websub.WebSubCallback", "POST"),  # the push's signature is its credential
    }
    missing = set(OPERATIONS) - set(RECIPES) - self_authenticating
    assert missing == set(), "add a recipe for these operations to the matrix"


CASES = [
    pytest.param(op, kind, scope, id=f"{op[1]} {op[0]} as {kind} on {scope}")
    for op, rule in sorted(OPERATIONS.items())
    if rule is not None and rule.role is not None
    for kind in CALLERS
    for scope in (
        ("own", "other_draft", "other_published")
        if rule.own and kind in ("contributor", "author")
        else ("any",)
    )
]


@pytest.mark.parametrize(("operation", "kind", "scope"), CASES)
def test_permission_matrix(
    client: FlaskClient,
    fast_password_hash: str,
    operation: tuple[str, str],
    kind: str,
    scope: str,
) -> None:
    rule = OPERATIONS[operation]
    assert rule is not None
    caller = make_caller(kind, fast_password_hash)
    url, body, success = RECIPES[operation](caller, "other_published" if scope == "any" else scope)
    # If-Match: * passes the precondition whatever the version: this test is about who
    # may write; lost-update protection has tests of its own.
    headers = {**caller.headers, "If-Match": "*"}
    if isinstance(body, Raw):
        response = client.open(
            url,
            method=operation[1],
            data=body.data if isinstance(body.data, str) else body.data(),
            content_type=body.content_type,
            headers=headers,
        )
    else:
        response = client.open(url, method=operation[1], json=body, headers=headers)

    assert response.status_code == expected_status(rule, caller, scope, success), response.json
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
