"""Issue 10, findings 4 and 5, and the markdown export decision.

An imported post is validated exactly as POST /articles validates a request: the YAML
can say no more than JSON could, and every key is judged by the API's schemas. The
as-written body is exported only to those who may edit the article.
"""

from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cms.auth.tokens import create_api_token, issue_token_pair
from cms.extensions import db
from cms.models import Role, User
from cms.services.html import sanitize_html
from tests.factories import ArticleFactory, AuthorFactory

VALID = {"title": "A fine title", "date": "2025-07-30"}

# A 367-byte front matter of this shape expanded to a 14 MB title.
LAUGHS = "\n".join(
    [
        "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
        *(f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in pairwise("abcdefgh")),
    ]
)


def post(front_matter: str, body: str = "<p>Body</p>") -> str:
    return f"---\n{front_matter}\n---\n{body}"


def valid_post(**lines: str) -> str:
    """The valid post with some keys given as raw YAML (a key set to "" is left out)."""
    fields = {**VALID, **lines}
    return post("\n".join(f"{key}: {value}" for key, value in fields.items() if value != ""))


@pytest.fixture
def auth(app: Flask) -> dict[str, str]:
    """An editor's API token: machines import posts (and a login per case is slow)."""
    _, secret = create_api_token(
        db.session, name="importer", role=Role.EDITOR, expires_at=None, created_by=None
    )
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def import_request(client: FlaskClient, text: str, auth: dict[str, str]) -> Any:
    return client.post(
        "/api/v1/articles/import",
        data=text.encode(),
        headers={"Content-Type": "text/markdown; charset=utf-8", **auth},
    )


