# Cython declarations for _selection.py (an augmenting .pxd: the .py stays the one source,
# and runs as it is when interpreted). Compiled, the four classes become extension types:
# their attributes are C struct fields and the private methods C functions, so the pool's
# bookkeeping costs no dictionary lookups or Python calls inside itself (S1-sync, #6).
# Every attribute is `public`, so Python code reads and writes them as in the pure form;
# the private methods (`cdef`) are not visible from Python once compiled.
# Keep this file in step with the .py: tests/pool/test_pool_selection.py runs on both forms.

cdef class _OriginIndex:
    cdef public tuple key
    cdef public list candidates
    cdef public list waiting
    cdef public Py_ssize_t connections
    cdef public Py_ssize_t waiting_count


cdef class PoolEntry:
    cdef public object connection
    cdef public _OriginIndex index
    cdef public Py_ssize_t seq
    cdef public Py_ssize_t pending
    cdef public bint multiplexing
    cdef public bint in_pool
    cdef public bint candidate
    cdef public bint idle
    cdef public Py_ssize_t idle_token
    cdef public double idle_since


cdef class QueuedRequest:
    cdef public object origin
    cdef public tuple key
    cdef public object signal
    cdef public PoolEntry entry
    cdef public object error
    cdef public Py_ssize_t seq
    cdef public bint waiting
    cdef public Py_ssize_t token
    cdef public _OriginIndex index
    cdef public bint live


cdef class PoolState:
    cdef public object _create_connection
    cdef public object _new_signal
    cdef public Py_ssize_t _max_connections
    cdef public Py_ssize_t _max_idle_connections
    cdef public object _keepalive_expiry
    cdef public dict _entries
    cdef public dict _origins
    cdef public dict _requests
    cdef public list _waiting
    cdef public Py_ssize_t _waiting_count
    cdef public list _idle_by_creation
    cdef public object _idle_by_time
    cdef public Py_ssize_t _idle_count
    cdef public Py_ssize_t _next_seq
    cdef public list _closing
    cdef public list _signals

    cpdef list take_signals(self)
    cpdef list add(self, QueuedRequest request)
    cpdef list retry(self, QueuedRequest request)
    cpdef list release(self, QueuedRequest request)
    cpdef list response_started(self, QueuedRequest request)

    cdef Py_ssize_t _take_seq(self)
    cdef _OriginIndex _index_for(self, tuple key)
    cdef _drop_index_if_unused(self, _OriginIndex index)
    cdef _push_waiting(self, QueuedRequest request)
    cdef _stop_waiting(self, QueuedRequest request)
    cdef _give(self, QueuedRequest request, PoolEntry entry)
    cdef _take(self, QueuedRequest request, PoolEntry entry)
    cdef _fail(self, QueuedRequest request, Exception error)
    cdef _assign(self, touched, also)
    cdef bint _serve(self, QueuedRequest request) except -1
    cdef _serve_origin(self, tuple key)
    cdef PoolEntry _new_entry(self, QueuedRequest request, _OriginIndex index)
    cdef PoolEntry _pick(self, _OriginIndex index)
    cdef bint _takes_another(self, PoolEntry entry) except -1
    cdef _push_candidate(self, PoolEntry entry)
    cdef _unassign(self, PoolEntry entry)
    cdef _make_idle(self, PoolEntry entry)
    cdef PoolEntry _first_idle(self)
    cdef _remove(self, PoolEntry entry)
    cdef _evict(self, PoolEntry entry)
    cdef list _finish(self)
    cdef _expire_idle(self)
