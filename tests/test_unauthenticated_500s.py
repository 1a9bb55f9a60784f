"""Issue 10, finding 6: numbers and nesting that reached the database driver, Python's
int parser or the stack gave 500s, most before authentication. Each class is walked
over everything the API has of its kind (the URL map, the served spec), as an anonymous
caller and as an admin: always a 4xx problem, never a 500."""

import base64
import re
from collections.abc import Callable, Iterator
from datetime import timedelta, timezone
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter, Rule

from cms.api.articles.query import sort_keys
from cms.api.screening import MAX_JSON_DEPTH
from cms.extensions import DB_INT_MAX
from cms.models import Role
from tests.conftest import FAST_PASSWORD, edit
from tests.factories import ArticleFactory

PROBLEM = "application/problem+json"
# As text: the last is past the digits Python converts to int.
HUGE_INTEGERS = (str(DB_INT_MAX + 1), str(10**30), "9" * 5000)
EDGE_DATETIMES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00")
WRITE_METHODS = ("POST", "PUT", "PATCH")
Caller = dict[str, str]


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.json
    assert body["code"] == code
    return body


@pytest.fixture
def admin(client: FlaskClient, make_user: Callable[..., Any]) -> Caller:
    user = make_user(Role.ADMIN)
    login = client.post("/api/v1/auth/login", json={"email": user.email, "password": FAST_PASSWORD})
    return {"Authorization": f"Bearer {login.json['access_token']}"}


@pytest.fixture
def callers(admin: Caller) -> list[Caller]:
    return [{}, admin]


# --- walking the API ---------------------------------------------------------------


def int_rules(app: Flask) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]


def url_of(rule: Rule, number: str) -> str:
    """The rule's URL with `number` in every int segment (other segments: "x")."""
    values = {
        name: number if isinstance(converter, IntegerConverter) else "x"
        for name, converter in rule._converters.items()
    }
    return re.sub(r"<(?:[^<>:]+:)?(\w+)>", lambda m: values[m.group(1)], rule.rule)


def operations(client: FlaskClient) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(method, concrete path, operation, spec): every operation, path ids set to 1."""
    spec = client.get("/api/v1/openapi.json").json
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield method.upper(), re.sub(r"{\w+}", "1", path), operation, spec


def query_parameters(
    client: FlaskClient, accepts: Callable[[dict[str, Any]], bool]
) -> list[tuple[str, str]]:
    """(path, parameter name) of every GET's query parameter whose schema `accepts`."""
    return [
        (path, parameter["name"])
        for method, path, operation, _ in operations(client)
        if method == "GET"
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and accepts(parameter.get("schema", {}))
    ]


def body_fields(
    client: FlaskClient, accepts: Callable[[dict[str, Any]], bool]
) -> list[tuple[str, str, str]]:
    """(method, path, field) of every writable JSON body field whose schema `accepts`."""
    found = []
    for method, path, operation, spec in operations(client):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        schema = content["application/json"]["schema"]
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        found += [
            (method, path, name)
            for name, field in schema.get("properties", {}).items()
            if not field.get("readOnly") and accepts(field)
        ]
    return found


def has_type(kind: str, of_format: str | None = None) -> Callable[[dict[str, Any]], bool]:
    """A schema test: of this JSON type (alone or nullable), and of this format."""

    def accepts(schema: dict[str, Any]) -> bool:
        types = schema.get("type")
        of_kind = kind == types or (isinstance(types, list) and kind in types)
        return of_kind and schema.get("format") == of_format

    return accepts


def integer_or_integers(schema: dict[str, Any]) -> bool:
    return has_type("integer")(schema) or has_type("integer")(schema.get("items", {}))


# --- huge integers -----------------------------------------------------------------


def test_every_int_path_segment_refuses_overflow(
    app: Flask, client: FlaskClient, callers: list[Caller]
) -> None:
    rules = int_rules(app)
    assert len(rules) > 10  # every resource's item routes, at least
    for rule in rules:
        for number in HUGE_INTEGERS:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                for headers in callers:
                    url = url_of(rule, number)
                    response = client.open(url, method=method, headers=headers)
                    if len(url) > 8000:  # three 5,000-digit ids: refused for length first
                        assert_problem(response, 414, "uri_too_long")
                        continue
                    # No row has such an id: the URL names nothing.
                    assert_problem(response, 404, "not_found")


def test_largest_database_integer_is_still_an_id(client: FlaskClient, admin: Caller) -> None:
    response = client.get(f"/api/v1/articles/{DB_INT_MAX}", headers=admin)
    assert_problem(response, 404, "not_found")


