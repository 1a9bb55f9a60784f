"""Issue 14: a scheduled article is public exactly at its time, and an unpublish_at takes
it down exactly at its time: in lists, by slug, in search and in counts, with the list's
ETag changing at that instant and no public max-age reaching past it. Whether the
scheduler ran or not: these tests never run it, they only move the clock."""

from datetime import timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from cms.extensions import db
from cms.models import ContentEvent, utcnow

LIST = "/api/v1/articles?count=true"
SEARCH = "/api/v1/articles?q=zebra&count=true"


def public(client: FlaskClient, url: str, etag: str | None = None) -> Any:
    """An anonymous GET, revalidating when given an ETag (as a CDN does)."""
    headers = {"If-None-Match": etag} if etag else {}
    return client.get(url, headers=headers)


def old(client: FlaskClient, admin: dict[str, str]) -> None:
    """An article published yesterday, through the API (so it is indexed for search)."""
    yesterday = (utcnow() - timedelta(days=1)).isoformat()
    created = client.post(
        "/api/v1/articles",
        json={"title": "Old zebra", "status": "published", "published_at": yesterday},
        headers=admin,
    )
    assert created.status_code == 201, created.json


def slug_url(client: FlaskClient, admin: dict[str, str], title: str, **fields: Any) -> str:
    """Create an article through the API; the URL of it by slug."""
    created = client.post("/api/v1/articles", json={"title": title, **fields}, headers=admin)
    assert created.status_code == 201, created.json
    return f"/api/v1/articles/slug/{created.json['slug']}"


def titles(response: Any) -> list[str]:
    return [article["title"] for article in response.json["data"]]


def max_ages(response: Any) -> tuple[int | None, int | None]:
    return response.cache_control.max_age, response.cache_control.s_maxage


def test_a_scheduled_article_appears_exactly_at_its_time(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        old(client, admin)
        in_30s = (utcnow() + timedelta(seconds=30)).isoformat()
        by_slug = slug_url(
            client, admin, "Scheduled zebra", status="scheduled", published_at=in_30s
        )

        before = public(client, LIST)
        assert titles(before) == ["Old zebra"]
        assert before.json["meta"]["total"] == 1
        assert max_ages(before) == (30, 30)  # not a second past the publish
        assert public(client, by_slug).status_code == 404
        assert titles(public(client, SEARCH)) == ["Old zebra"]

        clock.shift(timedelta(seconds=29))
        assert public(client, LIST, before.headers["ETag"]).status_code == 304
        assert max_ages(public(client, LIST)) == (1, 1)
        assert public(client, by_slug).status_code == 404

        clock.shift(timedelta(seconds=1))  # its time, to the second
        assert public(client, by_slug).status_code == 200  # asked for first, alone
        after = public(client, LIST, before.headers["ETag"])
        assert after.status_code == 200
        assert after.headers["ETag"] != before.headers["ETag"]
        assert titles(after) == ["Scheduled zebra", "Old zebra"]
        assert after.json["meta"]["total"] == 2
        searched = public(client, SEARCH)
        assert titles(searched) == ["Scheduled zebra", "Old zebra"]
        assert searched.json["meta"]["total"] == 2
        assert max_ages(after) == (60, 300)  # nothing else is coming: the configured ages
    # The read published it (no scheduler ran), as the system: not as whoever read first.
    [flip] = db.session.scalars(
        select(ContentEvent).where(ContentEvent.type == "article.published")
    ).all()
    assert (flip.changed, flip.actor) == (["status"], None)


def test_unpublish_at_takes_it_down_exactly_at_its_time(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        old(client, admin)
        in_20s = (utcnow() + timedelta(seconds=20)).isoformat()
        by_slug = slug_url(
            client, admin, "Embargoed zebra", status="published", unpublish_at=in_20s
        )

        listed = public(client, LIST)
        assert titles(listed) == ["Embargoed zebra", "Old zebra"]
        assert max_ages(listed) == (20, 20)
        item = public(client, by_slug)
        assert item.status_code == 200
        assert max_ages(item) == (20, 20)  # the item too: its own takedown bounds it

        clock.shift(timedelta(seconds=20))
        gone = public(client, LIST, listed.headers["ETag"])
        assert gone.status_code == 200
        assert titles(gone) == ["Old zebra"]
        assert gone.json["meta"]["total"] == 1
        assert titles(public(client, SEARCH)) == ["Old zebra"]
        # A CDN revalidating the item gets the news, not a 304.
        assert public(client, by_slug, item.headers["ETag"]).status_code == 404
        assert public(client, by_slug).status_code == 404
        # Its editors still see it.
        assert client.get(by_slug, headers=admin).status_code == 200
