"""Uploaded images: refuse what is not a real raster image, then re-encode renditions.

Validation trusts only Pillow's reading of the bytes (never the file name or the
Content-Type): the format must be one of FORMATS, the pixel count is checked from the
header before anything is decoded (decompression bombs), the whole image is then
decoded (truncated files fail here), and files carrying markup are refused (polyglots
that a browser could be talked into reading as HTML or SVG).

Renditions are made from the decoded pixels with EXIF orientation applied and no
metadata copied, so nothing served is the uploaded file. Large photos take seconds
(AVIF above all), which is why this runs as a job (cms.jobs). Any shape that passes
validation renders: a rendition that would be longer than its format allows
(MAX_SIDE; a tall infographic in WebP) is scaled down to fit instead.
"""

import io
import math
import re
import secrets
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cms.models import Image, ImageStatus, Rendition
from cms.services import DbSession
from cms.storage import Storage, StorageFullError

# Pillow is imported by the work on pixels (an upload, the rendering job): it costs each
# web worker 2 MiB, and the image URLs that every article read needs do not use it.
if TYPE_CHECKING:
    from PIL import Image as Pillow

# MPO: cameras' JPEGs with extra embedded pictures (Pillow names them apart).
FORMATS = {
    "JPEG": "jpeg",
    "MPO": "jpeg",
    "PNG": "png",
    "WEBP": "webp",
    "AVIF": "avif",
    "GIF": "gif",
}
WIDTHS = (320, 640, 960, 1280, 1920)
THUMBNAIL = (640, 360)  # 16:9, cropped around the focal point: fits every MAX_SIDE
# The longest side each format takes, as Pillow 13 writes and reads it back: WebP's
# bitstream stops at 16383; libavif writes up to 65535 but will not decode past 32768
# (its default dimension limit); libjpeg-turbo stops at 65500; PNG allows 2**31 - 1.
MAX_SIDE = {"jpeg": 65_500, "png": 2**31 - 1, "webp": 16_383, "avif": 32_768}
CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
}
_ENCODE: dict[str, tuple[str, dict[str, Any]]] = {
    "jpeg": ("JPEG", {"quality": 82, "optimize": True, "progressive": True}),
    "png": ("PNG", {"optimize": True}),
    "webp": ("WEBP", {"quality": 80, "method": 4}),
    "avif": ("AVIF", {"quality": 60, "speed": 8}),
}
_MARKUP = re.compile(rb"<(?:script|html|svg|body|iframe|\?php|!doctype)", re.IGNORECASE)


