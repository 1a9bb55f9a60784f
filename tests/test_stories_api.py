"""The stories API: lists with filters and cursors, one story, related articles, and
editors' merge, split and pin surviving re-clustering."""

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from cms.demo import load_demo
from cms.extensions import db
from cms.models import StoryMember, StoryRole
from cms.services.stories import rebuild
from tests.factories import PublicationFactory
from tests.test_stories_clustering import MEMO_DAY, chip_article, clustered


def two_events() -> dict[str, int]:
    """Two stories: Intel's Ohio delay (3 articles, 2 publications) and a launch."""
    a, b = PublicationFactory(credibility=4), PublicationFactory(credibility=2)
    ids = {
        "ohio1": chip_article("Intel delays Ohio chip plant to 2031", MEMO_DAY, publication=a),
        "ohio2": chip_article(
            "Intel pushes Ohio chip plant back to 2031",
            MEMO_DAY + timedelta(hours=5),
            publication=b,
        ),
        "ohio3": chip_article(
            "Why Intel delayed its Ohio chip plant", MEMO_DAY + timedelta(hours=9), publication=b
        ),
        "rocket": chip_article(
            "SpaceX launches Starship on ninth test flight", MEMO_DAY + timedelta(hours=2)
        ),
    }
    clustered()
    return {name: article.id for name, article in ids.items()}


def story_id(article_id: int) -> int:
    member = db.session.get(StoryMember, article_id)
    assert member is not None
    return member.story_id


def test_lists_filter_sort_and_page_by_cursor(app: Flask, client: FlaskClient) -> None:
    ids = two_events()
    listed = client.get("/api/v1/stories?sort=-member_count&page_size=1")
    assert listed.status_code == 200
    first = listed.json["data"][0]
    assert first["id"] == story_id(ids["ohio1"])
    assert first["member_count"] == 3
    assert first["single_source"] is False
    assert sorted(c["count"] for c in first["spread"]["publications"]) == [1, 2]
    cursor = listed.json["meta"]["next_cursor"]
    after = client.get(f"/api/v1/stories?sort=-member_count&page_size=1&cursor={cursor}")
    assert [s["id"] for s in after.json["data"]] == [story_id(ids["rocket"])]
    sourced = client.get("/api/v1/stories?min_sources=2").json["data"]
    assert [s["id"] for s in sourced] == [story_id(ids["ohio1"])]
    assert client.get("/api/v1/stories?min_credibility=4").json["meta"]["total"] == 1
    assert client.get("/api/v1/stories?cursor=bogus").status_code == 400
    assert client.get("/api/v1/stories?min_sources=0").status_code == 422


def test_one_story_has_its_timeline_and_spread(app: Flask, client: FlaskClient) -> None:
    ids = two_events()
    story = client.get(f"/api/v1/stories/{story_id(ids['ohio1'])}").json
    assert [m["article"]["id"] for m in story["members"]] == [
        ids["ohio1"],
        ids["ohio2"],
        ids["ohio3"],
    ]
    assert story["lead"]["id"] == ids["ohio1"]  # credibility 4 beats 2
    assert {c["level"]: c["count"] for c in story["spread"]["credibility"]} == {4: 1, 2: 2}
    assert client.get("/api/v1/stories/999999").status_code == 404


def test_related_puts_the_story_first(app: Flask, client: FlaskClient) -> None:
    ids = two_events()
    related = client.get(f"/api/v1/articles/{ids['ohio2']}/related").json["data"]
    same = [r["id"] for r in related if r["relation"] == "same_story"]
    assert sorted(same) == sorted([ids["ohio1"], ids["ohio3"]])
    assert related[0]["relation"] == "same_story"


def test_merge_split_and_pin_survive_reclustering(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    ids = two_events()
    ohio, rocket = story_id(ids["ohio1"]), story_id(ids["rocket"])
    merged = client.post(f"/api/v1/stories/{ohio}/merge", json={"story_id": rocket}, headers=auth)
    assert merged.status_code == 200
    assert merged.json["member_count"] == 4
    split = client.post(
        f"/api/v1/stories/{ohio}/split", json={"article_ids": [ids["ohio3"]]}, headers=auth
    )
    assert split.status_code == 201
    pinned = client.post(
        f"/api/v1/stories/{ohio}/pin-lead", json={"article_id": ids["ohio2"]}, headers=auth
    )
    assert pinned.json["lead"]["id"] == ids["ohio2"]
    db.session.commit()
    rebuild(db.session)
    db.session.commit()
    assert story_id(ids["rocket"]) == ohio
    assert story_id(ids["ohio3"]) == split.json["id"]
    assert client.get(f"/api/v1/stories/{ohio}").json["lead"]["id"] == ids["ohio2"]
    refused = client.post(f"/api/v1/stories/{ohio}/merge", json={"story_id": ohio}, headers=auth)
    assert refused.status_code == 409


def test_demo_samples_are_one_story_through_the_api(app: Flask, client: FlaskClient) -> None:
    load_demo(db.session)
    db.session.commit()
    clustered()
    stories = client.get("/api/v1/stories?min_sources=2").json["data"]
    assert len(stories) == 1
    names = {c["publication"]["name"] for c in stories[0]["spread"]["publications"]}
    assert names == {"Engadget", "TechCrunch"}
    assert stories[0]["lead"]["publication"]["name"] == "TechCrunch"


def test_articles_show_their_story_and_lists_can_collapse_copies(
    app: Flask, client: FlaskClient
) -> None:
    ids = two_events()
    article = client.get(f"/api/v1/articles/{ids['ohio2']}").json
    assert article["story"] == {"id": story_id(ids["ohio1"]), "role": "coverage"}
    included = client.get(f"/api/v1/articles/{ids['ohio2']}?include=story").json["story"]
    assert included["member_count"] == 3
    assert included["lead_article_id"] == ids["ohio1"]
    db.session.get(StoryMember, ids["ohio3"]).role = StoryRole.DUPLICATE  # type: ignore[union-attr]
    db.session.commit()
    listed = client.get("/api/v1/articles?collapse_duplicates=true").json["data"]
    assert ids["ohio3"] not in [a["id"] for a in listed]
    assert len(listed) == 3


def test_an_included_story_is_revalidated_with_the_story(app: Flask, client: FlaskClient) -> None:
    """The story moves with other articles (a new member, a new count) without this one
    changing: its ETag with include=story must move too, or a CDN keeps the old story."""
    ids = two_events()
    url = f"/api/v1/articles/{ids['ohio1']}?include=story"
    first = client.get(url)
    assert first.json["story"]["member_count"] == 3
    etag = first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

    chip_article("Intel Ohio chip plant delay hits suppliers", MEMO_DAY + timedelta(hours=12))
    clustered()
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert again.json["story"]["member_count"] == 4
