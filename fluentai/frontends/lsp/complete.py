"""Completion in a document: the shared engine (`frontends/completion.py`), given what the
resolved document knows at the cursor — the declarations in scope (innermost first), the
globals, the builtins; a literal's type for the methods after `name.`; a module's public
names after `module.`; the effects of the installation and those the file handles.

A document being typed often does not parse. Its names then come from the text before the
cursor (see `analysis.analyse_prefix`), or else from its last analysis that parsed.
"""

from __future__ import annotations

from collections.abc import Iterator

from lsprotocol import types as t

from ...syntax import ast
from ..check import KNOWN_GLOBALS
from ..completion import Shape, complete
from ..effect_catalog import catalog
from . import symbols as sym
from .analysis import Analysis
from .hover import function_header
from .parsing import cuts
from .protocol import Lines
from .symbols import Index, Pos, Symbol
from .types import shape_of, value_of
from .workspace import Workspace

_KINDS = {
    "function": t.CompletionItemKind.Function, "builtin": t.CompletionItemKind.Function,
    "let": t.CompletionItemKind.Variable, "param": t.CompletionItemKind.Variable,
    "for": t.CompletionItemKind.Variable, "catch": t.CompletionItemKind.Variable,
    "pattern": t.CompletionItemKind.Variable, "const": t.CompletionItemKind.Constant,
    "module": t.CompletionItemKind.Module, "import": t.CompletionItemKind.Reference,
    "keyword": t.CompletionItemKind.Keyword, "effect": t.CompletionItemKind.Interface,
    "method": t.CompletionItemKind.Method, "key": t.CompletionItemKind.Field,
}


class DocumentContext:
    """The engine's `Context` for a position in a document (see the module doc)."""

    def __init__(self, ws: Workspace, analysis: Analysis, index: Index | None, pos: Pos) -> None:
        self.ws = ws
        self.analysis = analysis
        self.index = index
        self.pos = pos
        self._visible = index.visible(pos) if index is not None else []

    def names(self) -> Iterator[tuple[str, str]]:
        for s in self._visible:
            if not s.top:
                yield s.name, s.kind
        for s in sorted((s for s in self._visible if s.top), key=lambda s: s.name):
            yield s.name, s.kind
        for name in sorted(KNOWN_GLOBALS):
            yield name, "builtin"

    def effects(self) -> dict[str, list[str]]:
        effects = catalog().names()
        if self.index is not None:
            for occ in self.index.occurrences:
                if occ.role == sym.OPERATION and isinstance(occ.node, ast.HandlerClause):
                    ops = effects.setdefault(occ.node.effect, [])
                    if occ.node.op not in ops:
                        ops.append(occ.node.op)
        return effects

    def symbol(self, name: str) -> Symbol | None:
        return next((s for s in self._visible if s.name == name), None)

    def shape(self, chain: list[str]) -> Shape | None:
        s = self.symbol(chain[0])
        if s is None:
            return None
        if s.kind == sym.MODULE and s.module is not None:
            return self._module(s.module) if len(chain) == 1 else None
        if s.kind == sym.FUNCTION:
            return Shape("function") if len(chain) == 1 else None
        node = value_of(s.value, chain[1:], self._lookup)
        return shape_of(node, self._lookup)

    def _lookup(self, var: ast.Var) -> ast.Node | None:
        s = self.symbol(var.name)
        return s.value if s is not None else None

    def _module(self, name: str) -> Shape | None:
        path = self.ws.module(self.analysis, name)
        other = self.ws.file(path) if path is not None else None
        if other is None or other.index is None or other.program is None:
            return None
        public = {item.name for item in other.program.body
                  if isinstance(item, ast.Let | ast.FunctionDecl) and item.public}
        return Shape("module", tuple((s.name, s.kind) for s in other.index.symbols
                                     if s.top and s.name in public))


def completions(ws: Workspace, analysis: Analysis, index: Index | None, pos: Pos,
                encoding: str | None) -> t.CompletionList:
    text = analysis.text
    lines = Lines(text, encoding, analysis.bom)
    offset = sum(len(line) + 1 for line in lines.lines[:pos[0] - 1]) + pos[1] - 1
    offset = min(offset, len(text))
    starts = cuts(text[:offset])
    before = text[starts[-1]:offset]
    replace, items = complete(before, DocumentContext(ws, analysis, index, pos))
    start = (pos[0], max(1, pos[1] - replace))
    edit_range = lines.range(start, pos)
    functions: dict[str, Symbol] = {}
    for s in index.symbols if index is not None else ():
        if s.kind == sym.FUNCTION:
            functions.setdefault(s.name, s)
    out = []
    for i, (label, meta) in enumerate(items):
        kind = _KINDS.get(meta)
        detail = meta
        if meta.endswith(" operation"):
            kind = t.CompletionItemKind.Function
            info = catalog().op(meta.split()[0], label)
            detail = f"{meta.split()[0]}.{info.signature}" if info else meta
        elif meta == "function" and label in functions and index is not None:
            detail = function_header(index.text, functions[label])[0]
        out.append(t.CompletionItem(label, kind=kind, detail=detail, sort_text=f"{i:05}",
                                    text_edit=t.TextEdit(edit_range, label)))
    return t.CompletionList(is_incomplete=False, items=out)
