"""``default_ssl_context()``: the TLS context used when the caller gives none (API.md §12).

The result must trust what ``ssl.create_default_context()`` trusts (the system store) plus
the ``certifi`` bundle, and be a new context on every call so the caller may change it.

Cost: OpenSSL parses every certificate it loads, and most of certifi's certificates are
usually in the system store already; parsing them twice is what made this slow. So the
certifi bundle is read and converted to DER once, and each call loads only the certifi
certificates missing from the freshly loaded system store (adding a certificate the store
already holds would change nothing). The "missing" set is recomputed whenever the system
store's size changes (e.g. ``SSL_CERT_FILE`` now points elsewhere).
"""

from __future__ import annotations

import re
import ssl
import threading
from typing import List, Optional, Tuple

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