def test_every_integer_query_parameter_refuses_overflow(client: FlaskClient, admin: Caller) -> None:
    parameters = query_parameters(client, has_type("integer"))
    assert ("/api/v1/articles", "page") in parameters
    for path, name in parameters:
        for number in HUGE_INTEGERS:
            response = client.get(path, query_string={name: number}, headers=admin)
            body = assert_problem(response, 422, "validation_error")
            assert list(body["errors"]) == [name]
            assert client.get(path, query_string={name: number}).status_code < 500


def test_every_integer_body_field_refuses_overflow(
    client: FlaskClient, callers: list[Caller], row_counts: Callable[[], dict[str, int]]
) -> None:
    fields = body_fields(client, integer_or_integers)
    assert ("POST", "/api/v1/articles", "category_id") in fields
    before = row_counts()
    for method, path, name in fields:
        for number in map(int, HUGE_INTEGERS[:2]):  # the third is no JSON Python reads
            for headers in callers:
                # As a value and in a list: an id field, or a list of ids.
                for value in (number, [1, number]):
                    response = client.open(path, method=method, json={name: value}, headers=headers)
                    body = assert_problem(response, 422, "validation_error")
                    assert any(field.startswith(name) for field in body["errors"])
    assert row_counts() == before


# --- JSON that cannot be read ------------------------------------------------------


def json_write_urls(app: Flask) -> list[tuple[str, str]]:
    """(method, URL) of every route that takes a body, ids set to 1."""
    return [
        (method, url_of(rule, "1"))
        for rule in app.url_map.iter_rules()
        for method in sorted(set(WRITE_METHODS) & (rule.methods or set()))
    ]


def nested(depth: int, *, objects: bool = False) -> str:
    return ('{"a":' * depth + "1" + "}" * depth) if objects else ("[" * depth + "]" * depth)


@pytest.mark.parametrize(
    "body",
    [nested(100_000), nested(100_000, objects=True), nested(MAX_JSON_DEPTH + 1)],
    ids=["100k-arrays", "100k-objects", "one-too-deep"],
)
def test_deeply_nested_json_bodies_are_refused(
    app: Flask, client: FlaskClient, callers: list[Caller], body: str
) -> None:
    urls = json_write_urls(app)
    assert ("POST", "/api/v1/auth/login") in urls
    for method, url in urls:
        for headers in callers:
            response = client.open(
                url, method=method, data=body, content_type="application/json", headers=headers
            )
            problem = assert_problem(response, 400, "malformed_json")
            assert str(MAX_JSON_DEPTH) in problem["detail"]


def test_json_nested_to_the_limit_is_read(client: FlaskClient) -> None:
    body = '{"email": ' + nested(MAX_JSON_DEPTH - 1) + ', "password": "x"}'
    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert list(assert_problem(response, 422, "validation_error")["errors"]) == ["email"]


@pytest.mark.parametrize(
    "number",
    ["9" * 5000, "-" + "9" * 5000, "1e999", "-1e999", "NaN", "Infinity", "-Infinity"],
    ids=["5000-digits", "minus-5000-digits", "1e999", "-1e999", "NaN", "Infinity", "-Infinity"],
)
def test_huge_json_numbers_are_refused(
    app: Flask, client: FlaskClient, callers: list[Caller], number: str
) -> None:
    """Numbers Python will not read (or JSON does not have) are malformed JSON: a 400,
    wherever they are, on every route that takes a body."""
    for method, url in json_write_urls(app):
        for headers in callers:
            for body in (f'{{"email": {number}, "password": "x"}}', f'{{"a": [[{number}]]}}'):
                response = client.open(
                    url, method=method, data=body, content_type="application/json", headers=headers
                )
                assert_problem(response, 400, "malformed_json")


def test_readable_number_of_the_wrong_type_is_a_validation_error(client: FlaskClient) -> None:
    for number in (10**4000, 1.5e300, 7):
        response = client.post("/api/v1/auth/login", json={"email": number, "password": "x"})
        assert list(assert_problem(response, 422, "validation_error")["errors"]) == ["email"]


# --- datetimes at the edges --------------------------------------------------------


def test_edge_datetimes_are_refused_everywhere(client: FlaskClient, callers: list[Caller]) -> None:
    """0001-01-01T00:00:00+14:00 is year 0 in UTC: every datetime a query or a body takes
    refuses it (422), as it refuses a datetime without a zone."""
    parameters = query_parameters(client, has_type("string", "date-time"))
    fields = body_fields(client, has_type("string", "date-time"))
    assert ("/api/v1/articles", "published_after") in parameters
    assert ("PATCH", "/api/v1/articles/1", "published_at") in fields
    assert ("POST", "/api/v1/tokens", "expires_at") in fields
    token_only = {
        path
        for method, path, operation, _ in operations(client)
        if method == "GET" and {} not in operation.get("security", [{}])
    }
    for value in (*EDGE_DATETIMES, "2024-06-01T12:00:00"):
        for path, name in parameters:
            for headers in callers:
                response = client.get(path, query_string={name: value}, headers=headers)
                if not headers and path in token_only:  # who asks is checked first
                    assert_problem(response, 401, "missing_token")
                    continue
                assert list(assert_problem(response, 422, "validation_error")["errors"]) == [name]
        for method, path, name in fields:
            response = client.open(path, method=method, json={name: value}, headers=callers[1])
            assert name in assert_problem(response, 422, "validation_error")["errors"]


