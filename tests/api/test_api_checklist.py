"""Checklist rows of API.md §17 seen from the public package only: class relationships
(§1), the sync API with every optional extra missing (§13), and the trace-callback kind
check through real pools (§11.1)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap
from typing import Any, Dict, List

import pytest

import httpcore

HELLO = [b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", b"Hello, world!"]


# Row 1 (§1 class relationships, HTTP/2 and proxies aside).


def test_connections_are_connection_interfaces_and_pools_are_not() -> None:
    for name in ("HTTPConnection", "HTTP11Connection", "HTTP2Connection"):
        assert issubclass(getattr(httpcore, name), httpcore.ConnectionInterface), name
        async_cls = getattr(httpcore, "Async" + name)
        assert issubclass(async_cls, httpcore.AsyncConnectionInterface), name
    assert not issubclass(httpcore.ConnectionPool, httpcore.ConnectionInterface)
    assert not issubclass(httpcore.AsyncConnectionPool, httpcore.AsyncConnectionInterface)


def test_pools_and_connections_share_the_request_helpers() -> None:
    for cls in (httpcore.ConnectionPool, httpcore.HTTPConnection, httpcore.HTTP11Connection):
        assert cls.request is httpcore.ConnectionInterface.request, cls
        assert cls.stream is httpcore.ConnectionInterface.stream, cls
    for acls in (
        httpcore.AsyncConnectionPool,
        httpcore.AsyncHTTPConnection,
        httpcore.AsyncHTTP11Connection,
    ):
        assert acls.request is httpcore.AsyncConnectionInterface.request, acls
        assert acls.stream is httpcore.AsyncConnectionInterface.stream, acls


def test_backends_and_mock_streams_subclass_the_public_interfaces() -> None:
    assert issubclass(httpcore.SyncBackend, httpcore.NetworkBackend)
    assert issubclass(httpcore.MockBackend, httpcore.NetworkBackend)
    assert issubclass(httpcore.MockStream, httpcore.NetworkStream)
    assert issubclass(httpcore.AnyIOBackend, httpcore.AsyncNetworkBackend)
    assert issubclass(httpcore.TrioBackend, httpcore.AsyncNetworkBackend)
    assert issubclass(httpcore.AsyncMockBackend, httpcore.AsyncNetworkBackend)
    assert issubclass(httpcore.AsyncMockStream, httpcore.AsyncNetworkStream)


# Row 4 (§13): without any extra, the package imports, async pools construct, the sync API
# works, and only the HTTP/2 classes refuse to be built.


def test_sync_api_works_with_every_optional_extra_missing() -> None:
    code = textwrap.dedent(
        """
        import sys

        class HideExtras:
            hidden = {"anyio", "trio", "h2", "socksio", "sniffio"}

            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in self.hidden:
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None

        sys.meta_path.insert(0, HideExtras())
        for name in list(sys.modules):
            if name.split(".")[0] in HideExtras.hidden:
                del sys.modules[name]

        import httpcore

        httpcore.AsyncConnectionPool(max_connections=2)
        httpcore.AsyncHTTPConnection(httpcore.Origin(b"http", b"a.com", 80))
        buffer = [b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\n", b"ok"]
        with httpcore.ConnectionPool(network_backend=httpcore.MockBackend(buffer)) as pool:
            response = pool.request("GET", "https://example.com/")
            print(response.status, response.content)
        for name in ("HTTP2Connection", "AsyncHTTP2Connection"):
            try:
                getattr(httpcore, name)(
                    httpcore.Origin(b"https", b"a.com", 443), httpcore.MockStream([])
                )
            except RuntimeError as exc:
                print(name, "httpcore[http2]" in str(exc))
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=pathlib.Path(__file__).parent,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "200 b'ok'",
        "HTTP2Connection True",
        "AsyncHTTP2Connection True",
    ]


# Row 99 (§11.1): the callback kind is checked through a real pool, and the failed request
# leaves nothing behind.


