"""One error shape everywhere: RFC 9457 problem+json, never a traceback or HTML page."""

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cms.problems import PROBLEM_TYPES, problem_response
from tests.conftest import make_app


def test_unknown_path_is_a_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "not_found"


def test_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.put("/api/v1/articles", json={})
    assert response.status_code == 405
    assert response.json["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_problem_type_uri_dereferences(client: FlaskClient) -> None:
    problem = client.get("/api/v1/articles/999").json
    description = client.get(problem["type"])
    assert description.status_code == 200
    assert description.json["status"] == 404
    assert description.json["code"] == "not_found"


def test_every_problem_code_dereferences(client: FlaskClient) -> None:
    for code, (status, _) in PROBLEM_TYPES.items():
        page = client.get(f"/problems/{code.replace('_', '-')}")
        assert (page.status_code, page.json["status"], page.json["code"]) == (200, status, code)


def test_an_undocumented_code_cannot_be_sent(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(ValueError, match="PROBLEM_TYPES"):
        problem_response(400, "made_up_code")


def test_unexpected_error_is_a_generic_500(database: str, tmp_path: Path) -> None:
    app: Flask = make_app(database, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "internal_error"
    text = response.get_data(as_text=True)
    assert "secret" not in text
    assert "Traceback" not in text