@pytest.mark.parametrize("value", EDGE_DATETIMES)
def test_edge_datetime_in_a_whole_article_is_refused(
    client: FlaskClient, admin: Caller, row_counts: Callable[[], dict[str, int]], value: str
) -> None:
    article = ArticleFactory()
    before = row_counts()
    created = client.post(
        "/api/v1/articles", json={"title": "T", "published_at": value}, headers=admin
    )
    assert_problem(created, 422, "validation_error")
    url = f"/api/v1/articles/{article.id}"
    changed = edit(client, url, json={"published_at": value}, headers=admin)
    assert_problem(changed, 422, "validation_error")
    assert row_counts() == before


def test_datetimes_inside_the_range_round_trip(client: FlaskClient, admin: Caller) -> None:
    """The first and last days of years 0002 to 9998, given in any zone, are stored, filtered,
    sorted and paged by cursor."""
    stamps = ["0002-01-01T14:00:00+14:00", "9998-12-31T23:59:59Z"]
    for stamp in stamps:
        created = client.post(
            "/api/v1/articles",
            json={"title": stamp, "status": "published", "published_at": stamp},
            headers=admin,
        )
        assert created.status_code == 201, created.json
    # Editors list both (a published_at in the future is scheduled: not public yet).
    listed = client.get(
        "/api/v1/articles",
        query_string={"page_size": 1, "published_after": "0002-01-01T00:00:00Z"},
        headers=admin,
    )
    assert listed.json["data"][0]["published_at"] == "9998-12-31T23:59:59Z"
    following = client.get(
        "/api/v1/articles",
        query_string={"page_size": 1, "cursor": listed.json["meta"]["next_cursor"]},
        headers=admin,
    )
    assert following.json["data"][0]["published_at"] == "0002-01-01T00:00:00Z"


# --- cursors -----------------------------------------------------------------------


def cursor(sort: list[str], values: list[Any]) -> str:
    """A cursor as the API makes them: unpadded URL-safe base64 of {"s": sort, "v": values}."""
    payload = orjson.dumps({"s": sort, "v": values})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


@pytest.mark.parametrize(
    "values",
    [
        ["2024-06-01T12:00:00", 5],  # naive
        [EDGE_DATETIMES[0], 5],
        [EDGE_DATETIMES[1], 5],
        ["2024-06-01T12:00:00Z", DB_INT_MAX + 1],
        ["2024-06-01T12:00:00Z", 2**64 - 1],  # orjson reads larger ones as floats
    ],
    ids=["naive", "year-0-in-utc", "year-10000-in-utc", "id-past-int4", "id-past-int64"],
)
def test_cursor_with_naive_timestamp_is_refused(client: FlaskClient, values: list[Any]) -> None:
    ArticleFactory()
    response = client.get(
        "/api/v1/articles", query_string={"cursor": cursor(["-published_at", "-id"], values)}
    )
    assert_problem(response, 400, "invalid_cursor")


SORTS = ["-published_at", "created_at", "-updated_at", "title", "-importance", "credibility", "id"]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.datetimes(
        timezones=st.none()
        | st.builds(timezone, st.timedeltas(-timedelta(hours=23), timedelta(hours=23)))
    ).map(lambda moment: moment.isoformat()),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def sort_and_cursor(draw: st.DrawFn) -> tuple[str, str]:
    sort = draw(st.sampled_from(SORTS))
    keys = [("-" if k.descending else "") + k.name for k in sort_keys([sort])]
    text = draw(
        st.text(max_size=60)
        | st.binary(max_size=60).map(lambda raw: base64.urlsafe_b64encode(raw).decode())
        | st.builds(
            cursor,
            st.just(keys) | st.lists(st.sampled_from(SORTS), max_size=3),
            st.lists(JSON_VALUES, min_size=len(keys), max_size=len(keys)) | st.lists(JSON_VALUES),
        )
    )
    return sort, text


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=sort_and_cursor())
@example(case=("-published_at", cursor(["-published_at", "-id"], ["2024-06-01T12:00:00", 1])))
def test_any_cursor_is_read_or_refused_never_a_500(
    client: FlaskClient, case: tuple[str, str]
) -> None:
    sort, text = case
    response = client.get("/api/v1/articles", query_string={"sort": sort, "cursor": text})
    assert response.status_code in (200, 400, 422), response.get_data(as_text=True)[:500]