def assert_refused(response: Any, key: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "validation_error"
    fields = {name.split(".")[0] for name in response.json["errors"]}  # `tags.0`: an item
    assert key in fields, response.json


def import_files(app: Flask, tmp_path: Path, texts: dict[str, str]) -> Any:
    for name, text in texts.items():
        (tmp_path / f"{name}.md").write_text(text, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["cms", "import", str(tmp_path)])


# --- Finding 4: the YAML itself ------------------------------------------------------

ALIASES = {
    "nested anchors": post(f"{LAUGHS}\ntitle: *h\ndate: 2025-01-01"),
    "one alias": post("t: &t A title\ntitle: *t\ndate: 2025-01-01"),
    "merge key": post("base: &base {title: A title}\n<<: *base\ndate: 2025-01-01"),
    "alias as a key": post("k: &k title\n*k : A title\ndate: 2025-01-01"),
}


@pytest.mark.parametrize("text", ALIASES.values(), ids=ALIASES.keys())
def test_import_refuses_yaml_aliases(
    client: FlaskClient,
    auth: dict[str, str],
    row_counts: Callable[[], dict[str, int]],
    text: str,
) -> None:
    before = row_counts()
    response = import_request(client, text, auth)
    assert_refused(response, "front_matter")
    assert "aliases" in response.json["errors"]["front_matter"][0]
    assert row_counts() == before


NOT_PLAIN_DATA = {
    "deep nesting": valid_post(excerpt="[" * 5000 + "]" * 5000),
    "binary": valid_post(title="!!binary aGVsbG8="),
    "set": valid_post(tags="!!set {a, b}"),
    "explicit timestamp": valid_post(date="!!timestamp 2025-02-30"),
    "4301-digit number": valid_post(title="9" * 4301),
    "oversized": valid_post(excerpt="x" * 70_000),
    "python object": valid_post(title='!!python/object/apply:os.system ["id"]'),
    "a list, not keys": post("- title\n- date"),
    "no front matter": "<p>Just a body</p>",
    "unclosed": "---\ntitle: A title\ndate: 2025-01-01\n",
}


@pytest.mark.parametrize("text", NOT_PLAIN_DATA.values(), ids=NOT_PLAIN_DATA.keys())
def test_import_reads_front_matter_as_plain_data_only(
    client: FlaskClient,
    auth: dict[str, str],
    row_counts: Callable[[], dict[str, int]],
    text: str,
) -> None:
    """What a JSON body could not say, the front matter cannot either: no recursion,
    no types YAML constructs itself (and could fail on), nothing unbounded."""
    before = row_counts()
    assert_refused(import_request(client, text, auth), "front_matter")
    assert row_counts() == before


def test_import_command_refuses_yaml_aliases_per_file(app: Flask, tmp_path: Path) -> None:
    result = import_files(
        app, tmp_path, {"laughs": ALIASES["nested anchors"], "good": valid_post()}
    )
    assert result.exit_code == 1
    assert "laughs.md: front_matter: Not safe, valid YAML: aliases" in result.output
    assert "Imported 1 of 2 files, 1 failed." in result.output


# --- Finding 5: every field as the API validates it -----------------------------------

# (front-matter key, its raw YAML): each is a 422 from POST /articles (or from the
# author, tag, category or image create operation) for the field it maps to.
HOSTILE = [
    ("title", "x" * 501),
    ("title", "[a, b]"),
    ("title", "1984"),
    ("title", "''"),
    ("title", '"nul \\0 inside"'),
    ("date", "0000-01-01"),
    ("date", "2025-02-30"),
    ("date", "someday"),
    ("date", "20250730"),
    ("date", "[2025-07-30]"),
    ("excerpt", "[a, list]"),
    ("excerpt", "{a: mapping}"),
    ("excerpt", "x" * 5001),
    ("source", "javascript:alert(1)"),
    ("source", "data:text/html,<script>alert(1)</script>"),
    ("source", "12345"),
    ("source", "not a url"),
    ("source", "https://example.com/" + "x" * 2048),
    ("coverImage", "javascript:alert(1)"),
    ("coverImage", "12345"),
    ("coverImage", "[https://i.example/a.png]"),
    ("coverImage", "https://i.example/a.png?w=99999999999999999999"),
    ("coverImage", '"http://[::1/a.png?w=1"'),
    ("author", "42"),
    ("author", "x" * 121),
    ("author", "[Jane Doe, [nested]]"),
    ("author", "{name: Jane}"),
    ("author", "'   '"),
    ("author", "[" + ", ".join(f"Author {n}" for n in range(21)) + "]"),
    ("tags", "[fine, {not: a name}]"),
    ("tags", "[" + ", ".join(f"tag{n}" for n in range(51)) + "]"),
    ("tags", "[" + "y" * 121 + "]"),
    ("tags", "[AI, ai]"),  # one tag twice, as tag_ids [1, 1] would be
    ("category", "[News, Work]"),
    ("category", "3.5"),
    ("category", "x" * 121),
    ("draft", "true"),  # unknown keys are refused, as the API refuses unknown fields
]
HOSTILE_IDS = [f"{key}={value[:24]}" for key, value in HOSTILE]


@pytest.mark.parametrize(("key", "value"), HOSTILE, ids=HOSTILE_IDS)
def test_import_validates_every_field_like_the_api(
    client: FlaskClient,
    auth: dict[str, str],
    row_counts: Callable[[], dict[str, int]],
    key: str,
    value: str,
) -> None:
    before = row_counts()
    assert_refused(import_request(client, valid_post(**{key: value}), auth), key)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("body", "why"), [("x" * 1_000_001, "over the API's length cap"), ("a\x00b", "NUL")]
)
def test_import_validates_the_body_like_the_api(
    client: FlaskClient,
    auth: dict[str, str],
    row_counts: Callable[[], dict[str, int]],
    body: str,
    why: str,
) -> None:
    before = row_counts()
    assert_refused(import_request(client, post("title: T\ndate: 2025-01-01", body), auth), "body")
    assert row_counts() == before


def test_import_reports_every_bad_field_at_once(client: FlaskClient, auth: dict[str, str]) -> None:
    text = valid_post(title="[a]", source="javascript:x", tags="[{}]", draft="yes")
    errors = import_request(client, text, auth).json["errors"]
    assert set(errors) == {"title", "source", "tags.0", "draft"}
    assert errors["tags.0"] == ["Not a valid string."]


