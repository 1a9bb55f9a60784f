"""What each operation documents beyond its schemas, derived from what it is.

Run for every operation as the spec is built (a flask-smorest doc callback), so no view
can forget any of it:
- the problems it can give, each status with its own codes: those its shape implies
  (query parameters, a JSON body, a bearer requirement, conditional requests) and those
  its view declares with `Blueprint.errors`;
- conditional requests: If-None-Match and 304 on GETs, a required If-Match with 412 and
  428 on PATCH and DELETE;
- the response headers sent: ETag, Last-Modified, Cache-Control, Vary, Location;
- who may call it: public operations take the document's default, optional
  authentication (`[{}, {"bearerAuth": []}]`: a token widens what is visible), so a
  generated client accepts an anonymous client there.
"""

from http import HTTPStatus
from typing import Any

from cms.problems import DEFAULT_CODES, PROBLEM_CONTENT_TYPE, PROBLEM_TYPES

PROBLEMS_KEY = "problems"  # where Blueprint.errors keeps what a view declares

# What a bad bearer token gives, wherever one is checked.
TOKEN_CODES = ("invalid_token", "token_expired", "token_revoked")
CONDITIONAL_WRITES = frozenset({"PATCH", "PUT", "DELETE"})
OPTIONAL_AUTH: list[dict[str, list[str]]] = [
    {},
    {"bearerAuth": []},
]  # the document's default security


def _header(description: str, *, required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


ETAG = _header("Strong validator of this representation: send it back as If-Match")
CACHE_CONTROL = _header(
    "public, max-age, s-maxage for anonymous readers (for articles and pages, never past the next "
    "scheduled publish or takedown they depend on); private, no-cache with a token"
)
VARY = _header("Authorization (and Accept where another media type is offered)")
LAST_MODIFIED = _header("When the resource last changed (items that have one)", required=False)
LOCATION = _header("The URL of what was created")
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "description": "ETags of copies you hold: 304 Not Modified when one is current",
    "schema": {"type": "string"},
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": "The ETag you read (or *): 412 when someone changed it meanwhile, "
    "so no edit is overwritten unseen",
    "schema": {"type": "string"},
}


UNCACHED = "x-uncached"
NO_STORE = {
    "description": "no-store: never cached, never conditional",
    "required": True,
    "schema": {"type": "string", "const": "no-store"},
}


def document_operation(
    doc: dict[str, Any], doc_info: dict[str, Any], *, method: str, **_: Any
) -> dict[str, Any]:
    method = method.upper()
    manual = doc_info.get("manual_doc", {})
    responses = doc.setdefault("responses", {})
    parameters = doc.setdefault("parameters", [])
    security = manual.get("security", OPTIONAL_AUTH)
    codes = _problem_codes(doc, doc_info, method, security)
    for status in [key for key in responses if key == "default" or int(key) >= 400]:
        del responses[status]
    for status, status_codes in sorted(codes.items()):
        responses[status] = _problem_response(status, status_codes)
    responses["default"] = _problem_response(500, ["internal_error", "service_unavailable"])
    if manual.get(UNCACHED):  # a probe: answered now or never, no validators
        for status in [key for key in responses if key != "default" and int(key) < 300]:
            responses[status].setdefault("headers", {})["Cache-Control"] = NO_STORE
        return doc
    for status, response in responses.items():
        if status != "default" and 200 <= int(status) < 300:
            response.setdefault("headers", {}).update(_success_headers(method, int(status)))
    if method == "GET":
        parameters.append(IF_NONE_MATCH)
        responses[304] = {
            "description": "Not Modified: the copy you hold is current",
            "headers": {"ETag": ETAG, "Cache-Control": CACHE_CONTROL},
        }
    if method in CONDITIONAL_WRITES:
        parameters.append(IF_MATCH)
    return doc


def _problem_codes(
    doc: dict[str, Any], doc_info: dict[str, Any], method: str, security: list[dict[str, Any]]
) -> dict[int, list[str]]:
    codes: dict[int, list[str]] = {}

    def add(*names: str) -> None:
        for name in names:
            status = PROBLEM_TYPES[name][0]
            if name not in codes.setdefault(status, []):
                codes[status].append(name)

    if any(p.get("in") == "query" for p in doc.get("parameters", []) if isinstance(p, dict)):
        add("unknown_parameter", "repeated_parameter", "validation_error", "uri_too_long")
    # A body the view reads itself is documented by hand (merged into doc after this).
    body = doc.get("requestBody") or doc_info.get("manual_doc", {}).get("requestBody", {})
    body_types = body.get("content", {})
    if "application/json" in body_types:
        add("malformed_json", "validation_error")
    if body_types:
        add("payload_too_large", "unsupported_media_type")
    if security and {} not in security:
        add("missing_token", *TOKEN_CODES)
    elif security:
        add(*TOKEN_CODES)  # a token sent to a public operation is still checked
    if any(scopes for requirement in security for scopes in requirement.values()):
        add("forbidden")  # a role is required
    if method in CONDITIONAL_WRITES:
        add("precondition_failed", "precondition_required")
    for given in doc_info.get(PROBLEMS_KEY, []):
        add(DEFAULT_CODES[given] if isinstance(given, int) else given)
    return codes


def _problem_response(status: int, codes: list[str]) -> dict[str, Any]:
    listed = ", ".join(f"`{code}`" for code in codes)
    return {
        "description": f"{HTTPStatus(status).phrase}. Problem codes: {listed}.",
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        "x-problem-codes": codes,
    }


def _success_headers(method: str, status: int) -> dict[str, Any]:
    if method == "GET":
        return {
            "ETag": ETAG,
            "Cache-Control": CACHE_CONTROL,
            "Vary": VARY,
            "Last-Modified": LAST_MODIFIED,
        }
    if status == 201:
        return {"Location": LOCATION, "ETag": {**ETAG, "required": False}}
    if method in CONDITIONAL_WRITES and status == 200:
        return {"ETag": {**ETAG, "required": False}}
    return {}


def link_created_resources(spec: dict[str, Any]) -> dict[str, Any]:
    """Add OpenAPI links from each create to the operations on what it created.

    `POST /tags` (201) links to `getTag`, `updateTag` and `deleteTag` with the new `id`
    and, for writes, its `ETag` as If-Match: a generated client or a stateful fuzzer
    (schemathesis) can follow a resource through its life without guessing ids. The
    item path is the collection's own (`/tags/{item_id}`) or its parent's, for creates
    on a sub-path (`/images/upload`, `/articles/import`).
    """
    paths = spec.get("paths", {})
    for path, operations in paths.items():
        create = operations.get("post")
        item = _item_path(paths, path) if create else None
        if item is None:
            continue
        item_path, parameter = item
        links = {}
        for method, target in paths[item_path].items():
            if not isinstance(target, dict) or "operationId" not in target:
                continue
            values = {parameter: "$response.body#/id"}
            if method.upper() in CONDITIONAL_WRITES:
                values["header.If-Match"] = "$response.header.ETag"
            links[target["operationId"]] = {
                "operationId": target["operationId"],
                "parameters": values,
            }
        for status, response in create["responses"].items():
            if status in ("200", "201"):
                response["links"] = links
    return spec


def _item_path(paths: dict[str, Any], collection: str) -> tuple[str, str] | None:
    for base in (collection, collection.rsplit("/", 1)[0]):
        for path in paths:
            head, _, last = path.rpartition("/")
            if head == base and last.startswith("{") and last.endswith("}"):
                return path, last[1:-1]
    return None
