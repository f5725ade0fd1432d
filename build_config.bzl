# The one place for the version and the list of hot modules, shared by both builds:
# Bazel loads this file; setup.py reads the same assignments with ast.literal_eval.
# Keep it to plain literal assignments.

VERSION = "1.0.9"

# Hot modules compiled by Cython (pure-Python mode): "<lib>:<path inside the lib>".
HOT_MODULES = [
    "core:httpcore/_core/_headers.py",
]
