"""Schemathesis against the served spec, every operation and every check, as an admin and
as an anonymous caller: zero failures, with a fixed seed and a bounded time.

    python -m tests.consumers.schemathesis_run [--max-examples N] [--max-time S]

Served by gunicorn on a throw-away instance, as in production. Reports (JUnit, and a
pytest file reproducing any failure) go to tests/consumers/artifacts/schemathesis.
"""

import argparse
import sys
import tempfile
from pathlib import Path
from subprocess import run

from tests.consumers.live_server import ADMIN_EMAIL, ADMIN_PASSWORD, serve_app

ARTIFACTS = Path(__file__).parent / "artifacts" / "schemathesis"
SEED = 20261203


# A fuzzer guesses passwords all day: the guess limits would lock the admin out of the
# logins that renew its token, so this instance allows more (the limits have tests).
SETTINGS = {
    "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
    "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
}
ADMIN_AUTH = f"""
[auth]
auto-signup = false

# Logged in again whenever a 401 says the token is gone (the fuzzer logs out too).
[auth.dynamic.openapi.bearerAuth]
path = "/api/v1/auth/login"
payload = {{ email = "{ADMIN_EMAIL}", password = "{ADMIN_PASSWORD}" }}
extract_selector = "/access_token"
"""
ANONYMOUS_AUTH = """
[auth]
auto-signup = false
"""
# What a schema-valid request may still be refused with, where the schema cannot say:
# a made-up If-Match names no version that exists (412; none at all is a 428), a made-up
# id names no row to refer to (422), a made-up cursor, post or image is not one, a
# webhook URL whose host resolves to a private address is refused (422), and a replay's
# `until` must come after its `since` (422: one field against another).
# A URL too long for the server (414) is refused whatever the schema says: its length
# is not something OpenAPI can state.
ACCEPTED = '"2xx", "3xx", "401", "403", "404", "409", "414", "429", "5xx"'
# Preconditions are evaluated before the content is read (RFC 9110, 13.2.1): a bad body
# sent with a made-up If-Match is refused with 412, which is a refusal all the same.
# A body over the size cap is refused before it is read, as 413 payload_too_large (the
# spec documents it on every operation that takes a body).
REFUSED = (
    '"400", "401", "403", "404", "405", "406", "409", "412", "413", "414", "415", "422", "428", '
    '"429"'
)
REFERRING_UPDATES = ["updateArticle", "updatePage", "updateFeed", "updateWebhook"]
EXPECTED = f"""
[checks.negative_data_rejection]
expected-statuses = [{REFUSED}]
# Users are changed on a user of their own: changing the admin's e-mail, password or
# role would lock the run out (an admin may do that to itself).
[[operations]]
include-operation-id = ["updateUser"]
parameters = {{ item_id = 2 }}
checks.positive_data_acceptance.expected-statuses = [{ACCEPTED}, "412", "422"]
checks.missing_required_header.expected-statuses = ["428", "401", "403"]
checks.negative_data_rejection.expected-statuses = [{REFUSED}]

[[operations]]
include-operation-id = {REFERRING_UPDATES}
checks.positive_data_acceptance.expected-statuses = [{ACCEPTED}, "412", "422"]
checks.missing_required_header.expected-statuses = ["428", "401", "403"]
checks.negative_data_rejection.expected-statuses = [{REFUSED}]

[[operations]]
include-method-regex = "^(PATCH|DELETE)$"
exclude-operation-id = {[*REFERRING_UPDATES, "updateUser"]}
checks.positive_data_acceptance.expected-statuses = [{ACCEPTED}, "412"]
checks.missing_required_header.expected-statuses = ["428", "401", "403"]
checks.negative_data_rejection.expected-statuses = [{REFUSED}]

[[operations]]
include-operation-id = [
    "createArticle", "createPage", "createFeed", "createUser", "importArticle",
    "changePassword", "createWebhook", "replayWebhookDeliveries",
]
checks.positive_data_acceptance.expected-statuses = [{ACCEPTED}, "422"]

# Any bytes are a binary file, but only images are images.
[[operations]]
include-operation-id = ["uploadImage"]
checks.positive_data_acceptance.expected-statuses = [{ACCEPTED}, "415", "422"]

[[operations]]
include-operation-id = ["listArticles", "listStories"]
checks.positive_data_acceptance.expected-statuses = [{ACCEPTED}, "400"]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--max-time", type=int, default=240, help="seconds per caller")
    args = parser.parse_args()
    failed = []
    with (
        tempfile.TemporaryDirectory() as scratch,
        serve_app(Path(scratch) / "instance", gunicorn=True, settings=SETTINGS) as app,
    ):
        app.flask("cms", "create-user", "--email", "target@example.com", "--role", "author",
                  "--password", "a user the fuzzer changes")  # fmt: skip
        for caller, auth in (("admin", ADMIN_AUTH), ("anonymous", ANONYMOUS_AUTH)):
            config = Path(scratch) / f"{caller}.toml"
            config.write_text(auth + EXPECTED)
            report = ARTIFACTS / caller
            command = [
                str(Path(sys.executable).parent / "st"),
                f"--config-file={config}",
                "run",
                f"{app.origin}/api/v1/openapi.json",
                "--checks=all",
                f"--seed={SEED}",
                f"--max-examples={args.max_examples}",
                f"--max-time={args.max_time}",
                "--workers=1",  # hypothesis describes its filters unsafely across threads
                "--request-timeout=20",
                "--report=junit",
                f"--report-dir={report}",
            ]
            print(f"== schemathesis as {caller}", flush=True)
            if run(command, check=False).returncode:  # noqa: S603 - our own arguments
                failed.append(caller)
    if failed:
        sys.exit(f"schemathesis found failures as: {', '.join(failed)} (reports in {ARTIFACTS})")


if __name__ == "__main__":
    main()
