"""``python -m tools.unasync``: see the package docstring."""

from __future__ import annotations

import sys

from tools.unasync import main

sys.exit(main())
