"""Images: cover images and other media, remote (a URL kept as given) or uploaded.

An uploaded image is re-encoded into renditions (several widths, WebP, AVIF and its own
format, plus a focal-point thumbnail); what is served is never the uploaded file.
"""

import enum

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms.models.base import Base, Timestamped, Versioned, string_enum


class ImageStatus(enum.StrEnum):
    READY = "ready"
    PROCESSING = "processing"  # renditions are being made
    FAILED = "failed"


class Rendition(Base):
    __tablename__ = "image_renditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    # "width": a srcset candidate; "thumbnail": the fixed-ratio crop around the focal point.
    kind: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(8))  # jpeg, png, webp, avif
    width: Mapped[int]
    height: Mapped[int]
    bytes: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(300))  # in the storage


class Image(Timestamped, Versioned, Base):
    __tablename__ = "images"
    __table_args__ = (
        CheckConstraint("focal_x BETWEEN 0 AND 1 AND focal_y BETWEEN 0 AND 1", name="focal_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    width: Mapped[int | None]
    height: Mapped[int | None]
    alt: Mapped[str] = mapped_column(String(500), default="")
    caption: Mapped[str | None] = mapped_column(Text)
    credit: Mapped[str | None] = mapped_column(String(500))
    license: Mapped[str | None] = mapped_column(String(200))

    status: Mapped[ImageStatus] = mapped_column(
        string_enum(ImageStatus, "image_status"), default=ImageStatus.READY
    )
    # Uploads only: where its files live (a random folder name), what was uploaded.
    storage_prefix: Mapped[str | None] = mapped_column(String(64), unique=True)
    source_format: Mapped[str | None] = mapped_column(String(8))
    source_bytes: Mapped[int | None] = mapped_column(Integer)
    # The point (0..1 from the left and top) that crops keep in view.
    focal_x: Mapped[float] = mapped_column(Float, default=0.5)
    focal_y: Mapped[float] = mapped_column(Float, default=0.5)
    error: Mapped[str | None] = mapped_column(Text)

    renditions: Mapped[list[Rendition]] = relationship(
        order_by=(Rendition.kind, Rendition.format, Rendition.width),
        cascade="all, delete-orphan",
    )

    @property
    def srcset(self) -> list[Rendition]:
        return sorted(
            (r for r in self.renditions if r.kind == "width"), key=lambda r: (r.width, r.format)
        )

    @property
    def thumbnails(self) -> list[Rendition]:
        return [r for r in self.renditions if r.kind == "thumbnail"]
