"""The sync streams one thread reads while another writes (``_sync_duplex``), as the sync
HTTP/2 connection uses them: plain TCP, TLS, and TLS inside TLS, against loopback servers
(``tools.servers.loopback``; the fixtures are in conftest.py).

The scenario that broke the plain ``SyncStream`` (a spurious "Server disconnected" under
concurrent uploads): a reader and a writer at once, each switching its timeout on every
call. Every wait is bounded by ``SAFETY_TIMEOUT_S``.
"""

from __future__ import annotations

import concurrent.futures
import random
import socket
import ssl
import threading
from typing import Callable, Iterator, List

import pytest

from httpcore._backends._base import NetworkStream, shared_by_threads
from httpcore._backends._sync_backend import SyncBackend
from httpcore._backends._sync_duplex import DuplexStream, DuplexTLSInTLSStream
from httpcore._core._exceptions import ReadError, ReadTimeout, WriteError, WriteTimeout
from tools.servers.loopback import (
    SAFETY_TIMEOUT_S,
    Handler,
    StartServer,
    drain,
    echo,
    relay_to,
    send_then_close,
)

CHUNK_BYTES = 64 * 1024
CHUNKS = 96
# More than the loopback socket buffers of both ends can hold.
MORE_THAN_SOCKET_BUFFERS_BYTES = 64 * 1024 * 1024
# Bounds the writer that runs until the test is done with the stream.
MAX_WRITES = 100_000
LAYERS = ["tcp", "tls", "tls-in-tls"]

OpenStream = Callable[[Handler], NetworkStream]


@pytest.fixture(params=LAYERS)
def layer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_stream(
    layer: str, serve: StartServer, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> Iterator[OpenStream]:
    """Connects to a new server running ``handler`` and returns the stream shared by threads."""
    streams: List[NetworkStream] = []

    def open_(handler: Handler) -> NetworkStream:
        if layer == "tls-in-tls":
            origin = serve(handler, tls=server_tls)
            server = serve(relay_to(origin.address), tls=server_tls)
        else:
            server = serve(handler, tls=server_tls if layer == "tls" else None)
        stream = SyncBackend().connect_tcp("127.0.0.1", server.port)
        if layer != "tcp":
            stream = stream.start_tls(client_tls, server_hostname="outer.example")
        if layer == "tls-in-tls":
            stream = stream.start_tls(client_tls, server_hostname="inner.example")
        shared: NetworkStream = shared_by_threads(stream)
        streams.append(shared)
        return shared

    yield open_
    for stream in streams:
        stream.close()


def chunks(seed: int) -> List[bytes]:
    generator = random.Random(seed)
    return [generator.randbytes(CHUNK_BYTES) for _ in range(CHUNKS)]


def test_shared_by_threads_gives_the_duplex_streams(layer: str, open_stream: OpenStream) -> None:
    stream = open_stream(echo)
    expected = DuplexTLSInTLSStream if layer == "tls-in-tls" else DuplexStream
    assert type(stream) is expected


def test_shared_by_threads_keeps_other_streams() -> None:
    class Custom(NetworkStream):
        pass

    custom = Custom()
    assert shared_by_threads(custom) is custom


def test_reader_and_writer_at_once_with_timeouts_changing_on_every_call(
    open_stream: OpenStream,
) -> None:
    stream = open_stream(echo)
    sent = chunks(seed=1)
    expected = b"".join(sent)

    def write_all() -> None:
        for index, chunk in enumerate(sent):
            stream.write(chunk, timeout=None if index % 2 else SAFETY_TIMEOUT_S)

    def read_all() -> bytes:
        received = bytearray()
        calls = 0
        while len(received) < len(expected):
            data = stream.read(CHUNK_BYTES, timeout=SAFETY_TIMEOUT_S if calls % 2 else None)
            assert data, "the echo server does not close: an empty read is a spurious EOF"
            received += data
            calls += 1
        return bytes(received)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        reader = executor.submit(read_all)
        writer = executor.submit(write_all)
        writer.result(timeout=SAFETY_TIMEOUT_S * 3)
        assert reader.result(timeout=SAFETY_TIMEOUT_S * 3) == expected


def test_read_timeout_is_per_call_while_a_writer_goes_on(open_stream: OpenStream) -> None:
    stream = open_stream(drain)  # reads everything, answers nothing
    chunk = chunks(seed=2)[0]
    writing = threading.Event()
    stop = threading.Event()

    def write_until_stopped() -> int:
        written = 0
        while not stop.is_set() and written < MAX_WRITES:
            stream.write(chunk, timeout=None)
            written += 1
            writing.set()
        return written

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        writer = executor.submit(write_until_stopped)
        assert writing.wait(SAFETY_TIMEOUT_S)
        for _ in range(20):
            with pytest.raises(ReadTimeout):
                stream.read(CHUNK_BYTES, timeout=0.001)
        stop.set()
        assert writer.result(timeout=SAFETY_TIMEOUT_S) >= 1
    stream.write(chunk, timeout=SAFETY_TIMEOUT_S)  # the stream is still fine


def test_write_timeout_leaves_a_waiting_reader_waiting(open_stream: OpenStream) -> None:
    answer = threading.Event()

    def answer_when_told(conn: socket.socket) -> None:
        assert answer.wait(SAFETY_TIMEOUT_S)
        conn.sendall(b"late answer")
        drain(conn)

    stream = open_stream(answer_when_told)  # reads nothing until told
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        reader = executor.submit(stream.read, 100, None)
        with pytest.raises(WriteTimeout):
            stream.write(b"x" * MORE_THAN_SOCKET_BUFFERS_BYTES, timeout=0.05)
        assert not reader.done()
        answer.set()
        assert reader.result(timeout=SAFETY_TIMEOUT_S) == b"late answer"


def test_close_from_another_thread_wakes_a_waiting_reader(open_stream: OpenStream) -> None:
    stream = open_stream(drain)
    started = threading.Event()

    def read() -> bytes:
        started.set()
        return stream.read(100, timeout=None)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        reader = executor.submit(read)
        assert started.wait(SAFETY_TIMEOUT_S)
        stream.close()
        try:
            outcome = reader.result(timeout=SAFETY_TIMEOUT_S)
        except ReadError:
            outcome = b""
        assert outcome == b""
    with pytest.raises(WriteError):
        stream.write(b"x")


def test_peer_close_gives_empty_reads_then_stays_there(open_stream: OpenStream) -> None:
    stream = open_stream(send_then_close(b"bye"))
    received = b""
    for _ in range(10):
        data = stream.read(10, timeout=SAFETY_TIMEOUT_S)
        if not data:
            break
        received += data
    assert received == b"bye"
    assert stream.read(10) == b""
    assert stream.get_extra_info("is_readable") is True


def test_extra_info(layer: str, open_stream: OpenStream) -> None:
    stream = open_stream(echo)
    assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
    assert stream.get_extra_info("server_addr")[0] == "127.0.0.1"
    assert stream.get_extra_info("socket").family == socket.AF_INET
    if layer == "tcp":  # (TLS 1.3 servers send session tickets after the handshake)
        assert stream.get_extra_info("is_readable") is False
    ssl_object = stream.get_extra_info("ssl_object")
    if layer == "tcp":
        assert ssl_object is None
    else:
        expected = "inner.example" if layer == "tls-in-tls" else "outer.example"
        assert ssl_object.server_hostname == expected
        assert ssl_object.selected_alpn_protocol() == "h2"
    assert stream.get_extra_info("no such key") is None
    assert repr(stream).startswith(f"<{type(stream).__name__} <")
