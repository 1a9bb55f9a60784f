"""Fetching remote documents (feeds, source pages), and posting to webhook receivers,
without becoming an SSRF proxy.

Every hop (the first request and each redirect) resolves the host, refuses it unless
every address it resolves to is public (or allow-listed), and then connects to the
address it checked, so a DNS answer that changes between check and connect cannot
smuggle in an internal one. The whole fetch has one deadline, kept by a watchdog that
shuts the socket when it passes (a server sending one byte at a time cannot hold a
worker), and one byte cap, decompressed bytes included. (Name resolution is the
system resolver's, with its own timeouts.)
"""

import http.client
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, quote, urljoin, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

REDIRECTS = {301, 302, 303, 307, 308}
_CHUNK = 64 * 1024
# IPv6 ranges Python counts as global that can still lead inside: deprecated site-local,
# and the 6to4 / NAT64 prefixes that embed an IPv4 address (169.254.169.254, say).
_TUNNELS = tuple(
    ipaddress.ip_network(n) for n in ("fec0::/10", "2002::/16", "64:ff9b::/96", "64:ff9b:1::/48")
)


class FetchError(Exception):
    """A fetch that did not give a document; `code` says why (stored on feeds)."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status  # the HTTP status, when the server answered with an error
        self.headers = dict(headers or {})  # that answer's (Retry-After, say), lower-case


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
    status: int  # fetch: 200, or 304 when the validators sent still hold; post: any
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
    headers = {"User-Agent": policy.user_agent, "Accept-Encoding": "gzip", "Accept": "*/*"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    with Deadline(policy.timeout) as deadline:
        for _ in range(policy.max_redirects + 1):
            with _exchange(url, policy, deadline, "GET", headers) as response:
                location = response.getheader("Location")
                if response.status in REDIRECTS and location:
                    url = _redirected(url, location)
                    continue
                received = _headers(response)
                if response.status == 304:
                    return Fetched(url, 304, headers=received)
                if response.status != 200:
                    raise FetchError(
                        "http_status",
                        f"HTTP {response.status} from {url}",
                        response.status,
                        received,
                    )
                with deadline.guard("The document did not arrive in time."):
                    body = _read_body(response, received, policy.max_bytes)
                deadline.check("The document did not arrive in time.")
                return Fetched(url, 200, body, received)
    raise FetchError("too_many_redirects", f"More than {policy.max_redirects} redirects.")


def post(
    url: str,
    policy: FetchPolicy,
    *,
    body: bytes,
    headers: Mapping[str, str],
    excerpt_bytes: int = 1024,
) -> Fetched:
    """POST a JSON `body` to `url` under the same address checks and deadline as `fetch`,
    and give the answer whatever its status, with the first `excerpt_bytes` of its body.

    Redirects are not followed: a 3xx comes back as it is, for the caller to count as a
    failure (a webhook receiver that moved is for an admin to change; following would
    send the signed body wherever a Location points)."""
    sent = {"User-Agent": policy.user_agent, "Content-Type": "application/json", **headers}
    with (
        Deadline(policy.timeout) as deadline,
        _exchange(url, policy, deadline, "POST", sent, body) as response,
    ):
        with deadline.guard("The answer did not arrive in time."):
            excerpt = response.read(excerpt_bytes)
        deadline.check("The answer did not arrive in time.")
        return Fetched(url, response.status, excerpt, _headers(response))


def check_target(url: str, policy: FetchPolicy) -> None:
    """Refuse (FetchError) a URL that could not be fetched or posted to: not http(s),
    with credentials, or a host resolving to an address the policy does not allow. For
    checks at the time a URL is saved; every request checks again."""
    _resolved(url, policy)


class Deadline:
    """One deadline for a whole fetch. Socket timeouts alone bound each read, not the
    sum of them: at the deadline a timer shuts the socket in use, whatever it waits on."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "Deadline":
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0 or self.expired:
            raise FetchError("timeout", "The fetch took longer than allowed.")
        return left

    def watch(self, sock: socket.socket) -> socket.socket:
        self._sock = sock
        if self.expired:  # the timer fired before this socket existed
            self._expire()
        return sock

    def _expire(self) -> None:
        self.expired = True
        if self._sock is not None:
            with suppress(OSError):  # already closed
                self._sock.shutdown(socket.SHUT_RDWR)

    def check(self, message: str) -> None:
        """After reading: a socket shut by the watchdog reads as a clean end of data."""
        if self.expired:
            raise FetchError("timeout", message)

    @contextmanager
    def guard(self, message: str) -> Iterator[None]:
        """Network errors inside become FetchErrors (a timeout once the deadline passed)."""
        try:
            yield
        except FetchError:
            raise
        except (TimeoutError, OSError, http.client.HTTPException, ValueError) as error:
            if self.expired or isinstance(error, TimeoutError):
                raise FetchError("timeout", message) from None
            raise FetchError("connection_failed", f"Connection failed: {error}") from None