def test_sync_pool_rejects_an_async_trace_callback() -> None:
    async def trace(name: str, info: Dict[str, Any]) -> None:
        pass  # pragma: no cover - never awaited

    with httpcore.ConnectionPool(network_backend=httpcore.MockBackend(HELLO)) as pool:
        with pytest.raises(TypeError):
            pool.request("GET", "http://example.com/", extensions={"trace": trace})
        assert repr(pool).startswith("<ConnectionPool [Requests: 0 active, 0 queued |")
        response = pool.request("GET", "http://example.com/")
        assert response.content == b"Hello, world!"


@pytest.mark.anyio
async def test_async_pool_rejects_a_plain_trace_callback() -> None:
    calls: List[str] = []

    def trace(name: str, info: Dict[str, Any]) -> None:
        calls.append(name)

    backend = httpcore.AsyncMockBackend(HELLO)
    async with httpcore.AsyncConnectionPool(network_backend=backend) as pool:
        with pytest.raises(TypeError):
            await pool.request("GET", "http://example.com/", extensions={"trace": trace})
        assert calls == ["connection.connect_tcp.started"]
        assert repr(pool).startswith("<AsyncConnectionPool [Requests: 0 active, 0 queued |")
        response = await pool.request("GET", "http://example.com/")
        assert response.content == b"Hello, world!"


# Rows 21 / 24: the public sync classes end to end over the public mock backend.


def test_public_sync_connection_round_trip_over_the_mock_backend() -> None:
    origin = httpcore.Origin(b"https", b"example.com", 443)
    with httpcore.HTTPConnection(origin, network_backend=httpcore.MockBackend(HELLO)) as conn:
        with conn.stream("GET", "https://example.com/") as response:
            assert response.status == 200
            assert response.extensions["http_version"] == b"HTTP/1.1"
            assert response.extensions["reason_phrase"] == b"OK"
            assert isinstance(response.extensions["network_stream"], httpcore.MockStream)
            assert b"".join(response.iter_stream()) == b"Hello, world!"
        assert repr(conn) == (
            "<HTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>"
        )
    assert conn.is_closed()


# §6.1: the connection interfaces are abstract; §10: the sync PoolTimeout has no arguments.


def test_connection_interface_methods_are_abstract() -> None:
    origin = httpcore.Origin(b"http", b"a.com", 80)
    sync = httpcore.ConnectionInterface()
    calls: List[Any] = [
        lambda: sync.handle_request(httpcore.Request("GET", "http://a.com/")),
        sync.close,
        sync.info,
        lambda: sync.can_handle_request(origin),
        sync.is_available,
        sync.has_expired,
        sync.is_idle,
        sync.is_closed,
    ]
    asynchronous = httpcore.AsyncConnectionInterface()
    calls += [
        asynchronous.info,
        lambda: asynchronous.can_handle_request(origin),
        asynchronous.is_available,
        asynchronous.has_expired,
        asynchronous.is_idle,
        asynchronous.is_closed,
    ]
    for call in calls:
        with pytest.raises(NotImplementedError):
            call()


@pytest.mark.anyio
async def test_async_connection_interface_coroutines_are_abstract() -> None:
    asynchronous = httpcore.AsyncConnectionInterface()
    with pytest.raises(NotImplementedError):
        await asynchronous.handle_async_request(httpcore.Request("GET", "http://a.com/"))
    with pytest.raises(NotImplementedError):
        await asynchronous.aclose()


def test_sync_pool_timeout_has_no_arguments() -> None:
    backend = httpcore.MockBackend(HELLO)
    with httpcore.ConnectionPool(max_connections=1, network_backend=backend) as pool:
        with pool.stream("GET", "http://a.com/"):
            with pytest.raises(httpcore.PoolTimeout) as info:
                pool.request("GET", "http://a.com/", extensions={"timeout": {"pool": 0}})
    assert info.value.args == ()
    assert info.value.__cause__ is None
