"""The public facade: its names, their reported module, its namespace and its imports."""

from __future__ import annotations

import inspect
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import httpcore

# The 49 public names of httpcore 1.0.9 (API.md §1).
ALL_PUBLIC_NAMES = {
    "request", "stream",
    "Origin", "URL", "Request", "Response", "Proxy",
    "AsyncHTTPConnection", "AsyncConnectionPool", "AsyncHTTPProxy", "AsyncHTTP11Connection",
    "AsyncHTTP2Connection", "AsyncConnectionInterface", "AsyncSOCKSProxy",
    "HTTPConnection", "ConnectionPool", "HTTPProxy", "HTTP11Connection", "HTTP2Connection",
    "ConnectionInterface", "SOCKSProxy",
    "SyncBackend", "AnyIOBackend", "TrioBackend",
    "AsyncMockBackend", "AsyncMockStream", "MockBackend", "MockStream",
    "AsyncNetworkStream", "AsyncNetworkBackend", "NetworkStream", "NetworkBackend",
    "default_ssl_context", "SOCKET_OPTION",
    "ConnectionNotAvailable", "ProxyError", "ProtocolError", "LocalProtocolError",
    "RemoteProtocolError", "UnsupportedProtocol", "TimeoutException", "PoolTimeout",
    "ConnectTimeout", "ReadTimeout", "WriteTimeout", "NetworkError", "ConnectError",
    "ReadError", "WriteError",
}

# The names whose layers are not built yet (the proxies).
NOT_YET_BUILT: set[str] = set()

EXCEPTION_NAMES = {
    "ConnectionNotAvailable", "ProxyError", "ProtocolError", "LocalProtocolError",
    "RemoteProtocolError", "UnsupportedProtocol", "TimeoutException", "PoolTimeout",
    "ConnectTimeout", "ReadTimeout", "WriteTimeout", "NetworkError", "ConnectError",
    "ReadError", "WriteError",
}


def test_the_49_public_names_are_known() -> None:
    assert len(ALL_PUBLIC_NAMES) == 49


def test_all_lists_every_built_public_name_and_nothing_else() -> None:
    assert len(httpcore.__all__) == len(set(httpcore.__all__))
    assert set(httpcore.__all__) == ALL_PUBLIC_NAMES - NOT_YET_BUILT


def test_every_name_in_all_is_an_attribute() -> None:
    for name in httpcore.__all__:
        assert hasattr(httpcore, name), name


def test_version_is_a_1x_release() -> None:
    assert httpcore.__version__ == "1.0.9"


def test_public_names_report_the_httpcore_module() -> None:
    for name in httpcore.__all__:
        if name == "SOCKET_OPTION":
            continue
        assert getattr(httpcore, name).__module__ == "httpcore", name
    assert repr(httpcore.ReadTimeout) == "<class 'httpcore.ReadTimeout'>"
    assert repr(httpcore.URL) == "<class 'httpcore.URL'>"


def test_socket_option_keeps_its_typing_module() -> None:
    assert httpcore.SOCKET_OPTION.__module__ == "typing"


def test_namespace_has_no_exception_classes_beyond_the_public_fifteen() -> None:
    # httpx's test-suite checks that each httpcore exception has an httpx counterpart.
    found = {
        name
        for name, value in vars(httpcore).items()
        if inspect.isclass(value) and issubclass(value, Exception)
    }
    assert found == EXCEPTION_NAMES


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that sees the same httpcore as this test."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=pathlib.Path(__file__).parent,
    )


def test_import_loads_no_optional_or_lazy_dependency() -> None:
    result = _run_python(
        """
        import sys
        import httpcore
        lazy = {"anyio", "trio", "h2", "socksio", "sniffio", "certifi"}
        print(sorted(lazy & set(sys.modules)))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# A finder that makes the optional extras look uninstalled in a child interpreter.
_HIDE_EXTRAS = """
import sys

class HideExtras:
    hidden = {"anyio", "trio", "h2", "socksio", "sniffio"}

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.hidden:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, HideExtras())
"""


@pytest.mark.parametrize(
    ("name", "extra"),
    [("AnyIOBackend", "asyncio"), ("TrioBackend", "trio")],
)
def test_missing_extra_raises_runtime_error_at_construction_not_import(
    name: str, extra: str
) -> None:
    result = _run_python(
        _HIDE_EXTRAS
        + f"""
import httpcore
try:
    httpcore.{name}()
except RuntimeError as exc:
    print("RuntimeError:", exc)
"""
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("RuntimeError:")
    assert f"httpcore[{extra}]" in result.stdout
