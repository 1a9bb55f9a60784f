"""The site's front-matter posts: what is imported comes back out the same."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import frontmatter
import pytest
from flask import Flask
from flask.testing import FlaskClient

from cms.demo import SAMPLE_POST
from cms.extensions import db
from cms.models import Article
from cms.services.errors import InvalidContentError
from cms.services.posts import import_post
from tests.conftest import SHARED_SAMPLES
from tests.factories import ArticleFactory


def sample_text() -> str:
    path = SHARED_SAMPLES / SAMPLE_POST.name
    return (path if path.exists() else SAMPLE_POST).read_text(encoding="utf-8")


def markdown_of(client: FlaskClient, article_id: int, **headers: str) -> str:
    response = client.get(
        f"/api/v1/articles/{article_id}", headers={"Accept": "text/markdown", **headers}
    )
    assert response.status_code == 200
    assert response.mimetype == "text/markdown"
    return response.get_data(as_text=True)


def test_import_export_import_round_trip(client: FlaskClient, auth: dict[str, str]) -> None:
    """Lossless for those who may edit the article (others get its sanitized HTML)."""
    original = frontmatter.loads(sample_text())
    article, _ = import_post(db.session, sample_text())
    db.session.commit()

    exported = markdown_of(client, article.id, **auth)
    again = frontmatter.loads(exported)
    assert again.metadata == original.metadata  # same keys, values and order
    assert list(again.metadata) == list(original.metadata)
    assert again.content == original.content  # the body as written, not as sanitized

    reimported, created = import_post(db.session, exported)
    db.session.commit()
    assert (reimported.id, created) == (article.id, False)
    assert db.session.query(Article).count() == 1
    assert markdown_of(client, article.id, **auth) == exported


def test_markdown_has_its_own_validator(client: FlaskClient) -> None:
    article = ArticleFactory()
    url = f"/api/v1/articles/{article.id}"
    json_etag = client.get(url).headers["ETag"]
    markdown = client.get(url, headers={"Accept": "text/markdown"})
    assert markdown.headers["ETag"] != json_etag
    assert "Accept" in markdown.vary
    same = client.get(
        url, headers={"Accept": "text/markdown", "If-None-Match": markdown.headers["ETag"]}
    )
    assert same.status_code == 304
    crossed = client.get(url, headers={"Accept": "text/markdown", "If-None-Match": json_etag})
    assert crossed.status_code == 200
    # Media types are case-insensitive (RFC 9110): however it is spelled, the same post.
    spelled = client.get(url, headers={"Accept": "Text/Markdown", "If-None-Match": json_etag})
    assert (spelled.status_code, spelled.mimetype) == (200, "text/markdown")


def test_export_command_writes_every_article(app: Flask, tmp_path: Path) -> None:
    import_post(db.session, sample_text())
    ArticleFactory(slug="second", title="Second", body_source="<p>Two</p>")
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["cms", "export", str(tmp_path / "out")])

    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["is-mark-zuckerberg-flip-flopping-on-open-source-ai.md", "second.md"]
    second = frontmatter.loads((tmp_path / "out" / "second.md").read_text())
    assert second["title"] == "Second"
    assert second.content == "<p>Two</p>"


def test_unsafe_yaml_is_refused_not_run(app: Flask) -> None:
    with pytest.raises(InvalidContentError) as refused:
        import_post(
            db.session,
            '---\ntitle: !!python/object/apply:os.system ["id"]\ndate: 2025-01-01\n---\nbody',
        )
    assert list(refused.value.errors) == ["front_matter"]


def test_import_command_reports_bad_files_and_imports_the_rest(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text(sample_text(), encoding="utf-8")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "unsafe.md").write_text(
        '---\ntitle: !!python/object/apply:os.system ["touch pwned"]\ndate: 2025-01-01\n---\nx'
    )
    (tmp_path / "no-title.md").write_text("---\ndate: '2025-01-01'\n---\nbody")
    (tmp_path / "bad-date.md").write_text("---\ntitle: Someday\ndate: someday\n---\nbody")
    runner = app.test_cli_runner()

    result = runner.invoke(args=["cms", "import", str(tmp_path)])

    assert result.exit_code == 1
    assert "Imported 1 of 4 files, 3 failed." in result.output
    assert "unsafe.md: front_matter: Not safe, valid YAML" in result.output
    assert "no-title.md: title: Missing front matter key." in result.output
    assert "bad-date.md: date: Not a valid datetime." in result.output
    assert not (Path.cwd() / "pwned").exists()
    assert db.session.query(Article).count() == 1

    again = runner.invoke(args=["cms", "import", str(tmp_path / "good.md")])
    assert again.exit_code == 0, again.output
    assert db.session.query(Article).count() == 1  # re-importing is idempotent


def test_posts_without_source_dedup_by_slug(app: Flask) -> None:
    text = "---\ntitle: Local news\ndate: '2025-02-01'\n---\n<p>One</p>"
    first, _ = import_post(db.session, text)
    second, _ = import_post(db.session, text.replace("One", "Two"))
    db.session.commit()
    assert first.id == second.id
    assert second.body_source == "<p>Two</p>"


def import_request(client: FlaskClient, text: str | bytes, **headers: str) -> Any:
    return client.post(
        "/api/v1/articles/import",
        data=text,
        headers={"Content-Type": "text/markdown; charset=utf-8", **headers},
    )


def test_import_endpoint_creates_then_updates(client: FlaskClient, auth: dict[str, str]) -> None:
    created = import_request(client, sample_text(), **auth)
    assert created.status_code == 201, created.json
    assert created.headers["Location"].endswith(f"/api/v1/articles/{created.json['id']}")
    original = frontmatter.loads(sample_text())
    assert created.json["title"] == original.metadata["title"]
    assert created.json["source_url"] == original.metadata["source"]

    again = import_request(client, sample_text(), **auth)
    assert again.status_code == 200
    assert again.json["id"] == created.json["id"]
    assert db.session.query(Article).count() == 1
    exported = markdown_of(client, created.json["id"])
    assert frontmatter.loads(exported).metadata == original.metadata


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (
            '---\ntitle: !!python/object/apply:os.system ["touch pwned"]\ndate: 2025-01-01\n---\nx',
            "front_matter",
        ),
        ("---\ndate: '2025-01-01'\n---\nbody", "title"),
        ("---\ntitle: Someday\ndate: someday\n---\nbody", "date"),
        (b"---\ntitle: Latin-1 caf\xe9\ndate: 2025-01-01\n---\nx", "body"),
    ],
)
def test_import_endpoint_refuses_bad_posts(
    client: FlaskClient,
    auth: dict[str, str],
    row_counts: Callable[[], dict[str, int]],
    text: str | bytes,
    field: str,
) -> None:
    before = row_counts()
    response = import_request(client, text, **auth)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]
    assert row_counts() == before
    assert not (Path.cwd() / "pwned").exists()


def test_import_endpoint_takes_markdown_or_its_json_form(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    response = client.post("/api/v1/articles/import", json={"title": "x"}, headers=auth)
    assert (response.status_code, list(response.json["errors"])) == (422, ["markdown", "title"])
    response = client.post("/api/v1/articles/import", data={"title": "x"}, headers=auth)
    assert response.status_code == 415
    assert response.json["code"] == "unsupported_media_type"
