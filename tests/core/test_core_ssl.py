"""``default_ssl_context()`` (API.md §12)."""

from __future__ import annotations

import os
import pathlib
import ssl
import subprocess
import sys
import threading

import certifi
import pytest
import trustme

from httpcore._core import _ssl
from httpcore._core._ssl import default_ssl_context


def reference_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=certifi.where())
    return context


def trusted(context: ssl.SSLContext) -> set[bytes]:
    return set(context.get_ca_certs(binary_form=True))


def test_returns_client_context_with_verification() -> None:
    context = default_ssl_context()
    assert isinstance(context, ssl.SSLContext)
    # What ssl.create_default_context() gives (API.md §12): PROTOCOL_TLS_CLIENT from
    # Python 3.10 on, the generic PROTOCOL_TLS (used client-side) on 3.9.
    assert context.protocol == ssl.create_default_context().protocol
    if sys.version_info >= (3, 10):
        assert context.protocol == ssl.PROTOCOL_TLS_CLIENT
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_trusts_the_same_certificates_as_default_context_plus_certifi() -> None:
    assert trusted(default_ssl_context()) == trusted(reference_context())


def test_trusts_every_certifi_certificate() -> None:
    bundle = ssl.create_default_context(cafile=certifi.where())
    assert trusted(bundle) <= trusted(default_ssl_context())


def test_new_context_each_call() -> None:
    assert default_ssl_context() is not default_ssl_context()


def test_changes_to_one_context_do_not_leak() -> None:
    first = default_ssl_context()
    first.set_alpn_protocols(["h2"])
    first.check_hostname = False
    first.verify_mode = ssl.CERT_NONE
    first.load_verify_locations(cadata=ssl.DER_cert_to_PEM_cert(sorted(trusted(first))[0]))
    second = default_ssl_context()
    assert second.verify_mode == ssl.CERT_REQUIRED
    assert second.check_hostname
    assert trusted(second) == trusted(reference_context())


def test_certifi_bundle_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    default_ssl_context()

    def fail() -> list[bytes]:
        raise AssertionError("certifi bundle read again")

    monkeypatch.setattr(_ssl, "_load_certifi_certificates", fail)
    assert trusted(default_ssl_context()) == trusted(reference_context())


def test_missing_set_recomputed_when_system_store_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_ssl, "_missing_from_system", (-1, b""))
    context = default_ssl_context()
    assert trusted(context) == trusted(reference_context())
    assert _ssl._missing_from_system is not None
    system_size = ssl.create_default_context().cert_store_stats()["x509"]
    assert _ssl._missing_from_system[0] == system_size


def test_import_does_not_load_certifi() -> None:
    code = (
        "import sys\n"
        "import httpcore._core._ssl\n"
        "assert 'certifi' not in sys.modules\n"
    )
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


# --- the shared default context (what connections use when given none) ---------------------


def test_shared_context_is_one_per_alpn_offer() -> None:
    http11 = _ssl.shared_default_context(http2=False)
    assert _ssl.shared_default_context(http2=False) is http11
    with_h2 = _ssl.shared_default_context(http2=True)
    assert _ssl.shared_default_context(http2=True) is with_h2
    assert with_h2 is not http11
    for context in (http11, with_h2):
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert trusted(context) == trusted(reference_context())


def test_shared_context_follows_the_trust_store_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    before = _ssl.shared_default_context(http2=False)
    first_ca, second_ca = trustme.CA(), trustme.CA()
    bundle = tmp_path / "ca.pem"
    first_ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    first = _ssl.shared_default_context(http2=False)
    assert first is not before
    assert trusted(ssl.create_default_context(cafile=str(bundle))) <= trusted(first)
    assert _ssl.shared_default_context(http2=False) is first
    # The same path, rewritten: a new default context would trust the new file.
    second_ca.cert_pem.write_to_path(str(bundle))
    os.utime(bundle, ns=(1, 1))
    second = _ssl.shared_default_context(http2=False)
    assert second is not first
    assert trusted(ssl.create_default_context(cafile=str(bundle))) <= trusted(second)
    monkeypatch.undo()  # the environment as it was: the context made for it again
    assert _ssl.shared_default_context(http2=False) is before


def test_threads_asking_at_once_share_one_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_ssl, "_shared", {})
    results: list[ssl.SSLContext] = []
    start = threading.Barrier(8)

    def ask() -> None:
        start.wait(timeout=30)
        results.append(_ssl.shared_default_context(http2=True))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 8 and all(context is results[0] for context in results)


def test_shared_contexts_are_bounded(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setattr(_ssl, "_shared", {})
    for index in range(3 * _ssl._SHARED_LIMIT):
        monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / str(index)))
        _ssl.shared_default_context(http2=bool(index % 2))
        assert len(_ssl._shared) <= _ssl._SHARED_LIMIT
