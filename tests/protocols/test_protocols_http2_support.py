"""The sans-I/O helpers of the HTTP/2 connections (``httpcore._protocols._h2_support``):
the GOAWAY scanner, request header fields, and h2 being optional and imported lazily."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import List, Tuple, Union

import pytest
from hyperframe.frame import DataFrame, GoAwayFrame, HeadersFrame, SettingsFrame

from httpcore._backends._async.mock import AsyncMockStream
from httpcore._core._exceptions import LocalProtocolError, RemoteProtocolError
from httpcore._core._models import Origin
from httpcore._protocols import _h2_support
from httpcore._protocols._async.http2 import AsyncHTTP2Connection
from httpcore._protocols._h2_support import FrameScanner, GoAway, request_fields

SETTINGS = SettingsFrame(stream_id=0).serialize()
SETTINGS_ACK = SettingsFrame(stream_id=0, flags=["ACK"]).serialize()
DATA = DataFrame(stream_id=1, data=b"x" * 100).serialize()
HEADERS = HeadersFrame(stream_id=1, data=b"\x88", flags=["END_HEADERS"]).serialize()
GOAWAY = GoAwayFrame(stream_id=0, last_stream_id=5, error_code=0, additional_data=b"bye").serialize()


def feed_in_pieces(data: bytes, size: int) -> List[Union[bytes, GoAway]]:
    """Everything the scanner produces for ``data`` fed ``size`` bytes at a time, with
    adjacent byte pieces joined."""
    scanner = FrameScanner()
    out: List[Union[bytes, GoAway]] = []
    for start in range(0, len(data), size):
        for piece in scanner.feed(data[start : start + size]):
            if isinstance(piece, bytes) and out and isinstance(out[-1], bytes):
                out[-1] += piece
            else:
                out.append(piece)
    return out


def describe(pieces: List[Union[bytes, GoAway]]) -> List[object]:
    return [
        piece
        if isinstance(piece, bytes)
        else ("GOAWAY", piece.last_stream_id, piece.error_code, piece.additional_data)
        for piece in pieces
    ]


def test_scanner_passes_bytes_without_goaway_unchanged() -> None:
    data = SETTINGS + HEADERS + DATA
    scanner = FrameScanner()
    (piece,) = scanner.feed(data)
    assert piece is data


@pytest.mark.parametrize("size", [1, 2, 7, 9, 10, 13, 50, 1000])
def test_scanner_takes_out_goaway_frames_in_any_split(size: int) -> None:
    data = SETTINGS + HEADERS + GOAWAY + DATA + GOAWAY
    assert describe(feed_in_pieces(data, size)) == [
        SETTINGS + HEADERS,
        ("GOAWAY", 5, 0, b"bye"),
        DATA,
        ("GOAWAY", 5, 0, b"bye"),
    ]


@pytest.mark.parametrize("size", [1, 5, 9, 100])
def test_scanner_skips_payloads_spanning_reads(size: int) -> None:
    big = DataFrame(stream_id=1, data=b"\x07" * 5000).serialize()
    data = SETTINGS + big + GOAWAY + big
    assert describe(feed_in_pieces(data, size)) == [SETTINGS + big, ("GOAWAY", 5, 0, b"bye"), big]


def test_scanner_leaves_malformed_goaway_to_h2() -> None:
    # On a stream (not 0): h2 reports the protocol error.
    bad = b"\x00\x00\x08\x07\x00\x00\x00\x00\x01" + b"\x00" * 8
    assert describe(feed_in_pieces(SETTINGS + bad, 100)) == [SETTINGS + bad]


@pytest.mark.parametrize("size", [1, 4, 9, 100])
def test_scanner_rejects_a_server_preface_that_is_not_settings(size: int) -> None:
    # RFC 9113 §3.4: the server's preface is a SETTINGS frame (not an acknowledgement).
    for first in (GOAWAY, DATA, SETTINGS_ACK):
        with pytest.raises(RemoteProtocolError, match="did not start with a SETTINGS frame"):
            feed_in_pieces(first + SETTINGS, size)
    assert describe(feed_in_pieces(SETTINGS + DATA, size)) == [SETTINGS + DATA]


def test_request_fields() -> None:
    fields, has_body = request_fields(
        b"POST",
        b"https",
        b"/path?q=1",
        [
            (b"Host", b"example.com"),
            (b"Host", b"ignored.com"),
            (b"Content-Length", b"3"),
            (b"Connection", b"keep-alive"),
            (b"Keep-Alive", b"timeout=5"),
            (b"TE", b"Trailers"),
        ],
    )
    assert fields == [
        (b":method", b"POST"),
        (b":authority", b"example.com"),
        (b":scheme", b"https"),
        (b":path", b"/path?q=1"),
        (b"content-length", b"3"),
        (b"te", b"trailers"),
    ]
    assert has_body


def test_request_fields_body_from_transfer_encoding() -> None:
    fields, has_body = request_fields(
        b"POST", b"http", b"/", [(b"host", b"a"), (b"transfer-encoding", b"chunked")]
    )
    assert has_body
    assert fields[4:] == []


@pytest.mark.parametrize(
    "header",
    [(b"", b"x"), (b"bad name", b"x"), (b"x", b"a\r\nb"), (b"x", b"nul\x00"), (b":path", b"/")],
)
def test_request_fields_refuse_what_http2_forbids(header: Tuple[bytes, bytes]) -> None:
    with pytest.raises(LocalProtocolError):
        request_fields(b"GET", b"https", b"/", [(b"host", b"a"), header])


def test_request_fields_strip_surrounding_whitespace() -> None:
    fields, _ = request_fields(b"GET", b"https", b"/", [(b"host", b"a"), (b"x", b" v \t")])
    assert fields[4:] == [(b"x", b"v")]


def test_request_fields_without_host_is_local_protocol_error() -> None:
    with pytest.raises(LocalProtocolError):
        request_fields(b"GET", b"https", b"/", [(b"accept", b"*/*")])


def test_request_fields_with_empty_target_is_local_protocol_error() -> None:
    with pytest.raises(LocalProtocolError):
        request_fields(b"GET", b"https", b"", [(b"host", b"a")])


def test_missing_h2_is_a_runtime_error_at_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_h2_support, "_names", None)
    for name in list(sys.modules):
        if name == "h2" or name.startswith("h2."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "h2", None)
    with pytest.raises(RuntimeError, match=r"pip install httpcore\[http2\]"):
        AsyncHTTP2Connection(Origin(b"https", b"example.com", 443), AsyncMockStream([]))


def test_importing_the_connections_does_not_import_h2() -> None:
    code = (
        "import sys\n"
        "import httpcore._protocols._async.http2, httpcore._protocols._sync.http2\n"
        "assert 'h2' not in sys.modules, sorted(m for m in sys.modules if m.startswith('h2'))\n"
    )
    # The child imports the same httpcore as this process.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
