"""Generate the sync twin of every hand-written async module (``python -m tools.unasync``).

Async code is written once, under directories named ``_async``; this tool writes its sync
twin under the sibling ``_sync`` directory by substituting tokens from the table in
``rules.py`` (``AsyncConnectionPool`` -> ``ConnectionPool``, ``async def`` -> ``def``, ...).

    python -m tools.unasync            write the twins, delete generated orphans
    python -m tools.unasync --check    write nothing; exit 1 on stale, missing or extra
                                       generated files and on unused rules
    --root DIR                         the tree to work on (default: this repository)
"""

from __future__ import annotations

from ._generate import HEADER_MARK, Report, header, main, run
from ._translate import RuleTable, Translation, TranslationError, compile_rules, translate
from .rules import RULES

__all__ = [
    "HEADER_MARK",
    "RULES",
    "Report",
    "RuleTable",
    "Translation",
    "TranslationError",
    "compile_rules",
    "header",
    "main",
    "run",
    "translate",
]
