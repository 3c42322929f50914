"""An analysis as LSP diagnostics: `check`'s errors (message and position exactly as
`fluentai check` prints them) and the lint warnings.

An error found in a module the file uses is shown on the `use` that loads it, prefixed with
where it is (`geometry.flc:3:5: …`), with that place as related information. An error's
range runs to the end of its span when the parser gave one, else over the name or the one
character at its position.
"""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types as t

from ...syntax import ast
from ...syntax.errors import FluentError
from ...syntax.source import Span
from .analysis import Analysis
from .protocol import Lines
from .symbols import Pos
from .workspace import Workspace, path_to_uri

SOURCE = "fluentai"
_WORD = re.compile(r"\w+")


def diagnostics(ws: Workspace, analysis: Analysis, encoding: str | None) -> list[t.Diagnostic]:
    lines = Lines(analysis.text, encoding, analysis.bom)
    out = [_error(ws, analysis, lines, e, encoding) for e in analysis.errors]
    for f in analysis.findings:
        out.append(t.Diagnostic(
            lines.range(f.start, f.end), f.message, severity=t.DiagnosticSeverity.Warning,
            source=SOURCE, tags=[t.DiagnosticTag.Unnecessary] if f.unnecessary else None))
    return out


def _error(ws: Workspace, analysis: Analysis, lines: Lines, e: FluentError,
           encoding: str | None) -> t.Diagnostic:
    span = e.span
    if span is None:
        return t.Diagnostic(lines.range((1, 1), (1, 1)), e.headline(), source=SOURCE,
                            severity=t.DiagnosticSeverity.Error)
    if span.source.name == analysis.name:
        return t.Diagnostic(lines.range(*error_range(lines, span)), e.headline(),
                            severity=t.DiagnosticSeverity.Error, source=SOURCE)
    # In another file: on the `use` that loads it.
    use = _use_for(ws, analysis, span.source.name)
    start: Pos = (use.span.line, use.span.column) if use is not None else (1, 1)
    end: Pos = (use.span.end_line, use.span.end_column) if use is not None and use.span.end_line \
        else start
    other = Lines(span.source.text, encoding)
    related = [t.DiagnosticRelatedInformation(
        t.Location(path_to_uri(Path(span.source.name)), other.range(*error_range(other, span))),
        e.headline())]
    return t.Diagnostic(lines.range(start, end), f"{span}: {e.headline()}",
                        severity=t.DiagnosticSeverity.Error, source=SOURCE,
                        related_information=related)


def error_range(lines: Lines, span: Span) -> tuple[Pos, Pos]:
    line, col = span.line, span.column
    if span.end_line:
        return (line, col), (span.end_line, span.end_column)
    text = lines.line(line)
    m = _WORD.match(text, col - 1)
    if m is not None and m.end() > col - 1:
        return (line, col), (line, m.end() + 1)
    return (line, col), (line, min(col + 1, len(text) + 1))


def _use_for(ws: Workspace, analysis: Analysis, name: str) -> ast.Use | None:
    """The `use` of `analysis` that loads the module file named `name` (the first `use`
    when it is a module of a module)."""
    if analysis.program is None:
        return None
    uses = [item for item in analysis.program.body if isinstance(item, ast.Use)]
    target = Path(name).resolve()
    for use in uses:
        if ws.module(analysis, use.module) == target:
            return use
    return uses[0] if uses else None
