"""The spec is a product: served, committed, up to date; docs work offline."""

import json
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

COMMITTED_SPEC = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def test_committed_spec_is_up_to_date(client: FlaskClient) -> None:
    served = client.get("/api/v1/openapi.json").json
    assert json.loads(COMMITTED_SPEC.read_text()) == served, "run `make openapi` and commit"


def test_spec_is_openapi_3_1_with_bearer_auth(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    create = spec["paths"]["/api/v1/articles"]["post"]
    assert create["security"] == [{"bearerAuth": ["contributor"]}]
    assert create["x-required-role"] == "contributor"
    assert spec["paths"]["/api/v1/users"]["get"]["x-required-role"] == "admin"
    assert {"201", "401", "409", "413", "415", "422"} <= set(create["responses"])
    problem = create["responses"]["422"]["content"]
    assert list(problem) == ["application/problem+json"]
    assert problem["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_every_operation_has_an_id_and_a_summary(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    ids = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("operationId"), f"{method} {path}"
            assert operation.get("summary"), f"{method} {path}"
            ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))


def test_docs_pages_load_only_local_assets(app: Flask, client: FlaskClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).get_data(as_text=True)
        urls = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert urls, page
        for url in urls:
            assert not url.startswith(("http:", "https:", "//")), f"{page} loads {url}"
            with client.get(url) as asset:
                assert asset.status_code == 200, url
    assert '"validatorUrl": null' in client.get("/docs").get_data(as_text=True)
