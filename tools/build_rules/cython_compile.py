"""Run Cython 3 on one pure-Python-mode module: cython_compile.py --module-name M -o OUT SRC."""

from __future__ import annotations

import sys

from Cython.Compiler.Main import main

if __name__ == "__main__":
    sys.argv = ["cython", "-3", "--fast-fail", *sys.argv[1:]]
    main(command_line=1)
