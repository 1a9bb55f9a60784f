"""Image uploads: only real images get in, nothing served is the uploaded file, and
renditions exist where srcset says, at the sizes it says (local and S3 storage)."""

import io
import json
import shutil
import struct
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient
from moto.server import ThreadedMotoServer
from PIL import Image as Pillow

from cms.storage import storage_from_url
from tests.conftest import run_jobs
from tests.factories import ArticleFactory

RED, BLUE, GREEN, WHITE = (255, 0, 0), (0, 0, 255), (0, 160, 0), (255, 255, 255)


@pytest.fixture(autouse=True)
def _empty_storage(media_root: Path) -> Iterator[None]:
    """Each test starts with no stored files, as it starts with empty tables."""
    yield
    shutil.rmtree(media_root)
    media_root.mkdir()


def picture(width: int, height: int, top: tuple[int, int, int] = RED) -> Pillow.Image:
    """Left half `top` colour, right half blue (rotated upright, the left becomes the top)."""
    image = Pillow.new("RGB", (width, height), BLUE)
    image.paste(top, (0, 0, width // 2, height))
    return image


def encoded(image: Pillow.Image, fmt: str = "JPEG", **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def rotated_jpeg() -> bytes:
    """800x400 as stored; EXIF orientation 6 says: show it turned 90 degrees clockwise."""
    exif = Pillow.Exif()
    exif[0x0112] = 6  # orientation
    exif[0x010F] = "SpyCam Inc."  # camera make: must not survive
    return encoded(picture(800, 400), exif=exif)


def upload(
    client: FlaskClient,
    headers: dict[str, str],
    data: bytes,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    **metadata: object,
) -> Any:
    form: dict[str, Any] = {"file": (io.BytesIO(data), filename, content_type)}
    if metadata:
        form["metadata"] = json.dumps(metadata)
    return client.post(
        "/api/v1/images", data=form, headers=headers, content_type="multipart/form-data"
    )


def stored_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def fetched(client: FlaskClient, url: str) -> tuple[Pillow.Image, Any]:
    response = client.get(url)
    data = response.data
    response.close()  # a file response: let go of the file
    assert response.status_code == 200, url
    return Pillow.open(io.BytesIO(data)), response


def test_exif_orientation_is_applied_and_exif_dropped(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    response = upload(client, auth, rotated_jpeg(), alt="A flag")

    assert response.status_code == 201, response.json
    image = response.json
    assert (image["status"], image["width"], image["height"]) == ("ready", 400, 800)
    assert image["format"] == "jpeg"
    assert {(c["width"], c["format"]) for c in image["srcset"]} == {
        (w, f) for w in (320, 400) for f in ("jpeg", "webp", "avif")
    }
    for candidate in image["srcset"]:
        served, answer = fetched(client, candidate["url"])
        assert served.size == (candidate["width"], candidate["height"])
        assert served.format.lower() == candidate["format"]
        assert answer.mimetype == candidate["type"]
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        # As S3 serves them: a year, not the max-age of API answers.
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert dict(served.getexif()) == {}
        rgb = served.convert("RGB")
        top, bottom = (
            rgb.getpixel((served.width // 2, 5)),
            rgb.getpixel((served.width // 2, served.height - 5)),
        )
        assert _close(top, RED), top  # red on top: upright
        assert _close(bottom, BLUE), bottom
    assert (
        image["url"]
        == max((c for c in image["srcset"] if c["format"] == "jpeg"), key=lambda c: c["width"])[
            "url"
        ]
    )


def _close(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 60 for a, b in zip(pixel, colour, strict=False))


def bomb_png(side: int = 20_000) -> bytes:
    """A real PNG of side x side black pixels: a few hundred KB, 400 MP once decoded."""
    raw = zlib.compress(b"\0" * (side // 8 + 1) * side, 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


REJECTED = {
    "svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "logo.svg",
        "image/svg+xml",
        415,
    ),
    "html named png": (b"<html><body>hi</body></html>", "cat.png", "image/png", 415),
    "truncated png": (encoded(picture(300, 200), "PNG")[:-400], "cut.png", "image/png", 422),
    "png with html appended": (
        encoded(picture(300, 200), "PNG") + b"<html><script>alert(1)</script></html>",
        "poly.png",
        "image/png",
        422,
    ),
    "decompression bomb": (bomb_png(), "bomb.png", "image/png", 422),
    "plain text": (b"just text", "notes.jpg", "image/jpeg", 415),
}


@pytest.mark.parametrize("case", REJECTED, ids=list(REJECTED))
def test_what_is_not_a_real_image_is_refused_and_nothing_is_kept(
    client: FlaskClient,
    auth: dict[str, str],
    media_root: Path,
    row_counts: Callable[[], dict[str, int]],
    case: str,
) -> None:
    data, filename, content_type, status = REJECTED[case]
    before, files = row_counts(), stored_files(media_root)

    response = upload(client, auth, data, filename, content_type)

    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    assert "file" in response.json["errors"]
    assert row_counts() == before
    assert stored_files(media_root) == files


def test_an_oversized_upload_is_413(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    media_root: Path,
    row_counts: Callable[[], dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "IMAGE_MAX_BYTES", 50_000)
    before, files = row_counts(), stored_files(media_root)
    response = upload(client, auth, encoded(picture(600, 400), "PNG") + b"\0" * 60_000)
    assert response.status_code == 413
    assert response.json["code"] == "payload_too_large"
    assert (row_counts(), stored_files(media_root)) == (before, files)


def test_a_cover_srcset_lists_files_that_exist_at_their_sizes(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    image = upload(client, auth, encoded(picture(2400, 1350)), alt="Skyline").json
    article = ArticleFactory(cover_image_id=image["id"])

    got = client.get(f"/api/v1/articles/{article.id}?include=cover_image").json["cover_image"]

    assert (got["url"], got["width"], got["height"], got["alt"]) == (
        image["url"],
        2400,
        1350,
        "Skyline",
    )
    assert [c["width"] for c in got["srcset"] if c["format"] == "webp"] == [
        320,
        640,
        960,
        1280,
        1920,
    ]
    for candidate in got["srcset"]:
        served, _ = fetched(client, candidate["url"])
        assert served.size == (candidate["width"], candidate["height"])
    teaser = client.get(f"/api/v1/articles/{article.id}").json["cover_image"]
    assert teaser["url"].endswith("/1920.jpeg")


@pytest.mark.parametrize(("focal_y", "expected"), [(0.9, GREEN), (0.1, WHITE)])
def test_thumbnails_crop_around_the_focal_point(
    client: FlaskClient, auth: dict[str, str], focal_y: float, expected: tuple[int, int, int]
) -> None:
    portrait = Pillow.new("RGB", (900, 1600), WHITE)
    portrait.paste(GREEN, (0, 1200, 900, 1600))  # the subject is at the bottom
    image = upload(client, auth, encoded(portrait, "PNG"), focal_y=focal_y).json

    thumbnail = next(t for t in image["thumbnails"] if t["format"] == "png")
    served, _ = fetched(client, thumbnail["url"])
    assert served.size == (640, 360)
    assert served.convert("RGB").getpixel((320, 180)) == expected


def test_deleting_removes_files_unless_the_image_is_in_use(
    client: FlaskClient, auth: dict[str, str], media_root: Path
) -> None:
    image = upload(client, auth, encoded(picture(700, 500))).json
    url = f"/api/v1/images/{image['id']}"
    article = ArticleFactory(cover_image_id=image["id"])
    files = stored_files(media_root)
    assert any(f.startswith("originals/") for f in files)

    in_use = client.delete(url, headers={**auth, "If-Match": "*"})
    assert (in_use.status_code, in_use.json["code"]) == (409, "in_use")
    assert stored_files(media_root) == files

    edit = {**auth, "If-Match": "*"}
    assert (
        client.patch(
            f"/api/v1/articles/{article.id}", json={"cover_image_id": None}, headers=edit
        ).status_code
        == 200
    )
    assert client.delete(url, headers=edit).status_code == 204
    assert stored_files(media_root) == set()
    gone = client.get(image["srcset"][0]["url"])
    assert gone.status_code == 404


def test_originals_are_never_served(
    client: FlaskClient, auth: dict[str, str], media_root: Path
) -> None:
    upload(client, auth, rotated_jpeg())
    [original] = [f for f in stored_files(media_root) if f.startswith("originals/")]
    assert client.get(f"/media/{original}").status_code == 404
    assert client.get("/media/images/../originals/x").status_code == 404


def test_remote_images_are_kept_as_given(client: FlaskClient, auth: dict[str, str]) -> None:
    url = "https://images.example.com/photo.jpg?w=400&h=200&fit=crop"
    response = client.post("/api/v1/images", json={"url": url, "alt": "x"}, headers=auth)
    assert response.status_code == 201
    assert (response.json["url"], response.json["status"], response.json["srcset"]) == (
        url,
        "ready",
        [],
    )


def test_upload_metadata_is_validated(client: FlaskClient, auth: dict[str, str]) -> None:
    response = upload(client, auth, rotated_jpeg(), alt="bad\x00alt", focal_x=2)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"metadata.alt", "metadata.focal_x"}
    # JSON types, not form text: a focal point in quotes is not a number.
    quoted = upload(client, auth, rotated_jpeg(), focal_x="0.5")
    assert set(quoted.json["errors"]) == {"metadata.focal_x"}
    missing = client.post(
        "/api/v1/images",
        data={"metadata": json.dumps({"alt": "x"})},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert (missing.status_code, list(missing.json["errors"])) == (422, ["file"])


@pytest.mark.parametrize(
    "form",
    [
        {"alt": "a loose text part"},  # the old shape: fields beside the file
        {"metadata": "not json"},
        {"metadata": "[1]"},
        {"metadata": json.dumps({"alt": "x", "extra": 1})},
    ],
)
def test_upload_parts_other_than_file_and_metadata_are_refused(
    client: FlaskClient,
    auth: dict[str, str],
    row_counts: Callable[[], dict[str, int]],
    form: dict[str, str],
) -> None:
    before = row_counts()
    files = {"file": (io.BytesIO(rotated_jpeg()), "photo.jpg", "image/jpeg")}
    response = client.post(
        "/api/v1/images/upload",
        data={**files, **form},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.json
    assert row_counts() == before


def test_background_rendering_answers_at_once_and_finishes(
    app: Flask, client: FlaskClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "IMAGE_RENDERING", "background")
    response = upload(client, auth, encoded(picture(1600, 1000)))
    assert response.status_code == 201
    assert (response.json["status"], response.json["srcset"]) == ("processing", [])
    url = f"/api/v1/images/{response.json['id']}"
    assert client.get(url, headers=auth).json["status"] == "processing"  # until a worker runs

    assert run_jobs() == 1  # the render job, as a worker would run it
    image = client.get(url, headers=auth).json
    assert image["status"] == "ready"
    assert len(image["srcset"]) == 15  # 5 widths x 3 formats


@pytest.fixture
def s3(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real S3-compatible server (moto's) on 127.0.0.1, as the app's storage."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="media")
    # What a deployment does for a media bucket: anyone may read its objects.
    client.put_bucket_policy(
        Bucket="media",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::media/*",
                    }
                ],
            }
        ),
    )
    local = app.extensions["storage"]
    app.extensions["storage"] = storage_from_url(f"s3://media/cms?endpoint_url={endpoint}")
    yield client
    app.extensions["storage"] = local
    server.stop()


def test_s3_storage_holds_the_renditions(
    client: FlaskClient, auth: dict[str, str], s3: Any
) -> None:
    image = upload(client, auth, rotated_jpeg()).json
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="media").get("Contents", [])}
    assert len(keys) == 6 + 3 + 1  # 2 widths x 3 formats, 3 thumbnails, the original

    for candidate in image["srcset"]:
        assert candidate["url"].startswith("http://127.0.0.1:")
        with urllib.request.urlopen(candidate["url"]) as answer:  # noqa: S310 - loopback
            served = Pillow.open(io.BytesIO(answer.read()))
            assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert served.size == (candidate["width"], candidate["height"])

    deleted = client.delete(f"/api/v1/images/{image['id']}", headers={**auth, "If-Match": "*"})
    assert deleted.status_code == 204
    assert s3.list_objects_v2(Bucket="media").get("KeyCount") == 0


def test_render_command_finishes_uploads_a_restart_interrupted(
    app: Flask, client: FlaskClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "IMAGE_RENDERING", "background")
    # No worker runs the queued job (the queue is flushed after the test).
    image_id = upload(client, auth, rotated_jpeg()).json["id"]
    assert client.get(f"/api/v1/images/{image_id}", headers=auth).json["status"] == "processing"

    result = app.test_cli_runner().invoke(args=["cms", "render-images"])

    assert result.exit_code == 0, result.output
    assert "Rendered 1 of 1 images, 0 failed." in result.output
    image = client.get(f"/api/v1/images/{image_id}", headers=auth).json
    assert (image["status"], len(image["srcset"])) == ("ready", 6)


def test_dot_segments_cannot_reach_the_originals(
    client: FlaskClient, auth: dict[str, str], media_root: Path
) -> None:
    upload(client, auth, rotated_jpeg())
    [original] = [f for f in stored_files(media_root) if f.startswith("originals/")]
    for spelling in ("..", "%2e%2e", "%2E."):
        response = client.get(f"/media/images/{spelling}/{original}")
        assert response.status_code == 404, spelling


def test_a_png_with_a_text_bomb_is_refused(client: FlaskClient, auth: dict[str, str]) -> None:
    text = zlib.compress(b"a" * 50_000_000)  # a zTXt chunk that inflates to 50 MB
    png = encoded(picture(10, 10), "PNG")
    body = b"Comment\x00\x00" + text
    chunk = struct.pack(">I", len(body)) + b"zTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"zTXt" + body))
    bomb = png[:33] + chunk + png[33:]  # after the 8-byte signature and the IHDR chunk
    response = upload(client, auth, bomb, "bomb.png", "image/png")
    assert response.status_code == 422
    assert response.json["code"] == "invalid_image"


def test_a_large_turned_photo_still_gets_full_width_renditions(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    exif = Pillow.Exif()
    exif[0x0112] = 6
    stored = encoded(picture(4000, 2400), exif=exif)  # shown 2400 wide, 4000 high
    image = upload(client, auth, stored).json
    assert (image["width"], image["height"]) == (2400, 4000)
    assert max(c["width"] for c in image["srcset"]) == 1920
