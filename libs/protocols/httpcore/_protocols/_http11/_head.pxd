# Cython declarations for _head.py (an augmenting .pxd; see
# libs/pool/httpcore/_pool/_selection.pxd for the rules): FieldSection, made for every
# response head, becomes an extension type.

cdef class FieldSection:
    cdef public object headers
    cdef public object content_length
    cdef public object chunked
    cdef public object close
