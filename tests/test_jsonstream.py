"""The streaming JSON reader behind the price feeds: same values as json.load, errors by line.

The AWS offer file is read member by member through a one-megabyte buffer; these tests
shrink the buffer to a few characters so that every value straddles a refill.
"""

from __future__ import annotations

import doctest
import io
import json

import advisor.tools.jsonstream as jsonstream
import pytest
from advisor.tools.errors import FeedError
from advisor.tools.jsonstream import JsonStream

DOC = {
    "products": {
        f"SKU{i}": {"sku": f"SKU{i}", "attributes": {"vcpu": str(i), "note": "a\nb" * i}}
        for i in range(30)
    },
    "terms": {"OnDemand": {f"SKU{i}": {"USD": f"{i * 1.25:.10f}"} for i in range(30)}},
    "big": 12345678901234567890,
    "list": [1, 2.5, None, True, "x"],
}
TEXT = json.dumps(DOC, indent=2, separators=(",", " : "))


def _walk(js: JsonStream) -> tuple[dict, dict]:
    out: dict = {}
    lines: dict = {}
    for key, _ in js.members():
        if key == "products":
            out[key] = {}
            for sku, line in js.members():
                out[key][sku] = js.value()
                lines[sku] = line
        elif key == "terms":
            out[key] = {k: {s: js.value() for s, _ in js.members()} for k, _ in js.members()}
        elif key == "list":
            out[key] = [js.value() for _ in js.elements()]
        else:
            out[key] = js.value()
    js.end()
    return out, lines


@pytest.mark.parametrize("chunk", [1, 2, 5, 64, 1 << 20])
def test_member_by_member_equals_json_load(chunk):
    got, lines = _walk(JsonStream(io.StringIO(TEXT), "t.json", chunk=chunk))
    assert got == DOC
    where = TEXT.splitlines().index('    "SKU7" : {') + 1
    assert lines["SKU7"] == where


@pytest.mark.parametrize("chunk", [3, 1 << 20])
def test_an_error_names_its_line(chunk):
    bad = TEXT.replace('"vcpu" : "7"', '"vcpu" : "7" "8"')
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if '"7" "8"' in text)
    expected = rf"^t.json:{line}: not valid JSON: Expecting ',' delimiter"
    with pytest.raises(FeedError, match=expected):
        _walk(JsonStream(io.StringIO(bad), "t.json", chunk=chunk))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected '{', found the end of the file"),
        ('{"a": 1', "expected ',' or '}', found the end of the file"),
        ('{"a" 1}', "expected ':', found '1'"),
        ('{"a": 1} x', "extra data after the document"),
        ('{"a": [1, 2,]}', "Expecting value"),
        ("{1: 2}", "an object key must be a string"),
    ],
)
def test_broken_documents(text, message):
    with pytest.raises(FeedError, match=message):
        js = JsonStream(io.StringIO(text), "a.json")
        for key, _ in js.members():
            if key == "a" and text.startswith('{"a": ['):
                [js.value() for _ in js.elements()]
            else:
                js.value()
        js.end()


def test_module_example():
    assert doctest.testmod(jsonstream).failed == 0
