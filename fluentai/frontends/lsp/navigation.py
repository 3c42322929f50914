"""Go to definition, find references, rename and the outline, over the symbol index.

A name's *target* is the declaration it means: a local or a global of its own file, or, for
`m.f` after `use m` and for `f` after `use m::{f}`, the top-level `f` of the module's file.
References to a top-level name are looked for in its own file and in the files that can
`use` it (see `Workspace.neighbours`).

Rename changes a local name (parameter, `let`, loop variable, …) everywhere in its file,
and a top-level name of the file when no other file uses it; a top-level name that another
file uses (`m.f`, `use m::{f}`) is refused with an error naming those files, as are
modules, imported names and builtins. A new name must be a name, not a keyword, and must
not already mean something where the renamed one is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types as t

from ..check import KNOWN_GLOBALS
from ..completion import KEYWORD_SET
from . import symbols as sym
from .analysis import Analysis
from .protocol import Lines
from .symbols import Occurrence, Pos, Symbol
from .workspace import Workspace

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class RenameRefused(Exception):
    """Why a rename cannot be done (the client shows the message)."""


@dataclass
class Target:
    analysis: Analysis  # the file that declares it
    symbol: Symbol


def occurrence_at(analysis: Analysis, pos: Pos) -> Occurrence | None:
    return analysis.index.at(pos) if analysis.index is not None else None


def target(ws: Workspace, analysis: Analysis, occ: Occurrence) -> Target | None:
    """The declaration an occurrence means, following `use` into other files."""
    if occ.role == sym.MEMBER and occ.module is not None:
        return _in_module(ws, analysis, occ.module.name, occ.name)
    symbol = occ.symbol
    if symbol is None:
        return None
    if symbol.kind == sym.IMPORT and symbol.module is not None:
        return _in_module(ws, analysis, symbol.module, symbol.name) or Target(analysis, symbol)
    return Target(analysis, symbol)


def _in_module(ws: Workspace, analysis: Analysis, module: str, name: str) -> Target | None:
    path = ws.module(analysis, module)
    other = ws.file(path) if path is not None else None
    if other is None or other.index is None or name not in other.index.top:
        return None
    return Target(other, other.index.top[name])


def module_file(ws: Workspace, analysis: Analysis, occ: Occurrence) -> Analysis | None:
    """For the name of a module (`use m`, or `m` in `m.f`), the module's file."""
    symbol = occ.symbol
    if symbol is None or symbol.kind != sym.MODULE or symbol.module is None:
        return None
    path = ws.module(analysis, symbol.module)
    return ws.file(path) if path is not None else None


def location(ws: Workspace, found: Target, encoding: str | None) -> t.Location:
    lines = Lines(found.analysis.text, encoding, found.analysis.bom)
    s = found.symbol
    return t.Location(ws.uri(found.analysis), lines.range(s.start, _end(s.start, s.name)))


def definition(ws: Workspace, analysis: Analysis, pos: Pos, encoding: str | None
               ) -> t.Location | None:
    occ = occurrence_at(analysis, pos)
    if occ is None:
        return None
    module = module_file(ws, analysis, occ)
    if module is not None:
        return t.Location(ws.uri(module), t.Range(t.Position(0, 0), t.Position(0, 0)))
    found = target(ws, analysis, occ)
    return location(ws, found, encoding) if found is not None else None


def references(ws: Workspace, found: Target) -> list[tuple[Analysis, Occurrence]]:
    """Every occurrence of a target, its declaration included, in source order per file."""
    home = found.analysis
    assert home.index is not None
    out = [(home, o) for o in home.index.occurrences_of(found.symbol)]
    s = found.symbol
    if s.top and s.kind not in (sym.MODULE, sym.IMPORT) and home.path is not None:
        for other in ws.neighbours(home.path):
            out.extend((other, o) for o in _uses_from(ws, other, home, s.name))
    return out


def _uses_from(ws: Workspace, other: Analysis, home: Analysis, name: str) -> list[Occurrence]:
    """Occurrences in `other` of the top-level `name` of the file `home`."""
    index = other.index
    if index is None:
        return []
    modules = {s.module for s in index.symbols if s.kind == sym.MODULE and s.module is not None
               and ws.module(other, s.module) == home.path}
    if not modules:
        return []
    out = []
    for occ in index.occurrences:
        if occ.name != name:
            continue
        member = occ.role == sym.MEMBER and occ.module is not None \
            and occ.module.module in modules
        imported = occ.symbol is not None and occ.symbol.kind == sym.IMPORT \
            and occ.symbol.module in modules
        if member or imported:
            out.append(occ)
    return out


def reference_locations(ws: Workspace, analysis: Analysis, pos: Pos, include_declaration: bool,
                        encoding: str | None) -> list[t.Location]:
    occ = occurrence_at(analysis, pos)
    found = target(ws, analysis, occ) if occ is not None else None
    if found is None:
        return []
    out = []
    for where, o in references(ws, found):
        if o.role == sym.DECLARATION and not include_declaration and o.symbol is found.symbol:
            continue
        lines = Lines(where.text, encoding, where.bom)
        out.append(t.Location(ws.uri(where), lines.range(o.start, o.end)))
    return out


