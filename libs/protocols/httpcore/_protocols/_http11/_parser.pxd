# Cython declarations for _parser.py (an augmenting .pxd; see
# libs/pool/httpcore/_pool/_selection.pxd for the rules). ResponseParser becomes an extension
# type: its state is C fields, and its steps and its buffer's methods are C calls.
# The byte counts (_remaining, _received, _expected) stay Python ints: a Content-Length or
# chunk size may exceed a C integer.

from httpcore._protocols._http11._receive_buffer cimport ReceiveBuffer

cdef class ResponseParser:
    cdef public ReceiveBuffer _buffer
    cdef public long _state
    cdef public bint _eof
    cdef public str _error
    cdef public object _method
    cdef public bint _request_close
    cdef public bint _request_upgrade
    cdef public bint _keep_alive
    cdef public object _remaining
    cdef public object _received
    cdef public object _expected
    cdef public bytes _footer
    cdef public object _max_incomplete

    cdef _reset(self, request_method, bint request_close, bint request_upgrade)
    cpdef feed(self, data)
    cpdef next_event(self)
    cdef _next_head(self)
    cdef _start_length_body(self, length)
    cdef _next_length_data(self)
    cdef _next_chunked(self)
    cdef _next_trailers(self)
    cdef _next_until_close(self)
