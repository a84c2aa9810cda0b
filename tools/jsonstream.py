"""Reading a large JSON document member by member, with line numbers for errors.

The AWS EC2 offer file is gigabytes; ``json.load`` would hold all of it in memory and lose
where each record was. :class:`JsonStream` walks the outer objects and arrays itself and
decodes one member at a time with the standard library's decoder, so memory stays at one
member (plus a read buffer) and every error names the line it is on.

>>> import io
>>> js = JsonStream(io.StringIO('{"a": [1, {"b": 2}], "c": 3}'), "x.json")
>>> for key, _line in js.members():
...     if key == "a":
...         print([js.value() for _ in js.elements()])
...     else:
...         print(key, js.value())
[1, {'b': 2}]
c 3
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, TextIO

from .errors import FeedError

_CHUNK = 1 << 20  # characters read at a time
# A decode error this close to the buffer's end may be the buffer's (read on); further in,
# it is the file's. No record in these feeds comes near a megabyte.
_SLACK = 1 << 20
_WS = re.compile(r"[ \t\n\r]*")


class JsonStream:
    """A cursor over one JSON document read from ``fh`` (``where`` names it in errors)."""

    def __init__(self, fh: TextIO, where: str, *, chunk: int = _CHUNK) -> None:
        self._fh = fh
        self.where = where
        self._chunk = chunk
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._line = 1  # line number at self._counted
        self._counted = 0
        self._decoder = json.JSONDecoder()

    # -- position ----------------------------------------------------------------
    def line(self, pos: int | None = None) -> int:
        """The 1-based line of ``pos`` in the buffer (default: the cursor)."""
        at = self._pos if pos is None else pos
        if at >= self._counted:
            self._line += self._buf.count("\n", self._counted, at)
            self._counted = at
            return self._line
        return self._line - self._buf.count("\n", at, self._counted)

    def error(self, message: str, line: int | None = None) -> FeedError:
        return FeedError(self.where, self.line() if line is None else line, message)

    def _fill(self) -> bool:
        """Read the next chunk, dropping what was consumed; False at the end of the file."""
        if self._eof:
            return False
        chunk = self._fh.read(self._chunk)
        if not chunk:
            self._eof = True
            return False
        self.line()  # count the lines of the part about to be dropped
        self._buf = self._buf[self._pos :] + chunk
        self._counted -= self._pos
        self._pos = 0
        return True

    def _skip_ws(self) -> None:
        while True:
            match = _WS.match(self._buf, self._pos)
            self._pos = match.end() if match else self._pos
            if self._pos < len(self._buf) or not self._fill():
                return

    def peek(self) -> str:
        """The next non-blank character, or '' at the end of the file."""
        self._skip_ws()
        return self._buf[self._pos] if self._pos < len(self._buf) else ""

    def _expect(self, char: str) -> None:
        found = self.peek()
        if found != char:
            what = repr(found) if found else "the end of the file"
            raise self.error(f"not valid JSON: expected {char!r}, found {what}")
        self._pos += 1

    # -- values ------------------------------------------------------------------
    def value(self) -> Any:
        """Decode the next complete JSON value (an object, array, string, number...)."""
        self.peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                # Truncated by the read buffer, or really broken? Read on while the error
                # sits within a chunk of the buffer's end; past that it is the file's.
                if len(self._buf) - exc.pos < _SLACK and self._fill():
                    continue
                raise self.error(f"not valid JSON: {exc.msg}", self.line(exc.pos)) from None
            # A number cut by the buffer's end ("2." of "2.5", "1e" of "1e5") decodes short:
            # read on and decode again when it ends at, or next to, the buffer's end.
            near_end = len(self._buf) - end <= (2 if isinstance(value, (int, float)) else 0)
            if near_end and self._fill():
                continue
            self._pos = end
            return value

    def members(self) -> Iterator[tuple[str, int]]:
        """Walk an object: yields (key, line) and the caller reads each member's value."""
        self._expect("{")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            line = self.line()
            key = self.value()
            if not isinstance(key, str):
                raise self.error("not valid JSON: an object key must be a string", line)
            self._expect(":")
            self.peek()
            yield key, self.line()
            if self._close("}"):
                return

    def elements(self) -> Iterator[int]:
        """Walk an array: yields each element's line and the caller reads the element."""
        self._expect("[")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            self.peek()
            yield self.line()
            if self._close("]"):
                return

    def _close(self, closer: str) -> bool:
        found = self.peek()
        self._pos += 1
        if found == ",":
            return False
        if found == closer:
            return True
        self._pos -= 1
        what = repr(found) if found else "the end of the file"
        raise self.error(f"not valid JSON: expected ',' or {closer!r}, found {what}")

    def end(self) -> None:
        """Check that nothing but blanks follows the document."""
        if self.peek():
            raise self.error("not valid JSON: extra data after the document")
