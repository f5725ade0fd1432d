# Cython declarations for _events.py (an augmenting .pxd; see
# libs/pool/httpcore/_pool/_selection.pxd for the rules). The events become extension types:
# one is made for every part of every response, and the connection reads its fields through
# the properties of _events.py, which compile to C getters.

cdef class ResponseHead:
    cdef public object _status_code
    cdef public object _reason
    cdef public object _http_version
    cdef public object _headers


cdef class Data:
    cdef public object _data


cdef class EndOfMessage:
    cdef public object _trailers


cdef class Marker:
    cdef public object _name