@contextmanager
def _exchange(
    url: str,
    policy: FetchPolicy,
    deadline: Deadline,
    method: str,
    headers: Mapping[str, str],
    body: bytes | None = None,
) -> Iterator[http.client.HTTPResponse]:
    """One request to the address checked for `url`, and its response (closed after)."""
    connection, path = _connect(url, policy, deadline)
    try:
        with deadline.guard("The server did not answer in time."):
            connection.request(method, path, body=body, headers=dict(headers))
            response = connection.getresponse()
        with response:
            deadline.check("The server did not answer in time.")
            yield response
    finally:
        connection.close()


def _headers(response: http.client.HTTPResponse) -> dict[str, str]:
    return {name.lower(): value for name, value in response.getheaders()}


def _redirected(url: str, location: str) -> str:
    try:
        return urljoin(url, location)
    except ValueError:
        raise FetchError("bad_url", f"Not a URL: {location!r}.") from None


def _connect(
    url: str, policy: FetchPolicy, deadline: Deadline
) -> tuple[http.client.HTTPConnection, str]:
    parts, host, port, address = _resolved(url, policy)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(host, port, address, deadline)
    else:
        connection = _PinnedHTTPConnection(host, port, address, deadline)
    # Non-ASCII in a path or query (a feed's own URL, a Location header) is sent
    # percent-encoded, as browsers do; what is already encoded stays as it is.
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return connection, path + (f"?{query}" if query else "")


def _resolved(url: str, policy: FetchPolicy) -> tuple[SplitResult, str, int, str]:
    """The URL's parts, host, port and the one allowed address to connect to."""
    try:  # a Location header is anyone's text: "http://[1.2]/" does not split
        parts = urlsplit(url)
    except ValueError:
        raise FetchError("bad_url", f"Not a URL: {url!r}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("bad_url", f"Only http and https URLs can be fetched: {url!r}.")
    if parts.username or parts.password:
        raise FetchError("bad_url", "URLs with credentials are not fetched.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname.encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise FetchError("bad_url", f"Bad host or port in {url!r}.") from None
    return parts, host, port, _checked_address(host, port, policy)


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
    if isinstance(address, ipaddress.IPv6Address) and any(address in n for n in _TUNNELS):
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _read_body(response: http.client.HTTPResponse, headers: dict[str, str], cap: int) -> bytes:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError("too_large", f"The document is over {cap} bytes.")
    chunks = iter(lambda: response.read1(_CHUNK), b"")
    if headers.get("content-encoding", "").lower() == "gzip":
        return _gunzip(chunks, cap)
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > cap:
            raise FetchError("too_large", f"The document is over {cap} bytes.")
    return bytes(body)


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


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, still sending the URL's Host; the
    deadline watches its socket."""

    def __init__(self, host: str, port: int, address: str, deadline: Deadline) -> None:
        super().__init__(host, port, timeout=deadline.remaining())
        self.address = address
        self.deadline = deadline

    def connect(self) -> None:
        self.sock = self.deadline.watch(
            socket.create_connection((self.address, self.port), self.deadline.remaining())
        )


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, deadline: Deadline) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=deadline.remaining(), context=self.tls)
        self.address = address
        self.deadline = deadline

    def connect(self) -> None:
        sock = self.deadline.watch(
            socket.create_connection((self.address, self.port), self.deadline.remaining())
        )
        self.sock = self.deadline.watch(self.tls.wrap_socket(sock, server_hostname=self.host))
