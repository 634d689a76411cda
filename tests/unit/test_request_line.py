"""Raw non-ASCII bytes of a request line are percent-encoded; nothing else changes."""

from __future__ import annotations

from openassist.server.listen.request_line import escape_request_line


def test_raw_utf8_in_the_target_is_escaped_and_the_rest_kept() -> None:
    data = "POST /r?value=/tmp/配置.conf HTTP/1.1\r\nX-Name: 配\r\n\r\nbody 配".encode()
    escaped, ended = escape_request_line(data)
    line, rest = escaped.split(b"\n", 1)
    assert line == b"POST /r?value=/tmp/%E9%85%8D%E7%BD%AE.conf HTTP/1.1\r"
    assert rest == "X-Name: 配\r\n\r\nbody 配".encode() and ended


def test_ascii_is_untouched_and_a_partial_line_says_so() -> None:
    assert escape_request_line(b"GET / HTTP/1.1\r\n") == (b"GET / HTTP/1.1\r\n", True)
    assert escape_request_line("GET /配".encode()) == (b"GET /%E9%85%8D", False)
