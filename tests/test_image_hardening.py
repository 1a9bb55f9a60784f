"""Issue 10: every accepted image renders in every format (finding 10), and the image
library is not a side door to drafts' covers (the draft-cover decision)."""

import io
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image as Pillow

from cms.models import Role
from cms.services.media import rendition_sizes
from tests.conftest import edit
from tests.factories import ArticleFactory, ImageFactory

# The longest side each format's encoder writes and decoder reads back (measured with
# Pillow 13: WebP's bitstream limit, libavif's default decoder limit, libjpeg-turbo's).
FORMAT_LIMITS = {"webp": 16_383, "avif": 32_768, "jpeg": 65_500, "png": 2**31 - 1}
# Extreme shapes, each cheap in bytes (one bit per pixel) and within IMAGE_MAX_PIXELS.
SHAPES = [(1, 20_000), (20_000, 1), (600, 17_000), (17_000, 600), (2, 40_000)]


@pytest.fixture(autouse=True)
def _empty_storage(media_root: Path) -> Iterator[None]:
    yield
    shutil.rmtree(media_root)
    media_root.mkdir()


def bilevel(width: int, height: int) -> bytes:
    """A black-and-white PNG (a dark corner, so there is something to scale)."""
    picture = Pillow.new("1", (width, height), 1)
    picture.paste(0, (0, 0, max(1, width // 2), max(1, height // 2)))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def upload(client: FlaskClient, headers: dict[str, str], data: bytes) -> Any:
    form = {
        "file": (io.BytesIO(data), "image.bin", "application/octet-stream"),
        "metadata": json.dumps({"alt": "x"}),
    }
    return client.post(
        "/api/v1/images", data=form, headers=headers, content_type="multipart/form-data"
    )


def served(client: FlaskClient, url: str) -> Pillow.Image:
    response = client.get(url)
    data = response.data
    response.close()
    assert response.status_code == 200, url
    picture = Pillow.open(io.BytesIO(data))
    picture.load()  # the whole file decodes, not just its header
    return picture


@pytest.mark.parametrize(("width", "height"), SHAPES)
def test_every_accepted_image_renders_in_every_format(
    client: FlaskClient, auth: dict[str, str], width: int, height: int
) -> None:
    # Accepted, not refused: a long infographic is a newsroom staple. Renditions that
    # would pass their format's limit are scaled down to fit.
    response = upload(client, auth, bilevel(width, height))

    assert response.status_code == 201, response.json
    image = response.json
    assert (image["status"], image["error"]) == ("ready", None)
    assert (image["width"], image["height"]) == (width, height)
    formats = {"png", "webp", "avif"}
    assert {r["format"] for r in image["srcset"]} == formats
    assert {r["format"] for r in image["thumbnails"]} == formats
    for rendition in image["srcset"] + image["thumbnails"]:
        picture = served(client, rendition["url"])
        assert picture.size == (rendition["width"], rendition["height"])
        assert picture.format.lower() == rendition["format"]
        assert max(picture.size) <= FORMAT_LIMITS[rendition["format"]]
        assert rendition["width"] <= width  # never upscaled
    # Its own format has no practical limit: its widest is the layout's widest.
    assert max(r["width"] for r in image["srcset"] if r["format"] == "png") == min(width, 1920)


@pytest.mark.parametrize("fmt", FORMAT_LIMITS)
@pytest.mark.parametrize(
    ("width", "height"), [*SHAPES, (1, 50_000_000), (50_000_000, 1), (7_000, 7_000)]
)
def test_every_rendition_size_fits_its_format(fmt: str, width: int, height: int) -> None:
    sizes = rendition_sizes(width, height, fmt)

    assert sizes
    assert all(max(size) <= FORMAT_LIMITS[fmt] and min(size) >= 1 for size in sizes)
    assert all(w <= width and h <= height for w, h in sizes)
    assert len({w for w, _ in sizes}) == len(sizes)  # a width names the file


def login(client: FlaskClient, make_user: Callable[..., Any], role: Role) -> dict[str, str]:
    user = make_user(role)
    body = client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": "correct horse battery"}
    ).json
    return {"Authorization": f"Bearer {body['access_token']}"}


def anonymous_reads(client: FlaskClient, article_id: int) -> str:
    """Everything an anonymous reader gets about articles, as one text."""
    urls = [
        "/api/v1/articles",
        "/api/v1/articles?include=cover_image",
        "/api/v1/articles?status=draft",
        f"/api/v1/articles/{article_id}",
        "/api/v1/pages",
    ]
    return " ".join(client.get(url).get_data(as_text=True) for url in urls)


def test_draft_only_cover_images_are_not_readable_anonymously(
    client: FlaskClient, auth: dict[str, str], make_user: Callable[..., Any]
) -> None:
    cover = upload(client, auth, bilevel(800, 450)).json
    article = client.post(
        "/api/v1/articles", json={"title": "Embargoed", "cover_image_id": cover["id"]}, headers=auth
    ).json
    assert article["status"] == "draft"
    prefix = cover["url"].split("/")[-2]
    ArticleFactory(title="On the record", cover_image=ImageFactory())

    for url in ("/api/v1/images", f"/api/v1/images/{cover['id']}"):
        refused = client.get(url, headers={"If-None-Match": "*"})
        assert refused.status_code == 401, url
        assert refused.mimetype == "application/problem+json"
    text = anonymous_reads(client, article["id"])
    assert "On the record" in text  # the reads worked: the published article is there
    assert prefix not in text
    assert "Embargoed" not in text
    for listing in ("/media/images/", f"/media/images/{prefix}", f"/media/images/{prefix}/"):
        assert client.get(listing).status_code == 404, listing

    for role in (Role.CONTRIBUTOR, Role.EDITOR):
        headers = login(client, make_user, role)
        assert client.get(f"/api/v1/images/{cover['id']}", headers=headers).status_code == 200
        listed = client.get("/api/v1/images", headers=headers).json["data"]
        assert cover["id"] in [i["id"] for i in listed]

    url = f"/api/v1/articles/{article['id']}"
    assert edit(client, url, json={"status": "published"}, headers=auth).status_code == 200
    shown = client.get(url).json["cover_image"]
    assert (shown["id"], shown["url"]) == (cover["id"], cover["url"])
    assert served(client, shown["url"]).size == (800, 450)  # renditions: capability URLs
    assert client.get(f"/api/v1/images/{cover['id']}").status_code == 401
