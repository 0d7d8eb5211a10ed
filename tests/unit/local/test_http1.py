"""The gateway's request-head rules, without sockets: what the loop waits for, what the parser refuses."""

from __future__ import annotations

import io

import pytest

from deployment.local.http1 import HttpError, body_length, head_is_complete, read_head


@pytest.mark.parametrize(
    ("received", "complete"),
    [
        (b"", False),
        (b"GET / HTTP/1.1\r\nHost: a\r\n", False),  # more headers may follow: keep waiting, in the loop
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", True),
        (b"GET / HTTP/1.1\n\n", True),
        (b"\r\n\r\nGET / HTTP/1.1\r\n", False),  # empty lines before a request line do not end a head
        (b"GET /\r\n", True),  # no version: wrong already, answer now rather than wait for headers
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n", True),  # TLS spoken to plain HTTP
        (b"GET /" + b"a" * 9000, True),  # a request line over the limit: 414 now
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 12000, True),  # a head over the limit: 431 now
    ],
)
def test_the_loop_hands_a_head_to_a_worker_only_when_it_can_be_answered_at_once(received, complete):
    assert head_is_complete(received) is complete


def test_a_head_is_read_with_its_fields_in_order_and_names_lower_cased():
    head = read_head(
        io.BytesIO(b"\r\nPOST /predict?x=1 HTTP/1.1\r\nContent-Type: image/jpeg\r\nX-A:  b \r\n\r\n")
    )
    assert head.request_line == "POST /predict?x=1 HTTP/1.1"
    assert (head.path, head.headers) == ("/predict", (("content-type", "image/jpeg"), ("x-a", "b")))
    assert head.keep_alive and body_length(head) is None


def test_http_1_0_and_connection_close_end_the_connection():
    assert not read_head(io.BytesIO(b"GET / HTTP/1.0\r\n\r\n")).keep_alive
    assert not read_head(io.BytesIO(b"GET / HTTP/1.1\r\nConnection: Keep-Alive, close\r\n\r\n")).keep_alive


def test_a_client_that_closes_before_a_request_is_no_request():
    assert read_head(io.BytesIO(b"")) is None


def test_a_head_cut_short_is_a_400_not_a_hang():
    with pytest.raises(HttpError, match="ended before the blank line") as refused:
        read_head(io.BytesIO(b"GET / HTTP/1.1\r\nHost: a\r\n"))
    assert refused.value.status == 400
