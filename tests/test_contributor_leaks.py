"""What a contributor or author can learn or block through article writes (issue 10,
finding 11), and the editorial signals only editors set (property-level authorization).
"""

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from cms.auth.permissions import EDITOR_ONLY_ARTICLE_FIELDS
from cms.extensions import db
from cms.models import ArticleStatus, Feed, Role
from cms.services.feeds import parse_feed
from cms.services.ingest import store_entries
from tests.conftest import FAST_PASSWORD, edit
from tests.factories import ArticleFactory, AuthorFactory, PublicationFactory

BELOW_EDITOR = [Role.CONTRIBUTOR, Role.AUTHOR]
STORY = "https://news.example.com/story/7"
Login = Callable[[Role], dict[str, str]]


@pytest.fixture
def login(client: FlaskClient, make_user: Callable[..., Any]) -> Login:
    def as_role(role: Role) -> dict[str, str]:
        user = make_user(role, FAST_PASSWORD)
        body = client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": FAST_PASSWORD}
        )
        return {"Authorization": f"Bearer {body.json['access_token']}"}

    return as_role


def post(client: FlaskClient, headers: dict[str, str], **payload: Any) -> Any:
    return client.post("/api/v1/articles", json={"title": "Mine", **payload}, headers=headers)


def own_draft(client: FlaskClient, headers: dict[str, str], **payload: Any) -> dict[str, Any]:
    response = post(client, headers, **payload)
    assert response.status_code == 201, response.json
    return dict(response.json)


def hidden_draft(**fields: Any) -> Any:
    """Someone else's draft: invisible to contributors and authors."""
    draft = ArticleFactory(status=ArticleStatus.DRAFT, authors=[AuthorFactory()], **fields)
    db.session.commit()
    return draft


def ingest(link: str) -> list[int]:
    """Store a one-item RSS feed through the ingest service; the new article ids."""
    feed = Feed(url="https://news.example.com/rss")
    db.session.add(feed)
    db.session.flush()
    document = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        f"<item><title>Story</title><link>{link}</link><guid>{link}</guid></item>"
        "</channel></rss>"
    )
    created, _seen = store_entries(
        db.session, feed, parse_feed(document.encode(), feed.url).entries
    )
    db.session.commit()
    return created


@pytest.mark.parametrize("role", BELOW_EDITOR)
def test_conflicts_do_not_reveal_hidden_articles(
    client: FlaskClient, login: Login, role: Role, row_counts: Callable[[], dict[str, int]]
) -> None:
    headers = login(role)
    hidden_draft(slug="secret-merger", source_url=STORY, resource_id="0123456789abcdef")
    ArticleFactory(slug="public-story")  # a published, visible article
    db.session.commit()

    # A taken slug, hidden or visible, gets the next free suffix, as a generated one does.
    assert own_draft(client, headers, slug="secret-merger")["slug"] == "secret-merger-2"
    assert own_draft(client, headers, title="Secret merger")["slug"] == "secret-merger-3"
    assert own_draft(client, headers, slug="public-story")["slug"] == "public-story-2"

    # Renaming to a taken slug too; keeping one's own slug is no change.
    mine = own_draft(client, headers, slug="my-notes")
    url = f"/api/v1/articles/{mine['id']}"
    renamed = edit(client, url, json={"slug": "secret-merger"}, headers=headers)
    assert (renamed.status_code, renamed.json["slug"]) == (200, "secret-merger-4")
    kept = edit(client, url, json={"slug": "secret-merger-4", "title": "T"}, headers=headers)
    assert (kept.status_code, kept.json["slug"]) == (200, "secret-merger-4")

    # A source URL another article holds answers exactly as a free one: 403, no 409.
    before = row_counts()
    taken, free = (post(client, headers, source_url=u) for u in (STORY, STORY + "-free"))
    assert taken.status_code == free.status_code == 403
    assert taken.json == free.json
    assert row_counts() == before


def test_editors_still_get_conflicts(client: FlaskClient, login: Login) -> None:
    """Editors see every article: a 409 tells them nothing new, and keeps their URL."""
    headers = login(Role.EDITOR)
    hidden_draft(slug="secret-merger")
    response = post(client, headers, slug="secret-merger")
    assert response.status_code == 409
    assert (response.json["code"], list(response.json["errors"])) == ("conflict", ["slug"])


@pytest.mark.parametrize("role", BELOW_EDITOR)
def test_only_editors_claim_source_urls(
    client: FlaskClient, login: Login, role: Role, row_counts: Callable[[], dict[str, int]]
) -> None:
    headers = login(role)
    mine = own_draft(client, headers)
    url = f"/api/v1/articles/{mine['id']}"
    before = row_counts()

    created = post(client, headers, source_url=STORY)
    changed = edit(client, url, json={"source_url": STORY}, headers=headers)
    for response in (created, changed):
        assert response.status_code == 403
        assert response.json["code"] == "forbidden"
        assert list(response.json["errors"]) == ["source_url"]
    assert row_counts() == before
    # ...so the feed item the draft would have claimed still arrives.
    assert len(ingest(STORY)) == 1


def test_an_editor_claim_is_the_dedup_key(client: FlaskClient, login: Login) -> None:
    editor = login(Role.EDITOR)
    claimed = own_draft(client, editor, source_url=STORY)
    assert claimed["resource_id"] is not None
    assert ingest(STORY) == []  # the same story, already on the site


EDITORIAL_SIGNALS = {"importance": 100, "credibility_override": 5, "relevance": "Vital."}


@pytest.mark.parametrize("role", BELOW_EDITOR)
def test_editorial_signals_are_editor_only(
    client: FlaskClient, login: Login, role: Role, row_counts: Callable[[], dict[str, int]]
) -> None:
    headers = login(role)
    signals = {**EDITORIAL_SIGNALS, "publication_id": PublicationFactory(credibility=5).id}
    mine = own_draft(client, headers, content_type="opinion")  # describing one's piece: fine
    url = f"/api/v1/articles/{mine['id']}"
    before = row_counts()

    created = post(client, headers, **signals)
    changed = edit(client, url, json=signals, headers=headers)
    for response in (created, changed):
        assert response.status_code == 403
        assert set(response.json["errors"]) == set(signals)
    for name, value in signals.items():  # each one alone, too
        assert edit(client, url, json={name: value}, headers=headers).status_code == 403
    assert row_counts() == before
    assert client.get(url, headers=headers).json["importance"] is None

    # Sending back the values an editor set is no change: a form may round-trip them.
    editor = login(Role.EDITOR)
    assert edit(client, url, json=signals, headers=editor).status_code == 200
    resent = edit(client, url, json={**signals, "title": "Retitled"}, headers=headers)
    assert (resent.status_code, resent.json["importance"]) == (200, 100)
    assert edit(client, url, json={"importance": 1}, headers=headers).status_code == 403


def test_spec_marks_exactly_the_editor_only_fields(client: FlaskClient) -> None:
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    for name in ("ArticleWrite", "ArticleWritePatch"):
        marked = {
            field
            for field, spec in schemas[name]["properties"].items()
            if "Editors only" in spec.get("description", "")
        }
        assert marked == EDITOR_ONLY_ARTICLE_FIELDS
