"""Everything one benchmark run produced, saved as JSON so the report can be redrawn.

``python -m tools.bench report RESULTS.json`` rewrites docs/benchmarks.md (and the chart)
from a saved file without measuring again.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any, Dict, List

from tools.bench.limits import Limit
from tools.bench.runner import Run


@dataclasses.dataclass(frozen=True)
class ClientInfo:
    name: str
    available: bool
    version: str = ""
    reason: str = ""


@dataclasses.dataclass
class Results:
    date: str
    command: str
    smoke: bool
    cycles: int
    client_cpus: str
    server_cpus: str
    machine: Dict[str, str]
    clients: List[ClientInfo]
    scenarios: List[str]
    runs: List[Run] = dataclasses.field(default_factory=list)
    limits: List[Limit] = dataclasses.field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Results:
        data: Dict[str, Any] = json.loads(text)
        data["clients"] = [ClientInfo(**c) for c in data["clients"]]
        data["runs"] = [Run(**r) for r in data["runs"]]
        data["limits"] = [Limit(**x) for x in data["limits"]]
        return cls(**data)

    def save(self, path: pathlib.Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())

    @classmethod
    def load(cls, path: pathlib.Path) -> Results:
        return cls.from_json(path.read_text())
