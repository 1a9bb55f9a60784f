"""Upload-to-ready time and memory peak for a 12-megapixel JPEG.

    python -m bench.media [--rounds 3] [--megapixels 12]

Runs the app in this process on a fresh SQLite file and media folder, with renditions
made in the background (the default): times the upload request (validation, the
original stored), then until the image is `ready` (5 widths x JPEG, WebP, AVIF, plus
thumbnails), and the latency of a small API read while rendering goes on. The memory
peak is this process's maximum resident set size, before and after.
"""

import argparse
import io
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from PIL import Image as Pillow

from cms import create_app
from cms.extensions import db
from cms.models import Role
from cms.services.users import create_user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--megapixels", type=int, default=12)
    parser.add_argument("--photo", type=Path, help=argparse.SUPPRESS)  # the measuring child
    args = parser.parse_args()
    if args.photo is None:
        # Making the test photo takes more memory than rendering it: do it here, and
        # measure in a fresh process whose peak is the app's alone.
        with tempfile.NamedTemporaryFile(suffix=".jpg") as photo_file:
            photo_file.write(photo_jpeg(args.megapixels))
            photo_file.flush()
            command = [sys.executable, "-m", "bench.media", "--photo", photo_file.name]
            subprocess.run([*command, "--rounds", str(args.rounds)], check=True)
        return
    photo = args.photo.read_bytes()
    print(f"JPEG: {len(photo) / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
                "STORAGE_URL": f"file://{folder}/media",
                "IMAGE_RENDERING": "background",
                "SECRET_KEY": secrets.token_urlsafe(48),
            }
        )
        with app.app_context():
            upgrade()
            password = "bench password 123"  # noqa: S105 - a throw-away database
            create_user(db.session, email="bench@example.com", password=password, role=Role.EDITOR)
            db.session.commit()
            client = app.test_client()
            login = {"email": "bench@example.com", "password": password}
            token = client.post("/api/v1/auth/login", json=login).json["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            idle = read_latency(client)
            client.get("/api/v1/images")  # everything imported, every route warm
            before = peak_rss_mb()
            rounds = [one_upload(client, headers, photo) for _ in range(args.rounds)]
            after = peak_rss_mb()
            db.engine.dispose()
    print(f"\nmedians of {args.rounds} uploads:")
    for name in rounds[0]:
        print(f"  {name:<34} {statistics.median(r[name] for r in rounds):8.3f}")
    print(f"  {'small read, idle (ms)':<34} {idle:8.3f}")
    print(f"  peak RSS: {before:.0f} MB before the uploads, {after:.0f} MB after")


def one_upload(client: object, headers: dict[str, str], photo: bytes) -> dict[str, float]:
    started = time.perf_counter()
    form = {"file": (io.BytesIO(photo), "photo.jpg", "image/jpeg"), "metadata": '{"alt": "bench"}'}
    response = client.post(  # type: ignore[attr-defined]
        "/api/v1/images", data=form, headers=headers, content_type="multipart/form-data"
    )
    answered = time.perf_counter() - started
    assert response.status_code == 201, response.json
    url = f"/api/v1/images/{response.json['id']}"
    during = []
    while True:
        during.append(read_latency(client, times=1))
        image = client.get(url, headers=headers).json  # type: ignore[attr-defined]
        if image["status"] != "processing":
            break
        time.sleep(0.05)
    ready = time.perf_counter() - started
    assert image["status"] == "ready", image.get("error")
    return {
        "upload answered (s)": answered,
        "upload to ready (s)": ready,
        "small read while rendering (ms)": statistics.median(during),
        "renditions (count)": len(image["srcset"]) + len(image["thumbnails"]),
    }


def read_latency(client: object, times: int = 20) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        client.get("/api/v1/tags")  # type: ignore[attr-defined]
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def photo_jpeg(megapixels: int) -> bytes:
    """A photo-sized JPEG with fine detail (noise over a gradient: hard to compress)."""
    width = int((megapixels * 1_000_000 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    noise = Pillow.effect_noise((width // 4, height // 4), 60).convert("RGB")
    gradient = Pillow.linear_gradient("L").resize((width, height)).convert("RGB")
    picture = Pillow.blend(noise.resize((width, height)), gradient, 0.5)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def peak_rss_mb() -> float:
    """This process's resident-set high-water mark. (Not getrusage's ru_maxrss: Linux
    carries that over from the parent across exec.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
