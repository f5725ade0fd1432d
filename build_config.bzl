# The one list of hot modules, shared by both builds: Bazel loads this file; setup.py reads
# the same assignment with ast.literal_eval. Keep it a plain literal.
# (The one version number is libs/api/httpcore/_version.py, read by setup.py the same way.)

# Hot modules compiled by Cython (pure-Python mode): "<lib>:<path inside the lib>".
HOT_MODULES = [
    "core:httpcore/_core/_headers.py",
    "pool:httpcore/_pool/_selection.py",
    "protocols:httpcore/_protocols/_http11/_events.py",
    "protocols:httpcore/_protocols/_http11/_fields.py",
    "protocols:httpcore/_protocols/_http11/_head.py",
    "protocols:httpcore/_protocols/_http11/_parser.py",
    "protocols:httpcore/_protocols/_http11/_receive_buffer.py",
    "protocols:httpcore/_protocols/_http11/_writer.py",
]
