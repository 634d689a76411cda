"""The CLI reads JSON answers without the json package (cli/documents.py): for any document,
and for anything that is not one, exactly what json.loads gives (the value, or the exception)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openassist.cli.documents import loads

_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _outcome(data: Any, read: Any) -> tuple[str, str]:
    try:
        return "value", repr(read(data))  # repr: NaN equals NaN
    except Exception as error:
        return type(error).__name__, str(error)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_VALUES, st.sampled_from([None, 2]), st.booleans(), st.sampled_from(["", " \n", "\t"]))
def test_a_document_reads_as_json_loads_reads_it(
    value: Any, indent: int | None, ascii_only: bool, space: str
) -> None:
    text = space + json.dumps(value, indent=indent, ensure_ascii=ascii_only) + space
    assert _outcome(text, loads) == _outcome(text, json.loads)
    data = text.encode()
    assert _outcome(data, loads) == _outcome(data, json.loads)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b'{"a": 1} x',
        b'{"a": 1}{}',
        b"\xef\xbb\xbf{}",  # a UTF-8 byte-order mark: json.loads reads it
        '{"a": "é"}'.encode("utf-16"),
        '{"a": "é"}'.encode("utf-32-le"),
        b"\xff\xfe\xfd",
        b'{"a": "\x01"}',  # a control character in a string
        b"[" * 5000 + b"]" * 5000,
        "\ufeff{}",
        b"NaN",
        b"-Infinity",
        b"1" * 5000,  # past int's digit limit
        b'{"a": 1, "a": 2}',
        bytearray(b'{"a": [1, 2.5]}'),
    ],
)
def test_anything_else_reads_or_fails_as_json_loads_does(data: bytes | str) -> None:
    assert _outcome(data, loads) == _outcome(data, json.loads)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.binary(max_size=40) | st.text(max_size=40))
def test_arbitrary_input_reads_or_fails_as_json_loads_does(data: bytes | str) -> None:
    assert _outcome(data, loads) == _outcome(data, json.loads)
