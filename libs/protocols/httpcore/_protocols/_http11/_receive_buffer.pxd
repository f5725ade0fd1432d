# Cython declarations for _receive_buffer.py (an augmenting .pxd; see
# libs/pool/httpcore/_pool/_selection.pxd for the rules). ReceiveBuffer becomes an extension
# type, so the parser (which cimports it) calls its methods as C functions.

cdef class ReceiveBuffer:
    cdef public object _data
    cdef public Py_ssize_t _start
    cdef public Py_ssize_t _scanned

    cpdef feed(self, data)
    cdef bytes _consume(self, Py_ssize_t end, Py_ssize_t skip)
    cpdef bytes take(self, count)
    cpdef bytes take_all(self)
    cpdef long first_byte(self) except? -2
    cpdef maybe_take_line(self)
    cpdef maybe_take_section(self)
