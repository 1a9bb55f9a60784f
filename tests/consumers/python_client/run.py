"""Generate a Python client from the committed spec and run an editor's day through it.

    python -m tests.consumers.python_client.run      (make consumers runs it)

openapi-python-client (pinned in pyproject) generates the client into a temporary
folder, nothing generated committed or edited, with default settings but one: XML
answers (feeds, sitemaps) arrive as bytes (config.yaml; the generator reads no XML).
The generator must not warn, `mypy --strict` must accept the scenario, and the
scenario must pass against the app served on loopback.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.consumers.live_server import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, serve_app

SCENARIO = Path(__file__).with_name("scenario.py")
CONFIG = Path(__file__).with_name("config.yaml")
BIN = Path(sys.executable).parent


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        client = Path(scratch) / "client"
        generate(client)
        env = {**os.environ, "MYPYPATH": str(client), "PYTHONPATH": str(client)}
        run([str(BIN / "mypy"), "--strict", "--no-incremental", str(SCENARIO)], env)
        with serve_app(Path(scratch) / "instance") as server:
            run([sys.executable, str(SCENARIO), server.origin, ADMIN_EMAIL, ADMIN_PASSWORD], env)


def generate(client: Path) -> None:
    command = [
        str(BIN / "openapi-python-client"),
        "generate",
        "--path",
        str(ROOT / "openapi" / "openapi.json"),
        "--output-path",
        str(client),
        "--config",
        str(CONFIG),
    ]
    # The generator formats its output with ruff, found on PATH.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    output = done.stdout + done.stderr
    if done.returncode or "Warning" in output:
        sys.exit(f"{output}\nopenapi-python-client failed or warned on openapi/openapi.json")


def run(command: list[str], env: dict[str, str]) -> None:
    if subprocess.run(command, env=env, cwd=ROOT, check=False).returncode:  # noqa: S603
        sys.exit(f"failed: {' '.join(command)}")


if __name__ == "__main__":
    main()