class RejectedImageError(Exception):
    """Not an image this CMS takes; `status` is the HTTP status (415 or 422)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Inspected:
    format: str  # jpeg, png, webp, avif, gif
    width: int  # as displayed (EXIF orientation applied)
    height: int


def inspect_upload(data: bytes, max_pixels: int) -> Inspected:
    """What the bytes are, if they are an image we take; else RejectedImageError."""
    from PIL import Image as Pillow
    from PIL import ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        # Our pixel cap comes first; Pillow's own bomb check is the backstop.
        warnings.simplefilter("ignore", Pillow.DecompressionBombWarning)
        try:
            image = Pillow.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise RejectedImageError(
                415, "unsupported_image", "Not a JPEG, PNG, WebP, AVIF or GIF image."
            ) from None
        except Pillow.DecompressionBombError:
            raise _too_large(max_pixels) from None
        except (OSError, ValueError, SyntaxError, EOFError) as error:  # e.g. huge text chunks
            raise RejectedImageError(422, "invalid_image", f"Broken image: {error}") from None
        with image:
            if image.format not in FORMATS:
                raise RejectedImageError(415, "unsupported_image", f"{image.format} is not taken.")
            if _MARKUP.search(data):  # an image that is also a page: a polyglot
                raise RejectedImageError(
                    422, "invalid_image", "The file carries markup (HTML/SVG/script)."
                )
            if image.width * image.height > max_pixels:
                raise _too_large(max_pixels)
            try:
                image.load()  # every byte decoded: truncated or corrupt files stop here
            except (OSError, SyntaxError, ValueError) as error:
                raise RejectedImageError(422, "invalid_image", f"Broken image: {error}") from None
            upright = ImageOps.exif_transpose(image) if _rotated(image) else image
            return Inspected(FORMATS[image.format], upright.width, upright.height)


def new_prefix() -> str:
    return secrets.token_hex(16)


def original_key(image: Image) -> str:
    return f"originals/{image.storage_prefix}/source"


def render_image(session: DbSession, store: Storage, image: Image) -> None:
    """Make and store the renditions of an uploaded image; mark it ready (or failed)."""
    from PIL import Image as Pillow
    from PIL import ImageOps

    written: list[str] = []
    try:
        with Pillow.open(io.BytesIO(store.get(original_key(image)))) as source:
            source.seek(0)  # animated GIFs: the first frame
            picture = _upright_pixels(source)
        formats = _formats(image.source_format or "jpeg", picture)
        renditions = [
            _store(store, image, picture.resize(size), "width", fmt, written)
            for fmt in formats
            for size in rendition_sizes(picture.width, picture.height, fmt)
        ]
        thumb = ImageOps.fit(
            picture,
            _thumbnail_size(picture),
            method=Pillow.Resampling.LANCZOS,
            centering=(image.focal_x, image.focal_y),
        )
        renditions += [_store(store, image, thumb, "thumbnail", f, written) for f in formats]
    except Exception as error:
        store.delete(written)
        if isinstance(error, StorageFullError):
            raise  # no fault of the image's: it stays unrendered, to be rendered again
        image.status, image.error = ImageStatus.FAILED, f"Could not render: {error}"
        return
    image.renditions = renditions
    largest = max(
        (r for r in renditions if r.kind == "width" and r.format == formats[0]),
        key=lambda r: r.width,
    )
    image.url = store.url(largest.key)
    image.status, image.error = ImageStatus.READY, None


def rendition_keys(image: Image) -> list[str]:
    keys = [r.key for r in image.renditions]
    return [*keys, original_key(image)] if image.storage_prefix else keys


def _rotated(image: "Pillow.Image") -> bool:
    return bool(image.getexif().get(0x0112, 1) != 1)


def _quarter_turned(image: "Pillow.Image") -> bool:
    return image.getexif().get(0x0112, 1) in (5, 6, 7, 8)


def _upright_pixels(source: "Pillow.Image") -> "Pillow.Image":
    """Decoded, EXIF orientation applied, in a mode every encoder takes. JPEGs are
    decoded at a reduced scale when that still covers the largest width (faster)."""
    from PIL import ImageOps

    if source.format in ("JPEG", "MPO"):
        # Displayed width: the stored height when EXIF turns the picture a quarter.
        shown_width = source.height if _quarter_turned(source) else source.width
        scale = min(1.0, max(WIDTHS) / shown_width)
        source.draft("RGB", (math.ceil(source.width * scale), math.ceil(source.height * scale)))
    picture = ImageOps.exif_transpose(source)
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
    return picture.convert("RGBA" if has_alpha else "RGB")


def _formats(source_format: str, picture: "Pillow.Image") -> list[str]:
    """The upload's own format first (GIF becomes PNG: renditions are stills), then the
    modern ones. JPEG cannot keep transparency, so it is not offered for such images."""
    own = "png" if source_format == "gif" else source_format
    if own == "jpeg" and picture.mode == "RGBA":
        own = "png"
    return list(dict.fromkeys([own, "webp", "avif"]))


def rendition_sizes(width: int, height: int, fmt: str) -> list[tuple[int, int]]:
    """The srcset sizes of a `width` x `height` picture in `fmt`: each layout width,
    shrunk further where a side would pass what the format holds (a 600 x 17,000
    infographic's 320 px rendition is 9,067 px tall, its 600 px one too tall for WebP:
    578 x 16,383). Shrunk widths can coincide, and a width names the file: one each."""
    sizes = (_within(_fit(width, height, w), MAX_SIDE[fmt]) for w in _widths(width))
    return list({size[0]: size for size in sizes}.values())


def _widths(width: int) -> list[int]:
    """News layout widths up to the image's own, never upscaled (a small image: its own)."""
    widths = [w for w in WIDTHS if w < width]
    largest = min(width, WIDTHS[-1])
    return widths if largest in widths else [*widths, largest]


def _fit(width: int, height: int, new_width: int) -> tuple[int, int]:
    return new_width, max(1, round(height * new_width / width))


def _within(size: tuple[int, int], limit: int) -> tuple[int, int]:
    """Scaled down (aspect kept, as far as whole pixels allow) until no side passes `limit`."""
    width, height = size
    scale = min(1.0, limit / width, limit / height)
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def _thumbnail_size(picture: "Pillow.Image") -> tuple[int, int]:
    width = min(THUMBNAIL[0], picture.width, round(picture.height * 16 / 9))
    return width, max(1, round(width * 9 / 16))


def _store(
    store: Storage, image: Image, picture: "Pillow.Image", kind: str, fmt: str, written: list[str]
) -> Rendition:
    encoder, options = _ENCODE[fmt]
    frame = picture.convert("RGB") if fmt == "jpeg" else picture
    buffer = io.BytesIO()
    frame.save(buffer, encoder, **options)
    data = buffer.getvalue()
    name = f"thumb-{picture.width}" if kind == "thumbnail" else str(picture.width)
    key = f"images/{image.storage_prefix}/{name}.{fmt}"
    store.put(key, data, CONTENT_TYPES[fmt])
    written.append(key)
    return Rendition(
        kind=kind, format=fmt, width=picture.width, height=picture.height, bytes=len(data), key=key
    )


def _too_large(max_pixels: int) -> RejectedImageError:
    return RejectedImageError(
        422, "image_too_large", f"Over {max_pixels:,} pixels (a decompression bomb?)."
    )
