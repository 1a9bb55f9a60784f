"""The poll cycle (cms.services.poll_cycle, run by the feeds.poll periodic task) on
loopback feed servers: its bounds, and the schedule each fetch leaves on its feed.
Clocks move with time-machine; only the servers' own delays take real time."""

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cms.extensions import db
from cms.models import Article, Feed, utcnow
from cms.services.feed_schedule import source_interval
from cms.services.polling import poll_feeds
from tests.feed_server import FeedServer
from tests.test_feeds import item, rss


@pytest.fixture
def servers(app: Flask) -> Iterator[list[FeedServer]]:
    """Three loopback feed servers (three hosts, as far as the per-host limit goes)."""
    started = [FeedServer() for _ in range(3)]
    app.config["FETCH_ALLOW"] = ["127.0.0.1"]
    yield started
    app.config["FETCH_ALLOW"] = []
    for server in started:
        server.close()


@pytest.fixture
def limits(app: Flask) -> Iterator[dict[str, float]]:
    """Set POLL_* and FETCH_TIMEOUT for one test."""
    names = ("POLL_WORKERS", "POLL_PER_HOST", "POLL_BATCH", "FETCH_TIMEOUT")
    saved = {name: app.config[name] for name in names}
    yield app.config  # type: ignore[misc]
    app.config.update(saved)


def feeds_at(*urls: str, interval: int = 60) -> list[int]:
    feeds = [Feed(url=url, interval_minutes=interval) for url in urls]
    db.session.add_all(feeds)
    db.session.commit()
    return [feed.id for feed in feeds]


def feed(feed_id: int) -> Feed:
    db.session.rollback()  # see what the cycle committed
    found = db.session.get(Feed, feed_id)
    assert found is not None
    return found


def test_fetches_in_flight_stay_within_the_pool(
    servers: list[FeedServer], limits: dict[str, float]
) -> None:
    limits.update(POLL_WORKERS=3, POLL_PER_HOST=10)
    server = servers[0]
    feeds_at(*(server.serve(f"/f{n}", rss(item(n)), delay=0.2) for n in range(9)))

    poll_feeds()

    assert server.peak == 3
    assert db.session.query(Article).count() == 9


def test_each_host_gets_at_most_its_share(
    servers: list[FeedServer], limits: dict[str, float]
) -> None:
    limits.update(POLL_WORKERS=10, POLL_PER_HOST=2)
    urls = [s.serve(f"/f{n}", rss(item(n + 10 * i)), delay=0.2) for i, s in enumerate(servers)
            for n in range(5)]  # fmt: skip
    feeds_at(*urls)

    poll_feeds()

    assert [s.peak for s in servers] == [2, 2, 2]
    # The hosts were served side by side (their answers overlapped), not one by one.
    first, *others = servers
    assert any(
        start < other_end and other_start < end
        for start, end in first.spans
        for other in others
        for other_start, other_end in other.spans
    )
    assert db.session.query(Article).count() == 15


def test_a_slow_feed_does_not_delay_the_others(
    servers: list[FeedServer], limits: dict[str, float]
) -> None:
    limits.update(POLL_WORKERS=4, POLL_PER_HOST=4, POLL_BATCH=1, FETCH_TIMEOUT=1.5)
    slow, broken, private = servers
    [stuck] = feeds_at(slow.serve("/stuck", rss(item(0)), delay=5))
    fast = feeds_at(*(broken.serve(f"/f{n}", rss(item(n))) for n in range(1, 9)))
    feeds_at(broken.serve("/broken", "not a feed"))
    feeds_at(broken.serve("/moved", status=302, headers={"Location": "http://10.0.0.1/feed"}))

    started = time.monotonic()
    poll_feeds()

    # One deadline (1.5 s), not one per feed, nor the slow answer's 5 s; generous for CI.
    assert time.monotonic() - started < 4.5
    assert "in time" in (feed(stuck).last_error or "")
    assert all(feed(n).last_new_items == 1 for n in fast)
    # Each stored as it came (a batch of one), long before the slow one gave up.
    stuck_at = feed(stuck).last_fetched_at
    assert stuck_at is not None
    assert all(
        (feed(n).last_fetched_at or stuck_at) < stuck_at - timedelta(seconds=1) for n in fast
    )
    assert private.requests == []


def test_retry_after_is_honoured(servers: list[FeedServer]) -> None:
    server = servers[0]
    [busy] = feeds_at(
        server.serve("/busy", status=429, headers={"Retry-After": "7200"}), interval=5
    )
    with time_machine.travel(utcnow(), tick=False) as clock:
        later = utcnow() + timedelta(hours=3)
        url = server.serve(
            "/down", status=503, headers={"Retry-After": format_datetime(later, True)}
        )
        [down] = feeds_at(url, interval=5)
        poll_feeds()
        assert feed(busy).next_fetch_at == utcnow() + timedelta(hours=2)
        assert feed(down).next_fetch_at == later.replace(microsecond=0)

        clock.shift(timedelta(minutes=119))
        poll_feeds()
        assert [len(server.hits(p)) for p in ("/busy", "/down")] == [1, 1]
        clock.shift(timedelta(minutes=2))
        poll_feeds()
        assert [len(server.hits(p)) for p in ("/busy", "/down")] == [2, 1]
        clock.shift(timedelta(hours=1))
        poll_feeds()
        assert [len(server.hits(p)) for p in ("/busy", "/down")] == [2, 2]


