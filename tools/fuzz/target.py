"""The fuzz target: one input -> our response codec and h11, compared; plus RFC 9112 checks.

The comparison (``our_outcome``, ``h11_outcome``, ``explain``) is also the harness of
``tests/protocols/test_protocols_http11_differential.py``, which lists the disagreements.

Input layout: byte 0 selects the method (even: GET, odd: HEAD) and bit 1 whether an Upgrade
request was sent; byte 1 selects a split point for the reads (0: one read, else every
``byte1`` bytes, at most 2048 reads); byte 2 bit 0 selects whether EOF follows. The rest is the response bytes.
"""

from __future__ import annotations

import pathlib
import re
import sys
from typing import Any, Callable, List, Optional, Sequence, Tuple

_LIBS = pathlib.Path(__file__).resolve().parent.parent.parent / "libs"
if _LIBS.is_dir():
    for _lib in sorted(_LIBS.iterdir()):
        if (_lib / "httpcore").is_dir() and str(_lib) not in sys.path:
            sys.path.append(str(_lib))

import h11  # noqa: E402

from httpcore._core._exceptions import LocalProtocolError, RemoteProtocolError  # noqa: E402
from httpcore._protocols._http11 import (  # noqa: E402
    NEED_DATA,
    PAUSED,
    Data,
    EndOfMessage,
    RequestHead,
    ResponseHead,
    ResponseParser,
)

