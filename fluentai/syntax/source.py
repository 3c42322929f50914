"""Source text and positions: the `Source` a program came from and the `Span` every AST node,
token and error carries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Source:
    """A named program text. `name` is shown in diagnostics exactly as the user gave it."""

    name: str
    text: str

    def line(self, number: int) -> str:
        """The text of 1-based line `number`, without its newline ('' when out of range)."""
        lines = self.text.splitlines()
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return ""


@dataclass(frozen=True, slots=True)
class Span:
    """A position in a source: 1-based line and column of the first character."""

    source: Source
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0

    def __str__(self) -> str:
        return f"{self.source.name}:{self.line}:{self.column}"

    def __repr__(self) -> str:
        return f"Span({self})"
