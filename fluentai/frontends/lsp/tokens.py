"""Semantic tokens (full document): every token of the text with what it is, so an editor
without a FluentAI grammar (Neovim, Helix) can colour the code, and one with a grammar learns
what the grammar cannot know — a parameter from a local, a function from a variable, a
module, a builtin, a constant.

The tokens are those of the REPL's tolerant scanner (`completion.scan`), so a text that
does not parse is coloured too; a name gets its meaning from the symbol index where one is
known. Tokens that span lines (block comments, strings) are cut at line ends, for clients
without multi-line token support.
"""

from __future__ import annotations

import bisect

from ..check import KNOWN_GLOBALS
from ..completion import scan
from . import symbols as sym
from .analysis import Analysis
from .navigation import target
from .protocol import Lines
from .symbols import Index, Occurrence, line_starts
from .workspace import Workspace

TYPES = ["namespace", "class", "function", "method", "property", "variable", "parameter",
         "keyword", "string", "number", "comment", "operator"]
MODIFIERS = ["declaration", "readonly", "defaultLibrary", "async"]
_TYPE = {name: i for i, name in enumerate(TYPES)}
_DECLARATION, _READONLY, _LIBRARY, _ASYNC = (1 << i for i in range(len(MODIFIERS)))
_PLAIN = {"keyword": "keyword", "constant": "keyword", "number": "number", "string": "string",
          "comment": "comment", "op": "operator"}
_BY_KIND = {sym.FUNCTION: "function", sym.PARAM: "parameter", sym.LET: "variable",
            sym.CONST: "variable", sym.FOR: "variable", sym.CATCH: "variable",
            sym.PATTERN: "variable", sym.MODULE: "namespace", sym.IMPORT: "variable"}


class _Namer:
    """What a name token is, from the index (modules' files read at most once each)."""

    def __init__(self, ws: Workspace, analysis: Analysis, index: Index | None) -> None:
        self.ws = ws
        self.analysis = analysis
        self.index = index
        self._targets: dict[tuple[str, str], tuple[str, int]] = {}

    def classify(self, kind: str, line: int, col: int, word: str) -> tuple[str, int]:
        occ = self._occurrence(line, col)
        if occ is None:
            return ("class", 0) if kind in ("effect", "type") else ("variable", 0)
        role = occ.role
        if role == sym.EFFECT:
            return "class", 0
        if role == sym.OPERATION or role == sym.METHOD:
            return "method", 0
        if role == sym.FIELD:
            return "property", 0
        if role == sym.MEMBER or (occ.symbol is not None and occ.symbol.kind == sym.IMPORT):
            return self._across(occ)
        s = occ.symbol
        if s is None:
            if word in KNOWN_GLOBALS:
                return ("variable" if word == "args" else "function"), _LIBRARY
            return "variable", 0
        mods = _DECLARATION if role == sym.DECLARATION else 0
        if s.kind == sym.CONST:
            mods |= _READONLY
        if s.async_:
            mods |= _ASYNC
        return _BY_KIND.get(s.kind, "variable"), mods

    def _occurrence(self, line: int, col: int) -> Occurrence | None:
        return self.index.by_start.get((line, col)) if self.index is not None else None

    def _across(self, occ: Occurrence) -> tuple[str, int]:
        module = occ.module.name if occ.module is not None else (occ.symbol.module or "") \
            if occ.symbol is not None else ""
        key = (module, occ.name)
        if key not in self._targets:
            found = target(self.ws, self.analysis, occ)
            if found is None or found.symbol.kind in (sym.MODULE, sym.IMPORT):
                self._targets[key] = ("variable", 0)
            else:
                kind = found.symbol.kind
                self._targets[key] = (_BY_KIND.get(kind, "variable"),
                                      _READONLY if kind == sym.CONST else 0)
        typ, mods = self._targets[key]
        if occ.role == sym.DECLARATION:
            mods |= _DECLARATION
        return typ, mods


def semantic_tokens(ws: Workspace, analysis: Analysis, index: Index | None,
                    encoding: str | None) -> list[int]:
    text = analysis.text
    lines = Lines(text, encoding, analysis.bom)
    starts = line_starts(text)
    namer = _Namer(ws, analysis, index)
    data: list[int] = []
    last_line, last_char = 0, 0
    for kind, a, b in scan(text).tokens:
        if kind in ("punct", "interp"):
            continue
        line = bisect.bisect_right(starts, a)
        col = a - starts[line - 1] + 1
        if kind in _PLAIN:
            typ, mods = _PLAIN[kind], 0
        else:
            typ, mods = namer.classify(kind, line, col, text[a:b])
        # One token per line the text spans.
        while a < b:
            end = min(b, starts[line] - 1) if line < len(starts) else b
            if end > a:
                piece = text[a:end]
                char = lines.column_units(line, a - starts[line - 1] + 1) + lines.bom_at(line)
                length = len(piece) if piece.isascii() else lines.units(piece)
                delta_line = line - 1 - last_line
                data.extend((delta_line, char - (last_char if delta_line == 0 else 0), length,
                             _TYPE[typ], mods))
                last_line, last_char = line - 1, char
            line += 1
            a = starts[line - 1] if line <= len(starts) else b
    return data
