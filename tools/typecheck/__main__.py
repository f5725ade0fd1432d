"""``python -m tools.typecheck``: see typecheck.py."""

from __future__ import annotations

import sys

from tools.typecheck.typecheck import main

sys.exit(main(sys.argv[1:]))