def test_import_command_validates_every_field_like_the_api(
    app: Flask, tmp_path: Path, row_counts: Callable[[], dict[str, int]]
) -> None:
    before = row_counts()
    posts = {f"bad-{n}": valid_post(**{key: value}) for n, (key, value) in enumerate(HOSTILE)}

    result = import_files(app, tmp_path, posts)

    assert result.exit_code == 1
    assert f"Imported 0 of {len(HOSTILE)} files, {len(HOSTILE)} failed." in result.output
    for n, (key, _) in enumerate(HOSTILE):
        assert f"bad-{n}.md: {key}" in result.output
    assert row_counts() == before


def test_import_keeps_what_the_api_accepts(client: FlaskClient, auth: dict[str, str]) -> None:
    """The front matter's own conventions still hold: a date is midnight UTC, a time
    without an offset is UTC, one author needs no list."""
    dated = import_request(client, valid_post(title="Dated"), auth)
    assert dated.status_code == 201, dated.json
    assert dated.json["published_at"] == "2025-07-30T00:00:00Z"
    timed = import_request(
        client, valid_post(title="Timed", date="2025-07-30 10:30:00", author="Jane Doe"), auth
    )
    assert timed.status_code == 201, timed.json
    assert timed.json["published_at"] == "2025-07-30T10:30:00Z"
    assert [a["name"] for a in timed.json["authors"]] == ["Jane Doe"]


# --- Decision: who gets the body as written ---------------------------------------

HOSTILE_BODY = '<p>Hello</p><script>alert("x")</script><img src=x onerror="alert(1)">'


@pytest.fixture
def login(app: Flask, fast_password_hash: str) -> Callable[[Role], Any]:
    """A user of the role and their access token (issued, not logged in: faster)."""
    emails = (f"user{n}@example.com" for n in range(1, 100))

    def as_role(role: Role) -> tuple[User, dict[str, str]]:
        user = User(
            email=next(emails), password_hash=fast_password_hash, role=role, display_name="U"
        )
        db.session.add(user)
        db.session.commit()
        return user, {"Authorization": f"Bearer {issue_token_pair(user)['access_token']}"}

    return as_role


def markdown(client: FlaskClient, article_id: int, **headers: str) -> Any:
    return client.get(
        f"/api/v1/articles/{article_id}", headers={"Accept": "text/markdown", **headers}
    )


def test_markdown_export_is_sanitized_for_readers_who_may_not_edit(
    client: FlaskClient, login: Callable[[Role], Any]
) -> None:
    author, owner = login(Role.AUTHOR)
    _, other_author = login(Role.AUTHOR)
    _, editor = login(Role.EDITOR)
    article = ArticleFactory(
        body_source=HOSTILE_BODY,
        body_html=sanitize_html(HOSTILE_BODY),
        authors=[AuthorFactory(user_id=author.id)],
    )

    for reader in ({}, other_author):
        response = markdown(client, article.id, **reader)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "<p>Hello</p>" in text
        assert "<script" not in text
        assert "onerror" not in text
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert {"Accept", "Authorization"} <= set(response.vary)
    for writer in (owner, editor):
        assert HOSTILE_BODY in markdown(client, article.id, **writer).get_data(as_text=True)


def test_markdown_variants_have_their_own_validators(
    client: FlaskClient, login: Callable[[Role], Any]
) -> None:
    _, editor = login(Role.EDITOR)
    article = ArticleFactory(body_source=HOSTILE_BODY, body_html=sanitize_html(HOSTILE_BODY))
    as_written = markdown(client, article.id, **editor).headers["ETag"]
    sanitized = markdown(client, article.id).headers["ETag"]
    assert as_written != sanitized

    # A cache holding the editor's copy cannot have it confirmed to a reader.
    crossed = markdown(client, article.id, **{"If-None-Match": as_written})
    assert crossed.status_code == 200
    assert "<script" not in crossed.get_data(as_text=True)
    assert markdown(client, article.id, **{"If-None-Match": sanitized}).status_code == 304
