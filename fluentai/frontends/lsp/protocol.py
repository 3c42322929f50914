"""Positions between the index and the protocol. The index counts like the parser: 1-based
lines ended by '\\n' only, 1-based columns in characters. The protocol counts 0-based lines
and columns in the code units the client and server agreed on (UTF-16 unless the client
offers another), so a character outside the Basic Multilingual Plane (an emoji in a string)
counts twice there."""

from __future__ import annotations

from lsprotocol import types as t

from .symbols import Pos


def _utf16(s: str) -> int:
    return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)


def _utf8(s: str) -> int:
    return len(s.encode("utf-8", "surrogatepass"))


_UNITS = {t.PositionEncodingKind.Utf16: _utf16, t.PositionEncodingKind.Utf8: _utf8,
          t.PositionEncodingKind.Utf32: len}


class Lines:
    """One text's lines, converting positions both ways. `bom`: the client's text starts
    with a byte-order mark that the analysed text does not have."""

    def __init__(self, text: str, encoding: str | None = None, bom: bool = False) -> None:
        self.lines = text.split("\n")
        self.units = _UNITS.get(encoding or t.PositionEncodingKind.Utf16, _utf16)  # type: ignore[call-overload]
        self.bom = self.units("\ufeff") if bom else 0
        self._cumulative: dict[int, list[int]] = {}  # per non-ASCII line: units before each column

    def line(self, number: int) -> str:
        """1-based; '' beyond the text."""
        return self.lines[number - 1] if 1 <= number <= len(self.lines) else ""

    def position(self, pos: Pos) -> t.Position:
        line, col = pos
        if line > len(self.lines):
            return t.Position(len(self.lines) - 1, self.units(self.lines[-1]) + self.bom_at(line))
        return t.Position(max(line - 1, 0), self.column_units(max(line, 1), col) + self.bom_at(line))

    def column_units(self, line: int, col: int) -> int:
        """Code units before column `col` of line `line` (both 1-based)."""
        text = self.lines[line - 1]
        col = min(max(col - 1, 0), len(text))
        if text.isascii():
            return col
        cumulative = self._cumulative.get(line)
        if cumulative is None:
            cumulative = [0]
            for c in text:
                cumulative.append(cumulative[-1] + self.units(c))
            self._cumulative[line] = cumulative
        return cumulative[col]

    def range(self, start: Pos, end: Pos) -> t.Range:
        return t.Range(self.position(start), self.position(end))

    def pos(self, position: t.Position) -> Pos:
        """The index position of a protocol position (clamped to the text)."""
        line = min(max(position.line, 0), len(self.lines) - 1) + 1
        text = self.lines[line - 1]
        want = position.character - self.bom_at(line)
        units = 0
        for i, c in enumerate(text):
            if units >= want:
                return (line, i + 1)
            units += self.units(c)
        return (line, len(text) + 1)

    def bom_at(self, line: int) -> int:
        """Code units a byte-order mark adds before the columns of 1-based `line`."""
        return self.bom if line == 1 else 0