MAX_HEAD = 100 * 1024
MAX_STEPS = 1_000
MAX_PARTS = 2048
SERVER_DISCONNECTED = "Server disconnected without sending a response."
TOO_LONG = "Receive buffer too long"
UPGRADE = ((b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"))

Item = Tuple[Any, ...]
ParserFactory = Callable[[bytes, bool, bool], Any]


def default_factory(method: bytes, close: bool, upgrade: bool) -> Any:
    return ResponseParser(method, request_close=close, request_upgrade=upgrade)


class Recorder:
    """Collects a normalised outcome: events with consecutive data joined."""

    def __init__(self) -> None:
        self.items: List[Item] = []

    def add(self, item: Item) -> None:
        if item[0] == "data" and self.items and self.items[-1][0] == "data":
            self.items[-1] = ("data", self.items[-1][1] + item[1])
        else:
            self.items.append(item)


def decode(data: bytes) -> Tuple[bytes, Tuple[Tuple[bytes, bytes], ...], List[bytes], bool, bytes]:
    """(method, request headers, parts, eof, response bytes) for one fuzz input."""
    b0 = data[0] if len(data) > 0 else 0
    b1 = data[1] if len(data) > 1 else 0
    b2 = data[2] if len(data) > 2 else 1
    body = data[3:]
    method = b"HEAD" if b0 & 1 else b"GET"
    headers = UPGRADE if b0 & 2 else ()
    if b1 == 0 or not body:
        parts = [body]
    else:
        step = max(b1, len(body) // MAX_PARTS + 1)  # keeps big inputs fast to run
        parts = [body[i : i + step] for i in range(0, len(body), step)]
    return method, headers, parts, bool(b2 & 1), body


def _h11_drain(conn: h11.Connection, out: Recorder, eof_sent: bool = False) -> Optional[str]:
    for _ in range(MAX_STEPS):
        event = conn.next_event()
        if event is h11.NEED_DATA:
            return None
        if event is h11.PAUSED:
            assert conn.their_state is h11.SWITCHED_PROTOCOL
            return "switched"
        if isinstance(event, (h11.Response, h11.InformationalResponse)):
            out.add(
                (
                    "head",
                    event.status_code,
                    bytes(event.reason),
                    bytes(event.http_version),
                    [(bytes(n), bytes(v)) for n, v in event.headers.raw_items()],
                )
            )
        elif isinstance(event, h11.Data):
            if event.data:
                out.add(("data", bytes(event.data)))
        elif isinstance(event, h11.EndOfMessage):
            # A body delimited by the close ends with the connection closed: not reusable,
            # although h11's states still read DONE at this point.
            keep = conn.our_state is h11.DONE and conn.their_state is h11.DONE and not eof_sent
            out.add(("end", [(bytes(n), bytes(v)) for n, v in event.headers.raw_items()], keep))
            return "end"
        else:  # pragma: no cover - h11 returns nothing else before the end of a message
            raise AssertionError(f"unexpected h11 event {event!r}")
    raise AssertionError("h11 did not settle")  # pragma: no cover


def h11_outcome(
    parts: Sequence[bytes], method: bytes, headers: Sequence[Tuple[bytes, bytes]], eof: bool
) -> List[Item]:
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
    conn.send(h11.Request(method=method, target=b"/", headers=[(b"Host", b"example.com"), *headers]))
    conn.send(h11.EndOfMessage())
    out = Recorder()
    try:
        for index, part in enumerate(parts):
            if not part:
                continue
            conn.receive_data(part)
            result = _h11_drain(conn, out)
            if result == "end":
                return out.items
            if result == "switched":
                out.add(("switched", bytes(conn.trailing_data[0]) + b"".join(parts[index + 1 :])))
                return out.items
        if eof:
            if conn.their_state is h11.SEND_RESPONSE:
                out.add(("error", SERVER_DISCONNECTED))
                return out.items
            conn.receive_data(b"")
            result = _h11_drain(conn, out, eof_sent=True)
            assert result != "switched"
            if result == "end":
                return out.items
        out.add(("incomplete",))
    except h11.RemoteProtocolError as exc:
        out.add(("error", str(exc)))
    return out.items


def _our_drain(parser: Any, out: Recorder, steps: List[int]) -> Optional[str]:
    while True:
        steps[0] += 1
        if steps[0] > steps[1]:
            raise AssertionError("hang guard: too many parser steps")
        event = parser.next_event()
        if event is NEED_DATA:
            return None
        if event is PAUSED:
            assert parser.switched_protocols, "PAUSED without a protocol switch"
            return "switched"
        if isinstance(event, ResponseHead):
            out.add(("head", event.status_code, event.reason, event.http_version, event.headers))
        elif isinstance(event, Data):
            assert event.data, "empty Data event"
            assert type(event.data) is bytes, "Data not bytes"
            out.add(("data", event.data))
        elif isinstance(event, EndOfMessage):
            out.add(("end", event.trailers, parser.keep_alive))
            return "end"
        else:
            raise AssertionError(f"unexpected event {event!r}")


def our_outcome(
    parts: Sequence[bytes],
    method: bytes,
    headers: Sequence[Tuple[bytes, bytes]],
    eof: bool,
    factory: ParserFactory = default_factory,
) -> List[Item]:
    request = RequestHead(method, b"/", [(b"Host", b"example.com"), *headers])
    parser = factory(method, request.close, request.upgrade)
    out = Recorder()
    # Hang guard: each feed ends in one NEED_DATA, and every other event consumes input
    # (a head, a body piece, an end), so the steps are bounded by the input's size.
    steps = [0, MAX_STEPS + 2 * (sum(len(part) for part in parts) + len(parts))]
    try:
        for index, part in enumerate(parts):
            parser.feed(part)
            result = _our_drain(parser, out, steps)
            if result == "end":
                return out.items
            if result == "switched":
                out.add(("switched", parser.trailing_data() + b"".join(parts[index + 1 :])))
                return out.items
        if eof:
            parser.feed_eof()
            result = _our_drain(parser, out, steps)
            assert result != "switched", "switched at EOF"
            if result == "end":
                return out.items
        out.add(("incomplete",))
    except (RemoteProtocolError, LocalProtocolError) as exc:
        out.add(("error", str(exc)))
    except AssertionError:
        raise
    except Exception as exc:
        raise AssertionError(f"codec raised {type(exc).__name__}: {exc}") from exc
    return out.items


def _is_prefix(ours: List[Item], theirs: List[Item]) -> bool:
    # Whether our events (without our final error) are a prefix of h11's, the last body data
    # of ours possibly a prefix of h11's (h11 went on reading where we stopped).
    if len(ours) > len(theirs):
        return False
    for index, item in enumerate(ours):
        other = theirs[index]
        if item == other:
            continue
        last = index == len(ours) - 1
        if last and item[0] == "data" and other[0] == "data" and other[1].startswith(item[1]):
            continue
        return False
    return True


_FOLD = re.compile(rb"\n[ \t]")
_BOTH = re.compile(rb"(?is)transfer-encoding:.*content-length:|content-length:.*transfer-encoding:")


def explain(data: bytes, ours: List[Item], theirs: List[Item]) -> Optional[str]:
    """The listed disagreement (``DISAGREEMENTS`` of the differential test) that explains
    why ``ours`` differs from ``theirs``, if any."""
    if (
        ours[:-1] == theirs[:-1]
        and ours[-1][0] == theirs[-1][0] == "end"
        and ours[-1][1:] == (theirs[-1][1], False)
        and _BOTH.search(data)
    ):
        return "both-framings"
    if not ours or ours[-1][0] != "error":
        return None  # we must be the side that rejects
    if not _is_prefix(ours[:-1], theirs):
        return None
    # Our own checks run where h11's passed, so h11 went on (and may have failed later).
    message = ours[-1][1]
    if message.startswith("obsolete line folding"):
        return "obs-fold"
    if message.startswith("chunk extension with NUL or CR"):
        return "chunk-extension"
    if message == TOO_LONG:
        return "head-size"
    # Both reject a head with a folded line after a bad one: h11 names the joined line.
    if theirs[-1][0] == "error" and _FOLD.search(data) and message.startswith("illegal header line"):
        return "obs-fold"
    return None


_HEX = re.compile(rb"[0-9A-Fa-f]{1,20}")


def rfc_rejections(body: bytes, method: bytes) -> Tuple[List[str], bool]:
    """RFC 9112 features of ``body`` we must reject, and whether both framings are present.

    Only the first head counts, and only when it is a final response whose head is complete
    with CRLF line ends (so the feature is unambiguous).
    """
    found: List[str] = []
    end = body.find(b"\r\n\r\n")
    if end < 0 and len(body) > MAX_HEAD + 1 and b"\n\n" not in body and b"\n\r\n" not in body:
        found.append("head too long")
    if end < 0 or b"\n" in body[:end].replace(b"\r\n", b""):
        return found, False
    lines = body[:end].split(b"\r\n")
    status = lines[0]
    if not re.fullmatch(rb"HTTP/1\.[01] [2-5][0-9][0-9] [^\x00\r\n]*", status):
        return found, False
    lengths: List[bytes] = []
    encodings: List[bytes] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            found.append("obs-fold")
        if b"\x00" in line or b"\r" in line:
            found.append("NUL or bare CR")
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            lengths.extend(v.strip(b" \t") for v in value.split(b","))
        elif name.lower() == b"transfer-encoding":
            encodings.append(value.strip(b" \t").lower())
    numbers = {int(v) for v in lengths if v.isdigit()}
    if len(numbers) > 1:
        found.append("conflicting Content-Length")
    bodiless = method == b"HEAD" or status[9:12] in (b"204", b"304")
    if encodings == [b"chunked"] and not lengths and not bodiless and not found:
        rest = body[end + 4 :]
        eol = rest.find(b"\r\n")
        if eol >= 0 and b"\n" not in rest[:eol]:
            size = rest[:eol].split(b";", 1)[0].rstrip(b" \t")
            if not _HEX.fullmatch(size):
                found.append("invalid chunk size")
    return found, bool(lengths and encodings)


def check_one(data: bytes, factory: Optional[ParserFactory] = None) -> None:
    """Raise AssertionError if our codec misbehaves on this input (see module docstring)."""
    method, headers, parts, eof, body = decode(data)
    ours = our_outcome(parts, method, headers, eof, factory or default_factory)
    theirs = h11_outcome(parts, method, headers, eof)
    features, both = rfc_rejections(body, method)
    if features:
        assert ours[-1][0] == "error", f"accepted {features}: data={data!r} ours={ours!r}"
    if both and ours[-1][0] == "end":
        assert ours[-1][2] is False, f"kept alive with both framings: data={data!r} ours={ours!r}"
    if ours == theirs:
        return
    reason = explain(body, ours, theirs)
    assert reason is not None, f"data={data!r}\nours={ours!r}\nh11 ={theirs!r}"
