"""Field syntax shared by the request writer and the response parser (RFC 9110 §5, §8.6).

HOT MODULE: compiled by Cython 3 in pure-Python mode (listed in ``build_config.bzl``); the
same file also runs interpreted, and both forms must behave identically.

Rules, as h11 (the reference implementation) applies them, checked against it by the tests:

* A field name is a token (RFC 9110 §5.6.2): ``1*tchar``.
* A field value never contains NUL, CR, LF, VT or FF; any other byte, obs-text included, is
  accepted (RFC 9110 §5.5 recommends rejecting only NUL, CR and LF; VT and FF are refused as
  well, as h11 does). Leading and trailing SP/HTAB are optional whitespace, not part of the
  value.
* Content-Length (RFC 9110 §8.6) is a comma-separated list whose elements, stripped of
  SP/HTAB, must all be the same string, and that string must be 1 to 20 ASCII digits (a
  bound that keeps every accepted value parseable without surprises; 20 digits exceed any
  real length). Several Content-Length fields must carry that same string too. Elements are
  compared as strings, so ``5`` and ``05`` conflict, exactly as in h11.
* Transfer-Encoding must be exactly ``chunked`` (any case) and appear once: no other
  coding is supported, so ``chunked`` is necessarily the final one (RFC 9112 §6.1).
* ``Connection: close`` is a ``close`` token, in any case, in any Connection field
  (RFC 9112 §9.6).

Cost: each helper is a constant number of C-level bytes operations on one value.
"""

from __future__ import annotations

import re
from typing import Optional

# RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#                          "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
TCHAR = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]"
# Bytes that may appear inside a field value (and a reason phrase): all but NUL, LF, VT,
# FF and CR.
VALUE_BYTE = rb"[^\x00\n\x0b\x0c\r]"
# The same, without SP and HTAB: the bytes a sent value may start and end with.
VALUE_EDGE_BYTE = rb"[^\x00\n\x0b\x0c\r \t]"

TOKEN_RE = re.compile(TCHAR + rb"+")

OWS = b" \t"

BAD_CONTENT_LENGTH = "bad Content-Length"
CONFLICTING_CONTENT_LENGTH = "conflicting Content-Length headers"
ONLY_CHUNKED = "Only Transfer-Encoding: chunked is supported"
MULTIPLE_TRANSFER_ENCODING = "multiple Transfer-Encoding headers"

MAX_CONTENT_LENGTH_DIGITS = 20


def content_length_element(value: bytes) -> Optional[bytes]:
    """The one element of a Content-Length value, or None when its elements differ.

    ``b"5"`` -> ``b"5"``; ``b"5, 5"`` -> ``b"5"``; ``b"5,6"`` and ``b"5,"`` -> None. The
    element is not checked here: see ``is_content_length``.
    """
    if b"," not in value:
        return value.strip(OWS)
    elements = {element.strip(OWS) for element in value.split(b",")}
    if len(elements) != 1:
        return None
    return elements.pop()


def is_content_length(element: bytes) -> bool:
    """Whether ``element`` is 1 to 20 ASCII digits (RFC 9110 §8.6: 1*DIGIT)."""
    return 0 < len(element) <= MAX_CONTENT_LENGTH_DIGITS and element.isdigit()


def has_close_token(value: bytes) -> bool:
    """Whether a Connection field value lists the ``close`` option (RFC 9112 §9.6)."""
    lowered = value.lower()
    if lowered == b"close":
        return True
    if b"close" not in lowered:
        return False
    for token in lowered.split(b","):
        if token.strip(OWS) == b"close":
            return True
    return False
