"""Parsing a document again after each keystroke without parsing all of it: a program is cut
into its top-level statements, and the AST of a statement is kept while its text and its
first line stay the same. Typing inside one function reparses that function only.

The result is exactly `parse`'s, errors included:

- A cut is made only before a line that starts, in its first column, with a name or a
  keyword other than `else catch finally with when in`, where no bracket, string or
  comment is open. The grammar is greedy (`a` newline `(b)` is a call), but no name can
  continue an expression, so when the statements on both sides of a cut parse, the whole
  text parses into the same statements. A cut in the wrong place (say, inside a string a
  rough scanner misread) leaves the piece before it unfinished, so it fails to parse.
- A piece that fails is parsed again together with everything after it: the pieces before
  it are complete statements, so the parser reaches its first token in the same state as a
  parse of the whole text would, and reports the same first error (the parser stops at the
  first error, so this costs the text up to it). When that parse succeeds, the cut was
  wrong, and its statements are used.
- `parse` finds every syntax error of the parse tree before any error of building the AST
  (an unknown escape in a string); so does this, over the pieces in order.

Each piece is parsed as a text of blank lines followed by the piece, so its spans are the
document's lines and columns. A piece met again on another line (a line was added above
it) is not parsed again: its statements are copied with their spans moved, which is some
twenty times cheaper.
"""

from __future__ import annotations

import itertools
import re
from collections import OrderedDict

from lark import Token, Tree

from ...syntax import ast
from ...syntax.errors import FluentSyntaxError
from ...syntax.parser import parse_tree, to_ast
from ...syntax.source import Source, Span

# Strings (which may span lines), comments, brackets, and the start of a line that begins
# with a name: enough to know where top-level statements can start.
_ROUGH = re.compile(r'//[^\n]*|/\*.*?(?:\*/|\Z)|"(?:[^"\\]|\\.)*(?:"|\Z)|([(\[{])|([)\]}])'
                    r"|\n(?=([A-Za-z_]\w*))", re.S)
_CONTINUING = frozenset(("else", "catch", "finally", "with", "when", "in"))
MAX_PIECES = 20_000  # cached statements, over every document


def cuts(text: str) -> list[int]:
    """Offsets where top-level statements may start (0 first)."""
    out = [0]
    depth = 0
    for m in _ROUGH.finditer(text):
        if m.group(1):
            depth += 1
        elif m.group(2):
            depth = max(0, depth - 1)
        elif m.group(3) is not None and depth == 0 and m.group(3) not in _CONTINUING:
            out.append(m.end())
    return out


class _Failed:
    """A piece that does not parse; `tree` tells which step failed."""

    __slots__ = ("error", "tree")

    def __init__(self, error: FluentSyntaxError, tree: bool) -> None:
        self.error = error
        self.tree = tree


class Parser:
    """`parse` with memory: the statements of pieces seen before, by (name, first line,
    text). One instance serves every document of a server."""

    def __init__(self, limit: int = MAX_PIECES) -> None:
        self.limit = limit
        self._pieces: OrderedDict[tuple[str, int, str], tuple[ast.Node, ...] | _Failed] = \
            OrderedDict()
        # The statements of a piece that parsed, by (name, text): on which line, and them.
        self._parsed: OrderedDict[tuple[str, str], tuple[int, tuple[ast.Node, ...]]] = \
            OrderedDict()

    def parse(self, source: Source) -> ast.Program:
        text = source.text
        offsets = cuts(text)
        offsets.append(len(text))
        results: list[tuple[int, int, tuple[ast.Node, ...] | _Failed]] = []
        line = 1
        for start, end in itertools.pairwise(offsets):
            piece = text[start:end]
            results.append((start, line, self._piece(source.name, line, piece)))
            line += piece.count("\n")
        body: list[ast.Node] = []
        ast_error: FluentSyntaxError | None = None
        for start, line, got in results:
            if not isinstance(got, _Failed):
                body.extend(got)
                continue
            if not got.tree:
                ast_error = ast_error or got.error
                continue
            rest = Source(source.name, "\n" * (line - 1) + text[start:])
            tree = parse_tree(rest)  # raises the error a parse of the whole text raises
            # It parsed: the cut before this piece was misplaced (and so were those after).
            if ast_error is not None:
                raise ast_error
            body.extend(to_ast(rest, tree).body)
            break
        if ast_error is not None:
            raise ast_error
        return ast.Program(Span(source, 1, 1), tuple(body))

    def _piece(self, name: str, line: int, piece: str) -> tuple[ast.Node, ...] | _Failed:
        key = (name, line, piece)
        got = self._pieces.get(key)
        if got is not None:
            self._pieces.move_to_end(key)
            return got
        source = Source(name, "\n" * (line - 1) + piece)
        got = self._moved(name, line, piece, source)
        if got is None:
            tree: Tree[Token] | None = None
            try:
                tree = parse_tree(source)
                got = to_ast(source, tree).body
            except FluentSyntaxError as e:
                got = _Failed(e, tree is None)
        self._pieces[key] = got
        if len(self._pieces) > self.limit:
            self._pieces.popitem(last=False)
        if not isinstance(got, _Failed):
            self._parsed[(name, piece)] = (line, got)
            self._parsed.move_to_end((name, piece))
            if len(self._parsed) > self.limit:
                self._parsed.popitem(last=False)
        return got

    def _moved(self, name: str, line: int, piece: str, source: Source
               ) -> tuple[ast.Node, ...] | None:
        """The statements of `piece` parsed on another line, moved to `line`."""
        known = self._parsed.get((name, piece))
        if known is None:
            return None
        try:
            moved = _move(known[1], line - known[0], source)
        except RecursionError:  # nested deeper than Python recursion goes: parse it
            return None
        assert isinstance(moved, tuple)
        return moved


_ATOMS = frozenset((str, int, float, bool, type(None)))


def _move(value: object, lines: int, source: Source) -> object:
    """A copy of AST nodes (or of a tuple or span within them) `lines` lines further down,
    their spans in `source`."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is Span:
        span: Span = value  # type: ignore[assignment]
        return Span(source, span.line + lines, span.column,
                    span.end_line + lines if span.end_line else 0, span.end_column)
    if kind is tuple:
        return tuple([_move(item, lines, source) for item in value])  # type: ignore[attr-defined]
    fields = kind._fields  # type: ignore[attr-defined]
    return kind(*[_move(getattr(value, f), lines, source) for f in fields])