def test_failing_feeds_back_off_with_jitter(servers: list[FeedServer]) -> None:
    server = servers[0]
    failing = feeds_at(*(server.serve(f"/e{n}", status=500) for n in range(6)), interval=10)
    with time_machine.travel(utcnow(), tick=False) as clock:
        poll_feeds()
        first = [feed(n).next_fetch_at - utcnow() for n in failing]  # type: ignore[operator]
        assert all(timedelta(minutes=10) <= wait <= timedelta(minutes=15) for wait in first)
        assert len(set(first)) == len(first)  # spread, not all at once

        clock.shift(timedelta(minutes=16))
        poll_feeds()
        second = [feed(n).next_fetch_at - utcnow() for n in failing]  # type: ignore[operator]
    assert all(timedelta(minutes=20) <= wait <= timedelta(minutes=30) for wait in second)
    assert {feed(n).consecutive_failures for n in failing} == {2}


def test_the_feeds_own_minimum_interval_is_respected(servers: list[FeedServer]) -> None:
    server = servers[0]
    [slow] = feeds_at(server.serve("/ttl", rss(item(1), extra="<ttl>120</ttl>")), interval=30)
    with time_machine.travel(utcnow(), tick=False) as clock:
        poll_feeds()
        assert feed(slow).min_interval_minutes == 120
        assert feed(slow).next_fetch_at == utcnow() + timedelta(minutes=120)
        clock.shift(timedelta(minutes=31))
        poll_feeds()
        assert len(server.hits("/ttl")) == 1
        clock.shift(timedelta(minutes=90))
        poll_feeds()
    assert len(server.hits("/ttl")) == 2


@pytest.mark.parametrize(
    ("channel", "minutes"),
    [
        ("<ttl>45</ttl>", 45),
        ("<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>", 30),
        ("<sy:updatePeriod>daily</sy:updatePeriod>", 1440),
        ("<sy:updatePeriod>yearly</sy:updatePeriod>", 1440),  # a day at most
        ("<ttl>10</ttl><sy:updatePeriod>hourly</sy:updatePeriod>", 60),  # the longer
        ("<ttl>0</ttl>", None),
        ("", None),
    ],
)
def test_ttl_and_syndication_hints_set_the_minimum(channel: str, minutes: int | None) -> None:
    assert source_interval(rss(item(1), extra=channel).encode()) == minutes


def test_next_fetch_at_is_shown_and_read_only(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    url = server.serve("/rss", rss(item(1)), headers={"Cache-Control": "max-age=7200"})
    created = client.post("/api/v1/feeds", json={"url": url}, headers=admin)
    assert created.json["next_fetch_at"] is None  # at the next cycle
    with time_machine.travel(utcnow(), tick=False):
        poll_feeds()
        shown = client.get(f"/api/v1/feeds/{created.json['id']}", headers=admin).json
        expected = utcnow() + timedelta(hours=2)  # max-age outlasts the hour's interval
    assert datetime.fromisoformat(shown["next_fetch_at"]) == expected
    refused = client.post(
        "/api/v1/feeds", json={"url": url + "?2", "next_fetch_at": None}, headers=admin
    )
    assert refused.status_code == 422
    assert "next_fetch_at" in refused.json["errors"]


def test_no_duplicates_when_polled_again(servers: list[FeedServer]) -> None:
    server = servers[0]
    feeds_at(*(server.serve(f"/f{n}", rss(item(1), item(n + 2))) for n in range(4)))
    poll_feeds()
    db.session.execute(Feed.__table__.update().values(next_fetch_at=None))
    db.session.commit()
    poll_feeds()
    links = db.session.scalars(select(Article.source_url)).all()
    assert len(links) == len(set(links)) == 5


def dated(n: int, published: datetime) -> str:
    return (
        f"<item><title>Story {n}</title><link>https://fresh.example.com/{n}</link>"
        f"<pubDate>{format_datetime(published, True)}</pubDate></item>"
    )


def test_freshness_is_measured_and_the_slowest_feeds_come_first(
    client: FlaskClient, admin: dict[str, str], servers: list[FeedServer]
) -> None:
    server = servers[0]
    with time_machine.travel(utcnow().replace(microsecond=0), tick=False) as clock:
        now = utcnow()  # a whole second, as feeds date items
        old = now - timedelta(days=3)
        brisk, late, quiet = feeds_at(
            server.serve("/brisk", rss(dated(1, old))),
            server.serve("/late", rss(dated(2, old))),
            server.serve("/quiet", rss(dated(3, old))),
        )
        poll_feeds()  # the first fetch is a backfill: not measured
        assert feed(brisk).freshness_seconds is None

        clock.shift(timedelta(hours=1))
        now = utcnow()
        server.serve("/brisk", rss(dated(10, now - timedelta(minutes=2)), dated(1, old)))
        server.serve("/late", rss(dated(20, now - timedelta(hours=3)), dated(2, old)))
        poll_feeds()

        assert feed(brisk).freshness_seconds == 120
        assert feed(late).freshness_seconds == 3 * 3600
        assert (feed(late).freshness_items, feed(quiet).freshness_items) == (1, 0)
    listed = client.get("/api/v1/feeds?sort=freshness", headers=admin).json["data"]
    assert [f["id"] for f in listed] == [late, brisk, quiet]
    assert listed[0]["freshness_seconds"] == 10800
    refused = client.get("/api/v1/feeds?sort=nonsense", headers=admin)
    assert refused.status_code == 422
