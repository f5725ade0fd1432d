"""The clients under test: how each is installed, which driver runs it, what it can do.

Each client gets its own virtualenv (``tools.bench.venvs``) with ``requirements`` installed
from PyPI; ``{wheel}`` in a requirement stands for this project's compiled wheel.
``sync`` / ``async_`` / ``http2`` say which scenario forms the client has; a scenario form a
client lacks is shown as n/a with ``missing_reason``.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Sequence, Tuple

OURS = "ours"
BASELINE = "httpcore-1.0.9"


@dataclasses.dataclass(frozen=True)
class Client:
    name: str
    distribution: str  # the installed distribution, for its version
    requirements: Tuple[str, ...]
    driver: str  # module in tools/bench/drivers
    module: str  # import name (S7, and --module for the httpcore family)
    sync: bool
    async_: bool
    http2: bool

    def lacks(self, mode: str, http2: bool) -> str:
        """Why this client cannot run a scenario form, or "" when it can."""
        if http2 and not self.http2:
            return "no multiplexed HTTP/2"
        if mode == "sync" and not self.sync:
            return "no sync API"
        if mode == "async" and not self.async_:
            return "no async API"
        return ""


_FAMILY = "drive_httpcore"

CLIENTS: Tuple[Client, ...] = (
    Client(OURS, "httpcore", ("{wheel}[http2]",), _FAMILY, "httpcore",
           sync=True, async_=True, http2=True),
    Client(BASELINE, "httpcore", ("httpcore[asyncio,http2]==1.0.9",), _FAMILY, "httpcore",
           sync=True, async_=True, http2=True),
    Client("httpcore2", "httpcore2", ("httpcore2[asyncio,http2]",), _FAMILY, "httpcore2",
           sync=True, async_=True, http2=True),
    Client("httpcorexyz", "httpcorexyz", ("httpcorexyz[asyncio,http2]",), _FAMILY, "httpcorexyz",
           sync=True, async_=True, http2=True),
    Client("aiohttp", "aiohttp", ("aiohttp",), "drive_aiohttp", "aiohttp",
           sync=False, async_=True, http2=False),
    Client("urllib3", "urllib3", ("urllib3>=2,<3",), "drive_urllib3", "urllib3",
           sync=True, async_=False, http2=False),
    Client("pycurl", "pycurl", ("pycurl",), "drive_pycurl", "pycurl",
           sync=True, async_=False, http2=True),
    Client("pyreqwest", "pyreqwest", ("pyreqwest",), "drive_pyreqwest", "pyreqwest.client",
           sync=True, async_=True, http2=True),
)

BY_NAME: Dict[str, Client] = {client.name: client for client in CLIENTS}


def select(names: Sequence[str]) -> List[Client]:
    """The clients named (all when none; a smoke run too); unknown names are an error."""
    if names:
        unknown = [name for name in names if name not in BY_NAME]
        if unknown:
            raise ValueError(f"unknown clients {unknown}; known: {sorted(BY_NAME)}")
        return [BY_NAME[name] for name in names]
    return list(CLIENTS)
