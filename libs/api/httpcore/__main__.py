"""``python -m httpcore``: the curl-like debugging command of ``httpcore._cli``."""

from __future__ import annotations

from httpcore._cli import main

raise SystemExit(main())
