"""Events and markers of the HTTP/1.1 parser (``httpcore._protocols._http11._events``)."""

from __future__ import annotations

import pytest

from httpcore._protocols._http11 import NEED_DATA, PAUSED, Data, EndOfMessage, Marker, ResponseHead


def _head() -> ResponseHead:
    return ResponseHead(200, b"OK", b"1.1", [(b"Content-Length", b"3")])


def test_response_head_exposes_its_fields() -> None:
    head = _head()
    assert head.status_code == 200
    assert head.reason == b"OK"
    assert head.http_version == b"1.1"
    assert head.headers == [(b"Content-Length", b"3")]


def test_response_head_fields_are_read_only() -> None:
    head = _head()
    with pytest.raises(AttributeError):
        head.status_code = 404  # type: ignore[misc]


def test_data_is_read_only() -> None:
    with pytest.raises(AttributeError):
        Data(b"x").data = b"y"  # type: ignore[misc]


def test_end_of_message_is_read_only() -> None:
    with pytest.raises(AttributeError):
        EndOfMessage([]).trailers = []  # type: ignore[misc]


def test_events_have_no_instance_dict() -> None:
    with pytest.raises(AttributeError):
        _head().extra = 1  # type: ignore[attr-defined]


def test_events_compare_by_class_and_fields() -> None:
    assert _head() == _head()
    assert _head() != ResponseHead(200, b"OK", b"1.0", [(b"Content-Length", b"3")])
    assert Data(b"x") == Data(b"x")
    assert Data(b"x") != Data(b"y")
    assert EndOfMessage([(b"a", b"b")]) == EndOfMessage([(b"a", b"b")])
    assert EndOfMessage([]) != EndOfMessage([(b"a", b"b")])
    assert Data(b"") != EndOfMessage([])
    assert Data(b"x") != b"x"


def test_events_are_unhashable() -> None:
    for event in (_head(), Data(b"x"), EndOfMessage([])):
        with pytest.raises(TypeError):
            hash(event)


def test_event_reprs_show_their_fields() -> None:
    assert repr(Data(b"x")) == "Data(data=b'x')"
    assert repr(EndOfMessage([])) == "EndOfMessage(trailers=[])"
    assert repr(_head()) == (
        "ResponseHead(status_code=200, reason=b'OK', http_version=b'1.1', "
        "headers=[(b'Content-Length', b'3')])"
    )


def test_markers_are_distinct_named_singletons() -> None:
    assert isinstance(NEED_DATA, Marker)
    assert isinstance(PAUSED, Marker)
    assert NEED_DATA is not PAUSED
    assert repr(NEED_DATA) == "NEED_DATA"
    assert repr(PAUSED) == "PAUSED"
