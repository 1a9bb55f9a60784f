"""Fetching remote documents: SSRF refusals, redirects re-checked, deadline, byte cap.

Against real servers on 127.0.0.1; the allow-list admits one server's port only, so
another port on the same loopback address stands in for an internal service."""

import gzip
import time
from collections.abc import Iterator

import pytest

from cms.services.fetching import AllowedAddress, FetchError, FetchPolicy, fetch
from tests.feed_server import FeedServer


@pytest.fixture
def server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


def allowing(server: FeedServer, **settings: object) -> FetchPolicy:
    return FetchPolicy(allowed=(AllowedAddress.parse(f"127.0.0.1:{server.port}"),), **settings)  # type: ignore[arg-type]


def refused(url: str, policy: FetchPolicy) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(url, policy)
    return caught.value


def test_fetches_a_document_from_an_allowed_address(server: FeedServer) -> None:
    url = server.serve("/feed", "<rss/>", etag='"v1"')
    fetched = fetch(url, allowing(server))
    assert (fetched.status, fetched.body, fetched.headers["etag"]) == (200, b"<rss/>", '"v1"')
    assert fetch(url, allowing(server), etag='"v1"').not_modified


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "0.0.0.0",  # noqa: S104 - the address under test
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "[::ffff:127.0.0.1]",  # IPv4 loopback, IPv6 spelling
        "[fd00::1]",
        "100.64.0.1",  # carrier-grade NAT
        "[fec0::1]",  # site-local (deprecated, still routed inside some networks)
        "[2002:a9fe:a9fe::1]",  # 6to4 around 169.254.169.254
        "[64:ff9b::a9fe:a9fe]",  # NAT64 around 169.254.169.254
    ],
)
def test_private_addresses_are_refused_without_a_request(server: FeedServer, host: str) -> None:
    server.serve("/feed", "<rss/>")
    error = refused(f"http://{host}:{server.port}/feed", FetchPolicy(timeout=2))
    assert error.code == "blocked_address"
    assert server.requests == []


def test_the_allow_list_admits_one_port_not_the_whole_address(
    server: FeedServer, internal: FeedServer
) -> None:
    internal.serve("/admin", "secret")
    assert refused(internal.url("/admin"), allowing(server)).code == "blocked_address"
    assert internal.requests == []


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:{internal}/admin", "http://169.254.169.254/latest/meta-data/"],
)
def test_redirects_to_private_addresses_are_refused(
    server: FeedServer, internal: FeedServer, target: str
) -> None:
    internal.serve("/admin", "secret")
    url = server.serve(
        "/feed", status=302, headers={"Location": target.format(internal=internal.port)}
    )
    assert refused(url, allowing(server)).code == "blocked_address"
    assert len(server.hits("/feed")) == 1
    assert internal.requests == []


def test_redirects_are_followed_and_the_final_url_reported(server: FeedServer) -> None:
    server.serve("/old", status=301, headers={"Location": "/new"})
    server.serve("/new", "<rss/>")
    fetched = fetch(server.url("/old"), allowing(server))
    assert (fetched.url, fetched.body) == (server.url("/new"), b"<rss/>")


@pytest.mark.parametrize("location", ["http://[1.2]/", "http://[B31C4648]/feed"])
def test_redirects_to_unreadable_urls_are_refused(server: FeedServer, location: str) -> None:
    server.serve("/feed", status=302, headers={"Location": location})
    assert refused(server.url("/feed"), allowing(server)).code == "bad_url"


def test_redirect_loops_end(server: FeedServer) -> None:
    server.serve("/loop", status=302, headers={"Location": "/loop"})
    assert refused(server.url("/loop"), allowing(server)).code == "too_many_redirects"
    assert len(server.hits("/loop")) == 6  # the first request and five redirects


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://example.com/", "ftp://x/"])
def test_only_http_is_fetched(url: str) -> None:
    assert refused(url, FetchPolicy()).code == "bad_url"


def test_a_server_that_does_not_answer_times_out(server: FeedServer) -> None:
    # Bounds far from both the timeout and the server's delay: a stalled CI machine
    # must not fail it, and a fetch that waited for the answer still does.
    url = server.serve("/slow", "<rss/>", delay=30)
    started = time.monotonic()
    assert refused(url, allowing(server, timeout=0.5)).code == "timeout"
    assert time.monotonic() - started < 5


def test_a_body_that_trickles_in_is_cut_at_the_deadline(server: FeedServer) -> None:
    # Each byte arrives well within any per-read timeout; only a whole-fetch deadline stops it.
    url = server.serve("/drip", b"x" * 1000, drip=0.05)  # 50 s in all
    started = time.monotonic()
    assert refused(url, allowing(server, timeout=1)).code == "timeout"
    assert time.monotonic() - started < 5


def test_documents_over_the_byte_cap_are_refused(server: FeedServer) -> None:
    declared = server.serve("/big", b"x" * 5000)
    undeclared = server.serve("/chunked", b"x" * 5000, drip=0.0001)
    assert refused(declared, allowing(server, max_bytes=4096)).code == "too_large"
    assert refused(undeclared, allowing(server, max_bytes=4096)).code == "too_large"


def test_a_gzip_bomb_stops_at_the_cap(server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # about 50 KB on the wire, 50 MB unpacked
    url = server.serve("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    assert refused(url, allowing(server, max_bytes=1_000_000)).code == "too_large"


def test_gzip_bodies_are_unpacked(server: FeedServer) -> None:
    url = server.serve("/z", gzip.compress(b"<rss/>"), headers={"Content-Encoding": "gzip"})
    assert fetch(url, allowing(server)).body == b"<rss/>"


def test_http_errors_carry_their_status(server: FeedServer) -> None:
    url = server.serve("/gone", "no", status=410)
    error = refused(url, allowing(server))
    assert (error.code, error.status) == ("http_status", 410)


def test_headers_that_trickle_in_are_cut_at_the_deadline(server: FeedServer) -> None:
    url = server.serve("/head", head_drip=0.05)  # 50 s of headers
    started = time.monotonic()
    assert refused(url, allowing(server, timeout=1)).code == "timeout"
    assert time.monotonic() - started < 5


def test_non_ascii_urls_and_redirects_are_percent_encoded(server: FeedServer) -> None:
    server.serve("/caf%C3%A9", "<rss/>")
    server.serve("/moved", status=302, headers={"Location": "/caf\u00e9"})
    assert fetch(server.url("/caf\u00e9"), allowing(server)).body == b"<rss/>"
    assert fetch(server.url("/moved"), allowing(server)).body == b"<rss/>"
