"""Malformed SOCKS replies (issue #7), swept systematically through ``AsyncSOCKSProxy`` over
the scripted backend (reads honour ``max_bytes``, as a socket does).

SOCKS5 (method selection, username/password, CONNECT replies with IPv4, IPv6 and domain
bound addresses) and SOCKS4/4a replies: every truncation followed by EOF, wrong version
bytes, unknown methods and address types, a domain length past the end, every failure
code, tunnel bytes right behind a reply, and replies split byte by byte. Each rejection is
a ``ProxyError`` whose message names the failure; the handshake ends within a bounded
number of backend operations; afterwards the pool holds nothing and a healthy request
through the same proxy succeeds. (The cases of test_proxy_socks.py and
test_proxy_socks4.py are not repeated here.)
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import pytest

from httpcore._core._exceptions import ProxyError
from httpcore._proxy._async.socks_proxy import AsyncSOCKSProxy
from tests.proxy._async._scripted import Script, ScriptedBackend

HELLO_BYTES = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!"
SOCKS5 = "socks5://localhost:1080"
SOCKS4 = "socks4://localhost:1080"
SOCKS4A = "socks4a://localhost:1080"
AUTH = ("username", "password")
# More backend operations than this for one request is a hang.
MAX_OPERATIONS = 40

NO_AUTH = b"\x05\x00"
USER_PASS = b"\x05\x02"
AUTH_OK = b"\x01\x00"
CONNECTED_IPV4 = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"
CONNECTED_IPV6 = b"\x05\x00\x00\x04" + b"\x00" * 15 + b"\x01" + b"\x04\x38"
CONNECTED_DOMAIN = b"\x05\x00\x00\x03\x09localhost\x04\x38"
GRANTED = b"\x00\x5a\x00\x00\x00\x00\x00\x00"

CLOSED_SOCKS5 = "The proxy server closed the connection during the SOCKS5 handshake."
CLOSED_SOCKS4 = "The proxy server closed the connection during the SOCKS4 handshake."

# (name, proxy URL, with credentials, the proxy's replies in order, URL requested).
Handshake = Tuple[str, str, bool, List[bytes], str]
HANDSHAKES: List[Handshake] = [
    ("socks5 ipv4", SOCKS5, False, [NO_AUTH, CONNECTED_IPV4], "http://example.com/"),
    ("socks5 ipv6", SOCKS5, False, [NO_AUTH, CONNECTED_IPV6], "http://[::1]/"),
    ("socks5 domain", SOCKS5, False, [NO_AUTH, CONNECTED_DOMAIN], "http://example.com/"),
    ("socks5 auth ipv4", SOCKS5, True, [USER_PASS, AUTH_OK, CONNECTED_IPV4], "http://10.0.0.1/"),
    (
        "socks5 auth domain",
        SOCKS5,
        True,
        [USER_PASS, AUTH_OK, CONNECTED_DOMAIN],
        "http://example.com/",
    ),
    ("socks4", SOCKS4, False, [GRANTED], "http://127.0.0.1/"),
    ("socks4a", SOCKS4A, False, [GRANTED], "http://example.com/"),
]
HANDSHAKE_IDS = [case[0] for case in HANDSHAKES]


def proxy_for(url: str, auth: bool, backend: ScriptedBackend) -> AsyncSOCKSProxy:
    return AsyncSOCKSProxy(url, proxy_auth=AUTH if auth else None, network_backend=backend)


def healthy(replies: Sequence[bytes]) -> List[Script]:
    return [*replies, HELLO_BYTES]


def assert_nothing_held(proxy: AsyncSOCKSProxy) -> None:
    assert "Requests: 0 active, 0 queued" in repr(proxy)
    for connection in proxy.connections:
        assert connection.is_idle() or connection.is_closed(), repr(connection)


async def check_rejected(
    url: str,
    auth: bool,
    script: Sequence[Script],
    target: str,
    message: Optional[str] = None,
    starts: Optional[str] = None,
    healthy_replies: Optional[Sequence[bytes]] = None,
) -> None:
    """The request fails with a ProxyError (``message`` exactly, or starting with
    ``starts``); then a healthy handshake on the next connection serves a request."""
    replies = healthy_replies if healthy_replies is not None else HANDSHAKES[0][3]
    backend = ScriptedBackend(list(script), healthy(replies))
    async with proxy_for(url, auth, backend) as proxy:
        with pytest.raises(Exception) as info:
            await proxy.request("GET", target)
        assert type(info.value) is ProxyError, repr(info.value)
        if message is not None:
            assert str(info.value) == message
        if starts is not None:
            assert str(info.value).startswith(starts), str(info.value)
        assert len(backend.log) <= MAX_OPERATIONS
        assert ("close", None) in backend.log
        assert proxy.connections == []
        assert_nothing_held(proxy)

        response = await proxy.request("GET", target)
        assert (response.status, response.content) == (200, b"Hello, world!")
        assert_nothing_held(proxy)


# Every truncation point of a valid handshake, then EOF.


def truncations() -> List[Tuple[str, str, bool, bytes, str, List[bytes]]]:
    cases = []
    for name, url, auth, replies, target in HANDSHAKES:
        whole = b"".join(replies)
        for cut in range(len(whole)):
            cases.append((f"{name} cut at {cut}", url, auth, whole[:cut], target, replies))
    return cases


TRUNCATIONS = truncations()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "name, url, auth, sent, target, replies", TRUNCATIONS, ids=[case[0] for case in TRUNCATIONS]
)
async def test_truncated_reply_then_eof_is_a_proxy_error(
    name: str, url: str, auth: bool, sent: bytes, target: str, replies: List[bytes]
) -> None:
    closed = CLOSED_SOCKS4 if url != SOCKS5 else CLOSED_SOCKS5
    script: List[Script] = [sent] if sent else []
    await check_rejected(url, auth, script, target, message=closed, healthy_replies=replies)


# Replies that are not what the protocol allows.

INVALID_SOCKS5 = "Invalid SOCKS5 reply from the proxy server: "
INVALID_SOCKS4 = "Invalid SOCKS4 reply from the proxy server: "

BAD_ADDRESS_TYPE = b"\x05\x00\x00\x05\x00\x00\x00\x00\x00\x00"
ADDRESS_TYPE_0 = b"\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00"
# (name, credentials, script, message prefix)
MALFORMED_SOCKS5: List[Tuple[str, bool, List[bytes], str]] = [
    # Refused either way ("Invalid username/password" or "Invalid SOCKS5 reply ...").
    ("auth reply version 5", True, [USER_PASS, b"\x05\x00"], "Invalid "),
    ("auth reply version 0", True, [USER_PASS, b"\x00\x00"], "Invalid "),
    # The method the client offered, under a wrong version (socksio does not check it).
    ("method reply version 4", False, [b"\x04\x00"], INVALID_SOCKS5),
    ("method reply version 0", True, [b"\x00\x02"], INVALID_SOCKS5),
    ("connect reply version 4", False, [NO_AUTH, b"\x04" + CONNECTED_IPV4[1:]], INVALID_SOCKS5),
    ("connect reply unknown address type", False, [NO_AUTH, BAD_ADDRESS_TYPE], INVALID_SOCKS5),
    ("connect reply address type 0", False, [NO_AUTH, ADDRESS_TYPE_0], INVALID_SOCKS5),
    # A domain length of 32 with only 5 bytes behind it: the reply is incomplete at EOF.
    (
        "domain length past the end",
        False,
        [NO_AUTH, b"\x05\x00\x00\x03\x20abc\x00\x50"],
        CLOSED_SOCKS5,
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "name, auth, script, starts", MALFORMED_SOCKS5, ids=[case[0] for case in MALFORMED_SOCKS5]
)
async def test_malformed_socks5_reply_is_a_proxy_error(
    name: str, auth: bool, script: List[bytes], starts: str
) -> None:
    replies = [USER_PASS, AUTH_OK, CONNECTED_IPV4] if auth else [NO_AUTH, CONNECTED_IPV4]
    await check_rejected(
        SOCKS5, auth, script, "http://example.com/", starts=starts, healthy_replies=replies
    )


# Every method the proxy may pick other than the one offered.

METHODS = [
    (0x00, "NO AUTHENTICATION REQUIRED", True),
    (0x01, "GSSAPI", False),
    (0x01, "GSSAPI", True),
    (0x02, "USERNAME/PASSWORD", False),
    (0x03, "UNKNOWN", False),
    (0x80, "UNKNOWN", True),
    (0xFF, "NO ACCEPTABLE METHODS", False),
    (0xFF, "NO ACCEPTABLE METHODS", True),
]


@pytest.mark.anyio
@pytest.mark.parametrize("method, got, auth", METHODS)
async def test_method_other_than_offered_is_named(method: int, got: str, auth: bool) -> None:
    asked = "USERNAME/PASSWORD" if auth else "NO AUTHENTICATION REQUIRED"
    replies = [USER_PASS, AUTH_OK, CONNECTED_IPV4] if auth else [NO_AUTH, CONNECTED_IPV4]
    await check_rejected(
        SOCKS5, auth, [bytes([5, method])], "http://example.com/",
        message=f"Requested {asked} from proxy server, but got {got}.", healthy_replies=replies,
    )


# Every failure code of the CONNECT reply, after each bound address type.

REASONS = [
    (0x02, "Connection not allowed by ruleset"),
    (0x03, "Network unreachable"),
    (0x04, "Host unreachable"),
    (0x06, "TTL expired"),
    (0x07, "Command not supported"),
    (0x08, "Address type not supported"),
    (0xFF, "UNKOWN"),
]


@pytest.mark.anyio
@pytest.mark.parametrize("code, reason", REASONS)
@pytest.mark.parametrize(
    "connected", [CONNECTED_IPV4, CONNECTED_IPV6, CONNECTED_DOMAIN], ids=["ipv4", "ipv6", "domain"]
)
async def test_socks5_failure_code_names_the_reason(
    code: int, reason: str, connected: bytes
) -> None:
    refused = connected[:1] + bytes([code]) + connected[2:]
    await check_rejected(
        SOCKS5, False, [NO_AUTH, refused], "http://example.com/",
        message=f"Proxy Server could not connect: {reason}.",
    )


@pytest.mark.anyio
@pytest.mark.parametrize("code", [0x5B, 0x5C, 0x5D, 0x5F])
async def test_socks4a_refusal_is_a_proxy_error_naming_the_reason(code: int) -> None:
    reply = bytes([0, code]) + b"\x00" * 6
    backend_replies = [GRANTED]
    backend = ScriptedBackend([reply], healthy(backend_replies))
    async with AsyncSOCKSProxy(SOCKS4A, network_backend=backend) as proxy:
        with pytest.raises(ProxyError, match=r"^Proxy Server could not connect: ") as info:
            await proxy.request("GET", "http://example.com/")
        assert type(info.value) is ProxyError
        assert ("UNKNOWN" in str(info.value)) == (code == 0x5F)
        assert proxy.connections == []
        assert (await proxy.request("GET", "http://example.com/")).status == 200
        assert_nothing_held(proxy)


MALFORMED_SOCKS4 = [
    ("version 5", b"\x05\x5a" + b"\x00" * 6),
    ("version 1", b"\x01\x5a" + b"\x00" * 6),
    ("code below the range", b"\x00\x59" + b"\x00" * 6),
    ("code above the range", b"\x00\x60" + b"\x00" * 6),
    ("code zero", b"\x00" * 8),
]


@pytest.mark.anyio
@pytest.mark.parametrize("url", [SOCKS4, SOCKS4A])
@pytest.mark.parametrize(
    "name, reply", MALFORMED_SOCKS4, ids=[case[0] for case in MALFORMED_SOCKS4]
)
async def test_malformed_socks4_reply_is_a_proxy_error(url: str, name: str, reply: bytes) -> None:
    await check_rejected(
        url, False, [reply], "http://127.0.0.1/", starts=INVALID_SOCKS4, healthy_replies=[GRANTED]
    )


# Replies split byte by byte, or followed at once by the tunnel's bytes: both succeed.


@pytest.mark.anyio
@pytest.mark.parametrize("name, url, auth, replies, target", HANDSHAKES, ids=HANDSHAKE_IDS)
async def test_replies_split_byte_by_byte_succeed(
    name: str, url: str, auth: bool, replies: List[bytes], target: str
) -> None:
    whole = b"".join(replies)
    script: List[Script] = [whole[i : i + 1] for i in range(len(whole))]
    script.append(HELLO_BYTES)
    backend = ScriptedBackend(script)
    async with proxy_for(url, auth, backend) as proxy:
        response = await proxy.request("GET", target)
        assert (response.status, response.content) == (200, b"Hello, world!")
        assert_nothing_held(proxy)
    # One read per byte, none past the reply: the response came whole from the tunnel.
    assert len(backend.events("read_timeout")) <= len(whole) + 3


@pytest.mark.anyio
@pytest.mark.parametrize("name, url, auth, replies, target", HANDSHAKES, ids=HANDSHAKE_IDS)
async def test_every_reply_followed_by_the_next_in_one_read_succeeds(
    name: str, url: str, auth: bool, replies: List[bytes], target: str
) -> None:
    # The proxy sends everything at once: each reply is read to its length, the rest
    # (later replies, then the origin's response) is left for the next read.
    backend = ScriptedBackend([b"".join(replies) + HELLO_BYTES])
    async with proxy_for(url, auth, backend) as proxy:
        response = await proxy.request("GET", target)
        assert (response.status, response.content) == (200, b"Hello, world!")
        assert_nothing_held(proxy)


@pytest.mark.anyio
async def test_bytes_behind_a_refusal_are_dropped_with_the_connection() -> None:
    refused = b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00"
    await check_rejected(
        SOCKS5, False, [NO_AUTH + refused + HELLO_BYTES], "http://example.com/",
        message="Proxy Server could not connect: Connection refused.",
    )
