# The one list of hot modules, shared by both builds: Bazel loads this file; setup.py reads
# the same assignment with ast.literal_eval. Keep it a plain literal.
# (The one version number is libs/api/httpcore/_version.py, read by setup.py the same way.)

# Hot modules compiled by Cython (pure-Python mode): "<lib>:<path inside the lib>".
#
# Two kinds. The codec and bookkeeping modules are written for Cython: their annotations
# type their locals and arguments. An augmenting .pxd beside one makes its classes extension
# types (C fields, C calls): the pool's bookkeeping (_selection, _locked_state) and the
# HTTP/1.1 codec's parser, receive buffer, events and field sections. They took the S1-sync
# CPU per request from 22.5 to about 18 us. The others (each starts with the directive line
# `# cython: annotation_typing=False`) are ordinary Python on the request path, compiled
# only to drop the interpreter's per-bytecode cost (about a tenth of the sync client's CPU
# per request); with the directive their annotations stay hints, exactly as in the pure
# form, so both forms accept the same arguments. Compiling the sync request path took the
# S1-sync CPU per request from 26 to 23 us.
#
# No compiled module may define a coroutine (tests/wheel/test_wheel_contents.py): a
# compiled one is not a native coroutine, and on Python 3.9 anyio's start_soon refuses it
# ("did not return a coroutine"). Compiling the async request path gained about 5% on
# S1-async on 3.11 (42 to 40 us), not worth a coroutine type that differs from 1.0.9's.
HOT_MODULES = [
    "core:httpcore/_core/_headers.py",
    "pool:httpcore/_pool/_selection.py",
    "pool:httpcore/_pool/_locked_state.py",
    "protocols:httpcore/_protocols/_http11/_events.py",
    "protocols:httpcore/_protocols/_http11/_fields.py",
    "protocols:httpcore/_protocols/_http11/_head.py",
    "protocols:httpcore/_protocols/_http11/_parser.py",
    "protocols:httpcore/_protocols/_http11/_receive_buffer.py",
    "protocols:httpcore/_protocols/_http11/_writer.py",
    "backends:httpcore/_backends/_socket_helpers.py",
    "backends:httpcore/_backends/_sync_backend.py",
    "core:httpcore/_core/_deadline.py",
    "core:httpcore/_core/_stale.py",
    "core:httpcore/_core/_sync/request_interface.py",
    "core:httpcore/_core/_urls.py",
    "pool:httpcore/_pool/_sync/connection_pool.py",
    "protocols:httpcore/_protocols/_sync/connection.py",
    "protocols:httpcore/_protocols/_sync/http11.py",
]
