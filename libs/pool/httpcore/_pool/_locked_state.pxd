# Cython declarations for _locked_state.py (an augmenting .pxd; see _selection.pxd).
from httpcore._pool._selection cimport PoolState, QueuedRequest

cdef class LockedState:
    cdef public PoolState state
    cdef public object _acquire
    cdef public object _release
    cdef public set _inside
    cdef public object _deferred

    cpdef list add(self, QueuedRequest request)
    cpdef list release(self, QueuedRequest request)
    cpdef list response_started(self, QueuedRequest request)
    cpdef bint release_soon(self, QueuedRequest request) except -1

    cdef list _run(self, int operation, QueuedRequest request, inspection)
    cdef list _apply(self, PoolState state, int operation, QueuedRequest request)
