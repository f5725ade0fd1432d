"""``AutoBackend``: the default async backend, choosing by the running async library.

The choice is made at first use, inside the running loop, never at construction (async
pools are built outside any event loop): the native ``AsyncIOBackend`` under asyncio,
``TrioBackend`` under trio. The running library comes from ``sniffio`` when it is
installed; without it, asyncio is assumed. The choice is then kept for the instance.
"""

from __future__ import annotations

from typing import Iterable, Optional

from ._base import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream


def current_async_library() -> str:
    """The name of the running async library, ``"asyncio"`` if sniffio is not installed."""
    try:
        import sniffio
    except ImportError:  # pragma: no cover - sniffio comes with anyio and trio
        return "asyncio"
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError as exc:
        raise RuntimeError(
            "httpcore's async API must run under asyncio or trio; "
            "no supported async library is running."
        ) from exc


def backend_for_running_library() -> AsyncNetworkBackend:
    """A new backend for the async library running now."""
    library = current_async_library()
    if library == "asyncio":
        from ._asyncio import AsyncIOBackend

        return AsyncIOBackend()
    if library == "trio":
        from ._trio import TrioBackend

        return TrioBackend()  # RuntimeError naming httpcore[trio] if trio cannot be imported
    raise RuntimeError(f"httpcore's async API does not support {library!r}; use asyncio or trio.")


class AutoBackend(AsyncNetworkBackend):
    """Delegates to the backend of the running async library, chosen at first use."""

    def __init__(self) -> None:
        self._backend: Optional[AsyncNetworkBackend] = None

    def _chosen(self) -> AsyncNetworkBackend:
        backend = self._backend
        if backend is None:
            backend = self._backend = backend_for_running_library()
        return backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        return await self._chosen().connect_tcp(
            host,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        return await self._chosen().connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._chosen().sleep(seconds)
