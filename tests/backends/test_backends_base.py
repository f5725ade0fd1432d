"""The backend interfaces, the optional dependencies, and how AutoBackend chooses."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import typing
from typing import Any, List, Tuple, Union

import pytest
import sniffio

from httpcore._backends._anyio import AnyIOBackend
from httpcore._backends._asyncio import AsyncIOBackend
from httpcore._backends._auto import AutoBackend, backend_for_running_library, current_async_library
from httpcore._backends._base import (
    SOCKET_OPTION,
    AsyncNetworkBackend,
    AsyncNetworkStream,
    NetworkBackend,
    NetworkStream,
)
from httpcore._backends._sync_backend import SyncBackend
from httpcore._backends._trio import TrioBackend

EXTRA_INFO_KEYS = ["ssl_object", "client_addr", "server_addr", "socket", "is_readable", "other"]


def test_socket_option_is_the_union_of_setsockopt_argument_tuples() -> None:
    assert typing.get_origin(SOCKET_OPTION) is Union
    assert typing.get_args(SOCKET_OPTION) == (
        Tuple[int, int, int],
        Tuple[int, int, Union[bytes, bytearray]],
        Tuple[int, int, None, int],
    )


def test_network_stream_defaults() -> None:
    stream = NetworkStream()
    with pytest.raises(NotImplementedError):
        stream.read(1)
    with pytest.raises(NotImplementedError):
        stream.write(b"x")
    with pytest.raises(NotImplementedError):
        stream.close()
    with pytest.raises(NotImplementedError):
        stream.start_tls(ssl.create_default_context())
    assert [stream.get_extra_info(key) for key in EXTRA_INFO_KEYS] == [None] * len(EXTRA_INFO_KEYS)


def test_network_backend_defaults() -> None:
    backend = NetworkBackend()
    with pytest.raises(NotImplementedError):
        backend.connect_tcp("example.com", 80)
    with pytest.raises(NotImplementedError):
        backend.connect_unix_socket("/tmp/socket")


def test_network_backend_sleep_is_time_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: List[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    NetworkBackend().sleep(1.5)
    assert slept == [1.5]


@pytest.mark.anyio
async def test_async_network_stream_defaults() -> None:
    stream = AsyncNetworkStream()
    with pytest.raises(NotImplementedError):
        await stream.read(1)
    with pytest.raises(NotImplementedError):
        await stream.write(b"x")
    with pytest.raises(NotImplementedError):
        await stream.aclose()
    with pytest.raises(NotImplementedError):
        await stream.start_tls(ssl.create_default_context())
    assert [stream.get_extra_info(key) for key in EXTRA_INFO_KEYS] == [None] * len(EXTRA_INFO_KEYS)


@pytest.mark.anyio
async def test_async_network_backend_defaults() -> None:
    backend = AsyncNetworkBackend()
    with pytest.raises(NotImplementedError):
        await backend.connect_tcp("example.com", 80)
    with pytest.raises(NotImplementedError):
        await backend.connect_unix_socket("/tmp/socket")
    with pytest.raises(NotImplementedError):
        await backend.sleep(0)


@pytest.mark.anyio
async def test_partial_stream_subclass_needs_only_what_it_uses() -> None:
    class WriteOnly(AsyncNetworkStream):
        def __init__(self) -> None:
            self.written: List[bytes] = []

        async def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self.written.append(buffer)

        async def aclose(self) -> None:
            pass

    stream = WriteOnly()
    await stream.write(b"data")
    await stream.aclose()
    assert stream.written == [b"data"]
    assert stream.get_extra_info("is_readable") is None


def test_backends_subclass_the_interfaces() -> None:
    assert issubclass(SyncBackend, NetworkBackend)
    for backend_class in (AsyncIOBackend, AnyIOBackend, TrioBackend, AutoBackend):
        assert issubclass(backend_class, AsyncNetworkBackend)


def test_modules_import_without_the_async_extras() -> None:
    code = """
import sys
for blocked in ("anyio", "trio", "sniffio"):
    sys.modules[blocked] = None
import httpcore._backends
from httpcore._backends import _anyio, _asyncio, _auto, _base, _sync_backend, _trio
from httpcore._backends._async import mock
auto = _auto.AutoBackend()
for name, factory in (("AnyIOBackend", _anyio.AnyIOBackend), ("TrioBackend", _trio.TrioBackend)):
    try:
        factory()
    except RuntimeError as exc:
        print(name, exc)
"""
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("AnyIOBackend httpcore.AnyIOBackend")
    assert "httpcore[asyncio]" in lines[0]
    assert lines[1].startswith("TrioBackend httpcore.TrioBackend")
    assert "httpcore[trio]" in lines[1]


def test_anyio_backend_without_anyio_is_runtime_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "anyio", None)
    with pytest.raises(RuntimeError, match=r"httpcore\.AnyIOBackend.*httpcore\[asyncio\]"):
        AnyIOBackend()


def test_trio_backend_without_trio_is_runtime_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trio", None)
    with pytest.raises(RuntimeError, match=r"httpcore\.TrioBackend.*httpcore\[trio\]"):
        TrioBackend()


def run_first_step(coroutine: typing.Coroutine[Any, Any, Any]) -> None:
    """Run a coroutine up to its first suspension, outside any event loop."""
    try:
        coroutine.send(None)
    finally:
        coroutine.close()


def test_auto_backend_construction_needs_no_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither a running loop nor the optional packages are looked at before first use.
    for blocked in ("anyio", "trio", "sniffio"):
        monkeypatch.setitem(sys.modules, blocked, None)
    assert isinstance(AutoBackend(), AsyncNetworkBackend)


def test_auto_backend_outside_an_async_library_is_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="asyncio or trio"):
        run_first_step(AutoBackend().sleep(0))


def test_auto_backend_under_another_library_is_runtime_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sniffio.thread_local, "name", "curio")
    with pytest.raises(RuntimeError, match="'curio'"):
        run_first_step(AutoBackend().sleep(0))


def test_auto_backend_under_trio_without_trio_is_runtime_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sniffio.thread_local, "name", "trio")
    monkeypatch.setitem(sys.modules, "trio", None)
    with pytest.raises(RuntimeError, match=r"httpcore\[trio\]"):
        run_first_step(AutoBackend().sleep(0))


def test_without_sniffio_asyncio_is_assumed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sniffio", None)
    assert current_async_library() == "asyncio"
    assert isinstance(backend_for_running_library(), AsyncIOBackend)


@pytest.mark.anyio
async def test_auto_backend_sleeps_with_the_running_library() -> None:
    backend = AutoBackend()
    await backend.sleep(0)
    await backend.sleep(0)
