"""Hover: what the name under the cursor is.

- a function: its header as written (`public async function f(a, b = 1)`) and the comment
  directly above it (`//` lines, or a `/* */` block, ending on the line before);
- an effect operation (`perform Time.sleep`): its signature and the first line of its
  handler method's docstring; an effect: its operations;
- any other declared name: how it is declared (`let`, `const`, parameter, loop variable,
  ...), on which line and in which file, and the type of a literal value;
- a builtin: that it is one.
"""

from __future__ import annotations

import re

from ...syntax import ast
from ...syntax.resources import stdlib_dir
from ..check import KNOWN_GLOBALS
from ..effect_catalog import catalog
from . import symbols as sym
from .analysis import Analysis
from .navigation import module_file, occurrence_at, target
from .symbols import Occurrence, Pos, Symbol
from .types import shape_of
from .workspace import Workspace

_DESCRIBED = {
    sym.LET: "variable (`let`)", sym.CONST: "constant (`const`)", sym.PARAM: "parameter",
    sym.FOR: "loop variable (`for`)", sym.CATCH: "caught error (`catch`)",
    sym.PATTERN: "bound by a `match` pattern", sym.FUNCTION: "function",
}
_ASYNC_NOTE = "`*` asynchronous: its value is a promise (`.await()` it)"


def hover(ws: Workspace, analysis: Analysis, pos: Pos) -> tuple[str, Occurrence] | None:
    """Markdown for what is at `pos`, and the occurrence it is about."""
    occ = occurrence_at(analysis, pos)
    if occ is None:
        return None
    text = _text(ws, analysis, occ)
    return (text, occ) if text else None


def _text(ws: Workspace, analysis: Analysis, occ: Occurrence) -> str | None:
    if occ.role == sym.OPERATION and occ.effect is not None:
        return _operation(occ.effect, occ.name)
    if occ.role == sym.EFFECT:
        return _effect(occ.name)
    if occ.role in (sym.FIELD, sym.METHOD):
        return None
    module = module_file(ws, analysis, occ)
    if module is not None:
        return f"```fluentai\nuse {occ.name}\n```\nmodule `{occ.name}`: {_where(analysis, module)}"
    found = target(ws, analysis, occ)
    if found is None:
        if occ.symbol is None and occ.name in KNOWN_GLOBALS:
            return f"```fluentai\n{occ.name}\n```\nbuilt-in"
        return None
    where = "" if found.analysis is analysis else f" of {_file_name(found.analysis)}"
    return describe(found.analysis, found.symbol, where)


def _file_name(analysis: Analysis) -> str:
    return analysis.path.name if analysis.path is not None else analysis.name


def _where(analysis: Analysis, module: Analysis) -> str:
    """Where a module's file is, as `use` found it."""
    if module.path is None:
        return module.name
    if module.path.parent == stdlib_dir().resolve():
        return f"{module.path.name} of the standard library"
    if analysis.path is not None and module.path.parent == analysis.path.parent:
        return f"{module.path.name}, beside this file"
    return str(module.path)


def describe(analysis: Analysis, s: Symbol, where: str = "") -> str:
    if s.kind == sym.FUNCTION:
        header = function_header(analysis.text, s)
        comment = comment_above(analysis.text, header[1])
        scope = "top-level" if s.top else "local"
        out = f"```fluentai\n{header[0]}\n```\n{scope} function, line {s.start[0]}{where}"
        return out + (f"\n\n---\n{comment}" if comment else "")
    if s.kind == sym.IMPORT:
        return f"```fluentai\n{s.name}\n```\nimported from module `{s.module}` (not found)"
    keyword = {sym.LET: "let", sym.CONST: "const"}.get(s.kind, "")
    shown = f"{keyword} {s.name}".strip()
    scope = "top-level " if s.top else ""
    out = f"```fluentai\n{shown}\n```\n{scope}{_DESCRIBED.get(s.kind, s.kind)}, line {s.start[0]}{where}"
    shape = shape_of(s.value) if s.value is not None else None
    if shape is not None:
        out += f"; value: {shape.type}"
    return out


def function_header(text: str, s: Symbol) -> tuple[str, int]:
    """The text of a function declaration from its first word to its body's `{`, on one line,
    and the 1-based line it starts on."""
    lines = text.split("\n")
    line = s.start[0]
    start = len("\n".join(lines[:line - 1])) + (1 if line > 1 else 0)
    body = s.node.body if isinstance(s.node, ast.FunctionDecl | ast.Lambda) else None
    end = start + len(lines[line - 1]) if line <= len(lines) else len(text)
    if body is not None:
        b = body.span
        end = len("\n".join(lines[:b.line - 1])) + (1 if b.line > 1 else 0) + b.column - 1
    header = " ".join(text[start:end].split()).rstrip(" {")
    return header, line


_LINE_COMMENT = re.compile(r"\s*//\s?(.*)$")


def comment_above(text: str, line: int) -> str:
    """The comment that ends on the line just above `line` (1-based): `//` lines, or a
    `/* ... */` block; '' when that line is not a comment."""
    lines = text.split("\n")
    i = line - 2
    if i < 0:
        return ""
    if lines[i].strip().endswith("*/"):
        j = i
        while j >= 0 and "/*" not in lines[j]:
            j -= 1
        if j < 0:
            return ""
        block = "\n".join(lines[j:i + 1])
        body = block[block.index("/*") + 2:block.rindex("*/")]
        return "\n".join(ln.strip().lstrip("*").strip() for ln in body.split("\n")).strip()
    found: list[str] = []
    while i >= 0:
        m = _LINE_COMMENT.fullmatch(lines[i])
        if m is None:
            break
        found.append(m.group(1).rstrip())
        i -= 1
    return "\n".join(reversed(found)).strip()


def _operation(effect: str, op: str) -> str | None:
    info = catalog().op(effect, op)
    if info is None:
        return None
    out = f"```fluentai\nperform {effect}.{info.signature}\n```"
    if info.summary:
        out += f"\n{info.summary}"
    if info.is_async:
        out += f"\n\n{_ASYNC_NOTE}"
    return out


def _effect(effect: str) -> str | None:
    ops = catalog().effects.get(effect)
    if ops is None:
        return None
    listed = "\n".join(f"- `{info.signature}`" + (f" — {info.summary}" if info.summary else "")
                       for info in ops.values())
    return f"```fluentai\n{effect}\n```\neffect, operations:\n{listed}"
