"""Fetching remote documents (feeds, source pages) without becoming an SSRF proxy.

Every hop (the first request and each redirect) resolves the host, refuses it unless
every address it resolves to is public (or allow-listed), and then connects to the
address it checked, so a DNS answer that changes between check and connect cannot
smuggle in an internal one. The whole fetch has one deadline and one byte cap,
decompressed bytes included.
"""

import http.client
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

REDIRECTS = {301, 302, 303, 307, 308}
_CHUNK = 64 * 1024


class FetchError(Exception):
    """A fetch that did not give a document; `code` says why (stored on feeds)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status  # the HTTP status, when the server answered with an error


@dataclass(frozen=True)
class AllowedAddress:
    """A network private addresses may be fetched from, optionally on one port only."""

    network: IPNetwork
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> "AllowedAddress":
        """ "10.0.0.0/8", "127.0.0.1:8080" or "[::1]:8080"."""
        text = text.strip()
        if text.startswith("["):
            address, _, port = text[1:].partition("]:")
            return cls(ipaddress.ip_network(address.rstrip("]")), int(port) if port else None)
        if text.count(":") == 1:
            address, port = text.split(":")
            return cls(ipaddress.ip_network(address), int(port))
        return cls(ipaddress.ip_network(text))

    def admits(self, address: IPAddress, port: int) -> bool:
        return address in self.network and self.port in (None, port)


@dataclass(frozen=True)
class FetchPolicy:
    timeout: float = 10.0
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    allowed: tuple[AllowedAddress, ...] = ()
    user_agent: str = "news-cms/0.1 (+feed ingest)"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "FetchPolicy":
        return cls(
            timeout=config["FETCH_TIMEOUT"],
            max_bytes=config["FETCH_MAX_BYTES"],
            allowed=tuple(AllowedAddress.parse(entry) for entry in config["FETCH_ALLOW"]),
        )


@dataclass
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 when the validators sent still hold
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def fetch(
    url: str,
    policy: FetchPolicy,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """GET `url` (conditionally when validators are given), following safe redirects."""
    deadline = time.monotonic() + policy.timeout
    headers = {"User-Agent": policy.user_agent, "Accept-Encoding": "gzip", "Accept": "*/*"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for _ in range(policy.max_redirects + 1):
        connection, path = _connect(url, policy, deadline)
        response = None
        try:
            response, sock = _request(connection, path, headers, deadline)
            if response.status in REDIRECTS and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location", ""))
                continue
            received = {name.lower(): value for name, value in response.getheaders()}
            if response.status == 304:
                return Fetched(url, 304, headers=received)
            if response.status != 200:
                raise FetchError(
                    "http_status", f"HTTP {response.status} from {url}", response.status
                )
            body = _read_body(response, sock, received, policy.max_bytes, deadline)
            return Fetched(url, 200, body, received)
        finally:
            if response is not None:
                response.close()
            connection.close()
    raise FetchError("too_many_redirects", f"More than {policy.max_redirects} redirects.")


def _connect(
    url: str, policy: FetchPolicy, deadline: float
) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("bad_url", f"Only http and https URLs can be fetched: {url!r}.")
    if parts.username or parts.password:
        raise FetchError("bad_url", "URLs with credentials are not fetched.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchError("bad_url", f"Bad port in {url!r}.") from None
    address = _checked_address(parts.hostname, port, policy)
    timeout = _remaining(deadline)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(parts.hostname, port, address, timeout)
    else:
        connection = _PinnedHTTPConnection(parts.hostname, port, address, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return connection, path


def _checked_address(host: str, port: int, policy: FetchPolicy) -> str:
    """The address to connect to: every address the host resolves to must be allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise FetchError("dns_failed", f"Cannot resolve {host}: {error}") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        if not _allowed(ipaddress.ip_address(address.split("%")[0]), port, policy):
            raise FetchError(
                "blocked_address",
                f"{host} resolves to {address}, a private, loopback, link-local or reserved "
                "address: refused.",
            )
    return addresses[0]


def _allowed(address: IPAddress, port: int, policy: FetchPolicy) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(entry.admits(address, port) for entry in policy.allowed):
        return True
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _request(
    connection: http.client.HTTPConnection, path: str, headers: dict[str, str], deadline: float
) -> tuple[http.client.HTTPResponse, socket.socket]:
    """The response and its socket: the connection may let go of the socket once the
    response has it, and the body is still read under the deadline."""
    try:
        connection.request("GET", path, headers=headers)
        assert connection.sock is not None
        sock = connection.sock
        sock.settimeout(_remaining(deadline))
        return connection.getresponse(), sock
    except TimeoutError:
        raise FetchError("timeout", "The server did not answer in time.") from None
    except (OSError, http.client.HTTPException) as error:
        raise FetchError("connection_failed", f"Connection failed: {error}") from None


def _read_body(
    response: http.client.HTTPResponse,
    sock: socket.socket,
    headers: dict[str, str],
    cap: int,
    deadline: float,
) -> bytes:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError("too_large", f"The document is over {cap} bytes.")
    chunks = _chunks(response, sock, deadline)
    if headers.get("content-encoding", "").lower() == "gzip":
        return _gunzip(chunks, cap)
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > cap:
            raise FetchError("too_large", f"The document is over {cap} bytes.")
    return bytes(body)


def _chunks(
    response: http.client.HTTPResponse, sock: socket.socket, deadline: float
) -> Iterator[bytes]:
    try:
        while True:
            sock.settimeout(_remaining(deadline))
            chunk = response.read1(_CHUNK)
            if not chunk:
                return
            yield chunk
    except TimeoutError:
        raise FetchError("timeout", "The document did not arrive in time.") from None
    except (OSError, http.client.HTTPException) as error:
        raise FetchError("connection_failed", f"Reading failed: {error}") from None


def _gunzip(chunks: Iterator[bytes], cap: int) -> bytes:
    """Decompress with the cap applied to the output: a gzip bomb stops at `cap`."""
    decompressor = zlib.decompressobj(wbits=31)
    body = bytearray()
    try:
        for chunk in chunks:
            body += decompressor.decompress(chunk, cap + 1 - len(body))
            if len(body) > cap or decompressor.unconsumed_tail:
                raise FetchError("too_large", f"The document is over {cap} bytes unpacked.")
    except zlib.error as error:
        raise FetchError("bad_encoding", f"Broken gzip data: {error}") from None
    return bytes(body)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("timeout", "The fetch took longer than allowed.")
    return left


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, still sending the URL's Host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
