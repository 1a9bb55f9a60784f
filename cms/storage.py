"""Where media files live: one small interface, a local folder or an S3-compatible bucket.

STORAGE_URL picks it:
- `file:///srv/cms/media` (the default, under the instance folder): served by the app
  at /media/<key>.
- `s3://bucket/optional/prefix?endpoint_url=http://127.0.0.1:9000&region=us-east-1
  &public_url=https://cdn.example.com/`: boto3, credentials from the usual AWS
  environment. endpoint_url is for MinIO, R2 and the like; public_url is where readers
  fetch the files (default: the endpoint's path-style bucket URL).

Keys are relative paths the application makes ("images/<random>/640.webp"): files are
written once and never change, so they are cached as immutable. The random part (128
bits, cms.services.media.new_prefix) makes each URL a capability: a draft's cover is
public only to whoever was shown its URL. So nothing may list keys: a bucket grants
readers s3:GetObject, never s3:ListBucket.
"""

import errno
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from flask import Flask, current_app

IMMUTABLE = "public, max-age=31536000, immutable"
_KEY = re.compile(r"^[a-z0-9]+(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$")


class StorageFullError(OSError):
    """The storage has no room for a file (disk full, or over quota)."""


# What the kernel says when a write does not fit: no space left, quota exceeded.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, keys: Iterable[str]) -> None: ...
    def url(self, key: str) -> str: ...


def checked(key: str) -> str:
    """Keys come from the application, but a path is a path: no "..", no absolute."""
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    def __init__(self, root: Path, base_url: str = "/media/") -> None:
        self.root = root
        self.base_url = base_url

    def path(self, key: str) -> Path:
        return self.root / checked(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_new(path, data)
        except OSError as error:
            if error.errno in FULL_ERRNOS:
                raise StorageFullError(error.errno, error.strerror) from error
            raise

    def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            path = self.path(key)
            path.unlink(missing_ok=True)
            if path.parent != self.root and not any(path.parent.iterdir()):
                path.parent.rmdir()

    def url(self, key: str) -> str:
        return self.base_url + checked(key)


def _write_new(path: Path, data: bytes) -> None:
    """Write, then rename into place: a reader never sees half a file, and a write that
    fails (the disk full) leaves no part of one behind."""
    handle = tempfile.NamedTemporaryFile(dir=path.parent, delete=False)  # noqa: SIM115
    try:
        with handle:
            handle.write(data)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


class S3Storage:
    def __init__(self, url: str) -> None:
        import boto3  # only deployments that use S3 pay for importing it

        parts = urlsplit(url)
        options = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
        endpoint = options.get("endpoint_url")
        self.client: Any = boto3.client(
            "s3", endpoint_url=endpoint, region_name=options.get("region", "us-east-1")
        )
        default_public = (
            f"{endpoint.rstrip('/')}/{self.bucket}/"
            if endpoint
            else f"https://{self.bucket}.s3.amazonaws.com/"
        )
        self.public_url = options.get("public_url", default_public)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.prefix + checked(key),
            Body=data,
            ContentType=content_type,
            CacheControl=IMMUTABLE,
        )

    def get(self, key: str) -> bytes:
        answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + checked(key))
        return bytes(answer["Body"].read())

    def delete(self, keys: Iterable[str]) -> None:
        objects = [{"Key": self.prefix + checked(key)} for key in keys]
        for start in range(0, len(objects), 1000):  # the API's batch limit
            self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": objects[start : start + 1000]}
            )

    def url(self, key: str) -> str:
        return self.public_url + self.prefix + checked(key)


def storage_from_url(url: str) -> Storage:
    scheme = urlsplit(url).scheme
    if scheme == "file":
        return LocalStorage(Path(urlsplit(url).path))
    if scheme == "s3":
        return S3Storage(url)
    raise ValueError(f"STORAGE_URL must be file:// or s3://, not {url!r}")


def init_storage(app: Flask) -> None:
    app.extensions["storage"] = storage_from_url(app.config["STORAGE_URL"])


def storage() -> Storage:
    found: Storage = current_app.extensions["storage"]
    return found