# ------------------------------------------------------------------------ rename
def renameable(ws: Workspace, analysis: Analysis, pos: Pos) -> tuple[Occurrence, Target]:
    occ = occurrence_at(analysis, pos)
    if occ is None or occ.role in (sym.FIELD, sym.METHOD, sym.EFFECT, sym.OPERATION):
        raise RenameRefused("there is no name of a declaration here")
    found = target(ws, analysis, occ)
    if found is None:
        raise RenameRefused(f"'{occ.name}' is not declared in a file of the program "
                            f"(a builtin or an undefined name) and cannot be renamed")
    if found.symbol.kind in (sym.MODULE, sym.IMPORT):
        raise RenameRefused(f"'{occ.name}' names a module or an imported name: rename the "
                            f"module's file or the declaration in it")
    if found.analysis is not analysis:
        raise RenameRefused(f"'{occ.name}' is declared in another file "
                            f"({found.analysis.name}): rename it there")
    return occ, found


def rename(ws: Workspace, analysis: Analysis, pos: Pos, new_name: str, encoding: str | None
           ) -> t.WorkspaceEdit:
    _, found = renameable(ws, analysis, pos)
    s = found.symbol
    if not _IDENTIFIER.fullmatch(new_name) or new_name in KEYWORD_SET:
        raise RenameRefused(f"'{new_name}' is not a name (a name is letters, digits and '_', "
                            f"not starting with a digit, and not a keyword)")
    places = references(ws, found)
    elsewhere = sorted({where.name for where, _ in places if where is not analysis})
    if elsewhere:
        raise RenameRefused(f"'{s.name}' is used from other files ({', '.join(elsewhere)}); "
                            f"renaming across files is not supported")
    index = analysis.index
    assert index is not None
    if new_name != s.name:
        clash = _clash(analysis, s, [o.start for _, o in places], new_name)
        if clash is not None:
            raise RenameRefused(clash)
    lines = Lines(analysis.text, encoding, analysis.bom)
    edits = [t.TextEdit(lines.range(o.start, o.end), new_name) for _, o in places]
    return t.WorkspaceEdit(changes={ws.uri(analysis): edits})


def _clash(analysis: Analysis, s: Symbol, places: list[Pos], new_name: str) -> str | None:
    index = analysis.index
    assert index is not None
    if s.top:
        other = index.top.get(new_name)
        if other is not None:
            return f"'{new_name}' is already declared on line {other.start[0]}"
        if new_name in KNOWN_GLOBALS:
            return f"'{new_name}' is a builtin: the new name would hide it"
    for where in places:
        for other in index.visible(where):
            if other.name == new_name and other is not s and not _encloses(other, s):
                return (f"'{new_name}' already means the {_KIND_NAMES.get(other.kind, other.kind)} of line "
                        f"{other.start[0]} where '{s.name}' is used (line {where[0]})")
    # Nor may it capture a use, inside the renamed declaration's scope, of a global or of an
    # outer declaration of that name.
    for occ in index.occurrences:
        if occ.name == new_name and occ.role in (sym.READ, sym.WRITE) \
                and s.scope[0] <= occ.start <= s.scope[1] \
                and (occ.symbol is None or _encloses(occ.symbol, s)):
            return f"'{new_name}' is used on line {occ.start[0]}, inside the scope of '{s.name}'"
    return None


_KIND_NAMES = {sym.PARAM: "parameter", sym.FOR: "loop variable", sym.CATCH: "caught error",
               sym.PATTERN: "pattern binding"}


def _encloses(outer: Symbol, inner: Symbol) -> bool:
    """Whether `inner` is declared inside the scope of `outer`, so that it hides it (two
    parameters of one function, or two bindings of one pattern, share their scope: neither
    hides the other)."""
    if outer.top:
        return not inner.top
    return outer.scope != inner.scope and outer.scope[0] <= inner.scope[0] \
        and inner.scope[1] <= outer.scope[1]


def prepare_rename(ws: Workspace, analysis: Analysis, pos: Pos, encoding: str | None
                   ) -> t.Range:
    occ, _ = renameable(ws, analysis, pos)
    return Lines(analysis.text, encoding, analysis.bom).range(occ.start, occ.end)


# ------------------------------------------------------------------------ outline
_SYMBOL_KINDS = {sym.FUNCTION: t.SymbolKind.Function, sym.LET: t.SymbolKind.Variable,
                 sym.CONST: t.SymbolKind.Constant, sym.MODULE: t.SymbolKind.Module,
                 sym.IMPORT: t.SymbolKind.Function}


def outline(analysis: Analysis, encoding: str | None) -> list[t.DocumentSymbol]:
    """Top-level functions (with the functions declared inside them), `let`s, `const`s and
    the modules `use`d."""
    index = analysis.index
    if index is None:
        return []
    lines = Lines(analysis.text, encoding, analysis.bom)
    out = []
    for s in index.symbols:
        if not s.top or s.kind == sym.IMPORT:
            continue
        end = index.extent(s.node) if s.kind in (sym.FUNCTION, sym.LET, sym.CONST) \
            else _end(s.start, s.name)
        start = (s.start[0], 1) if s.kind == sym.FUNCTION else s.start
        children = [
            t.DocumentSymbol(c.name, t.SymbolKind.Function,
                             lines.range((c.start[0], 1), index.extent(c.node)),
                             lines.range(c.start, _end(c.start, c.name)))
            for c in index.symbols
            if c.kind == sym.FUNCTION and not c.top and start <= c.start <= end
        ] if s.kind == sym.FUNCTION else None
        out.append(t.DocumentSymbol(
            s.name, _SYMBOL_KINDS[s.kind], lines.range(start, max(end, _end(s.start, s.name))),
            lines.range(s.start, _end(s.start, s.name)),
            detail="async" if s.async_ else None, children=children or None))
    return out


def _end(start: Pos, name: str) -> Pos:
    return (start[0], start[1] + len(name))
