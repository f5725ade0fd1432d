"""``default_ssl_context()``: the TLS context used when the caller gives none (API.md §12).

The result must trust what ``ssl.create_default_context()`` trusts (the system store) plus
the ``certifi`` bundle, and be a new context on every call so the caller may change it.

Cost: OpenSSL parses every certificate it loads, and most of certifi's certificates are
usually in the system store already; parsing them twice is what made this slow. So the
certifi bundle is read and converted to DER once, and each call loads only the certifi
certificates missing from the freshly loaded system store (adding a certificate the store
already holds would change nothing). The "missing" set is recomputed whenever the system
store's size changes (e.g. ``SSL_CERT_FILE`` now points elsewhere).

``shared_default_context(http2)`` is what connections use when the caller gives no context
(a difference from 1.0.9, which builds a new default context per connection): one context
per process for each ALPN offer and trust-store setting. Even with the work above, building
a context parses every certificate of the system store (about 15 ms for 150 certificates
with OpenSSL 3.0, and a few hundred KiB per context), which made a new pool's first HTTPS
request, and each new connection, cost that much (httpx#3627, httpx#838). The shared
context is never changed after it is made (ALPN is set once, before it is published), and
OpenSSL contexts may be used from several threads at once. It is made again when the
trust-store environment changes (``SSL_CERT_FILE``/``SSL_CERT_DIR``, or the file they name
is rewritten), as a new default context would then trust something else.
"""

from __future__ import annotations

import os
import re
import ssl
import threading
from typing import Dict, List, Optional, Tuple

_PEM_CERTIFICATE = re.compile(
    r"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.DOTALL
)

_lock = threading.Lock()
_certifi_certificates: Optional[List[bytes]] = None
# (size of the system store it was computed for, DER of the certifi certificates it lacks)
_missing_from_system: Optional[Tuple[int, bytes]] = None


def _load_certifi_certificates() -> List[bytes]:
    import certifi

    with open(certifi.where(), encoding="ascii") as bundle:
        text = bundle.read()
    return [ssl.PEM_cert_to_DER_cert(pem) for pem in _PEM_CERTIFICATE.findall(text)]


def _missing_certificates(context: ssl.SSLContext, system_size: int) -> bytes:
    global _certifi_certificates, _missing_from_system
    cached = _missing_from_system
    if cached is not None and cached[0] == system_size:
        return cached[1]
    with _lock:
        cached = _missing_from_system
        if cached is not None and cached[0] == system_size:
            return cached[1]
        if _certifi_certificates is None:
            _certifi_certificates = _load_certifi_certificates()
        present = set(context.get_ca_certs(binary_form=True))
        missing = b"".join(der for der in _certifi_certificates if der not in present)
        _missing_from_system = (system_size, missing)
        return missing


def default_ssl_context() -> ssl.SSLContext:
    """Return a new client TLS context verifying certificates and host names.

    Equivalent to ``ssl.create_default_context()`` with the ``certifi`` CA bundle also
    loaded. ALPN is not set. The caller owns the context and may modify it.
    """
    context = ssl.create_default_context()
    missing = _missing_certificates(context, context.cert_store_stats()["x509"])
    if missing:
        context.load_verify_locations(cadata=missing)
    return context


def alpn_protocols(http2: bool) -> List[str]:
    """The ALPN offer of a connection to an origin (API.md §6.2)."""
    return ["http/1.1", "h2"] if http2 else ["http/1.1"]


# (offers h2, the trust-store environment) -> the shared context made for it.
_SharedKey = Tuple[bool, Tuple[object, ...]]
_shared: Dict[_SharedKey, ssl.SSLContext] = {}
# Not ``_lock``: making the context takes that one (``_missing_certificates``).
_shared_lock = threading.Lock()


def _trust_environment() -> Tuple[object, ...]:
    """What decides a new default context's trust besides the system files themselves: the
    ``SSL_CERT_FILE``/``SSL_CERT_DIR`` overrides, and when a file is named, its identity."""
    cert_file = os.environ.get("SSL_CERT_FILE")
    cert_dir = os.environ.get("SSL_CERT_DIR")
    if cert_file is None:
        return (None, cert_dir)
    try:
        stat = os.stat(cert_file)
    except OSError:
        return (cert_file, cert_dir)
    return (cert_file, cert_dir, stat.st_mtime_ns, stat.st_size, stat.st_ino)


def shared_default_context(http2: bool) -> ssl.SSLContext:
    """The process's default context for TLS to origins when the caller gives none, with
    ALPN offering "http/1.1" and, when ``http2``, "h2". Callers must not change it."""
    key: _SharedKey = (http2, _trust_environment())
    context = _shared.get(key)
    if context is not None:
        return context
    with _shared_lock:
        context = _shared.get(key)
        if context is None:
            context = default_ssl_context()
            context.set_alpn_protocols(alpn_protocols(http2))
            if len(_shared) >= _SHARED_LIMIT:  # the environment keeps changing: start over
                _shared.clear()
            _shared[key] = context
        return context


# Distinct trust environments remembered at once (two ALPN offers each).
_SHARED_LIMIT = 8
