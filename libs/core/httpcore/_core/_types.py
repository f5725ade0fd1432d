"""Type aliases shared by the models and the header helpers (re-exported by ``_models``)."""

from __future__ import annotations

from typing import Any, Mapping, MutableMapping, Sequence, Tuple, Union

ByteOrStr = Union[bytes, str]
HeadersAsSequence = Sequence[Tuple[ByteOrStr, ByteOrStr]]
HeadersAsMapping = Mapping[ByteOrStr, ByteOrStr]
HeaderTypes = Union[HeadersAsSequence, HeadersAsMapping, None]
Extensions = MutableMapping[str, Any]
