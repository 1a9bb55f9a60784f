"""The API docs (/docs, /redoc) render every tag in a real browser, fully offline.

    python -m tests.consumers.browser.check_docs [--artifacts DIR]

Serves the app on a free loopback port (a throw-away SQLite instance), opens each page
in Debian's headless Chromium through Playwright and fails when a tag of the spec is not
visible, the page logs an error, or it requests anything the app does not serve itself.
A full-page screenshot of each page goes to --artifacts. `make docs-browser` runs it.
"""

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Route, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.consumers.live_server import get_json, serve_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = ("docs", "redoc")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--artifacts", type=Path, default=Path(__file__).parent / "artifacts")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install -y -qq chromium (make docs-browser)")
    args.artifacts.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, serve_app(Path(scratch)) as server:
        origin = server.origin
        tags = spec_tags(get_json(f"{origin}/api/v1/openapi.json"))
        failures = check_pages(origin, tags, Path(scratch) / "profile", args.artifacts)
    for failure in failures:
        print(f"FAIL {failure}")
    if failures:
        sys.exit(f"{len(failures)} failure(s); screenshots in {args.artifacts}")
    print(f"ok: /{', /'.join(PAGES)} show all {len(tags)} tags and load only from {origin}")


def spec_tags(spec: dict[str, Any]) -> list[str]:
    """The spec's tag list plus every tag an operation uses, in first-seen order."""
    tags = [tag["name"] for tag in spec.get("tags", [])]
    for operations in spec["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict):  # skips a path's shared `parameters` list
                tags += operation.get("tags", [])
    return list(dict.fromkeys(tags))


def check_pages(origin: str, tags: list[str], profile: Path, artifacts: Path) -> list[str]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile,  # a fresh user-data-dir: nothing cached from an earlier run
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )

        def only_local(route: Route) -> None:
            # Nothing outside answers, offline or not: the check never depends on the network.
            if is_local(route.request.url, origin):
                route.continue_()
            else:
                route.abort()

        browser.route("**/*", only_local)
        failures = [
            f"/{name}: {problem}"
            for name in PAGES
            for problem in check_page(browser, origin, name, tags, artifacts)
        ]
        browser.close()
    return failures


def is_local(url: str, origin: str) -> bool:
    scheme = urlsplit(url).scheme
    return scheme in ("data", "blob") or f"{url}/".startswith(f"{origin}/")


def check_page(
    browser: BrowserContext, origin: str, name: str, tags: list[str], artifacts: Path
) -> list[str]:
    """What is wrong with one page: tags not shown, errors logged, requests elsewhere."""
    page = browser.new_page()
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    def log_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    page.on("console", log_console)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.goto(f"{origin}/{name}", wait_until="networkidle")
    missing = []
    for tag in tags:
        try:
            page.get_by_text(tag, exact=True).filter(visible=True).first.wait_for(timeout=10_000)
        except PlaywrightTimeout:
            missing.append(tag)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    page.close()
    elsewhere = [url for url in dict.fromkeys(requested) if not is_local(url, origin)]
    return (
        [f"tag not visible: {tag}" for tag in missing]
        + errors
        + [f"requested {url}" for url in elsewhere]
    )


if __name__ == "__main__":
    main()
