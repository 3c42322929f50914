"""What the language server computes from one document's text: parse and resolve only —
never running code or building an interpreter.

`analyse` gives the errors `fluentai check` reports for the same text (it runs the same
`Checker`, with the open editor buffers read before the disk) and the warnings of `lint`:
what diagnostics need, after every keystroke. The symbol index, which the other features
need, is built when first asked for. A text that does not parse has its syntax error and no
index; `analyse_prefix` then finds the most the text before the cursor allows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable as Fn
from dataclasses import dataclass, field
from pathlib import Path

from ...resolve.resolution import Resolution
from ...resolve.resolver import resolve
from ...syntax import ast
from ...syntax.errors import FluentError, FluentSyntaxError
from ...syntax.source import Source, Span
from ..check import Checker
from ..completion import scan
from ..effect_catalog import catalog
from . import lint
from .symbols import Index, build

_CLOSERS = {"(": ")", "[": "]", "{": "}"}


@dataclass
class Analysis:
    name: str  # how errors name the file: its path, or the URI of an unsaved buffer
    path: Path | None
    text: str  # without a leading byte-order mark (as `check` reads files)
    program: ast.Program | None = None
    resolution: Resolution | None = None
    errors: list[FluentError] = field(default_factory=list)
    findings: list[lint.Finding] = field(default_factory=list)
    bom: bool = False  # the buffer starts with U+FEFF: its first line is one column longer
    # The modules read while checking it: path -> the version of the open buffer read, or
    # None for a file read from disk. While they stay the same, so does the analysis.
    depends: dict[Path, int | None] = field(default_factory=dict)
    _index: Index | None = None
    _indexed: bool = False

    @property
    def index(self) -> Index | None:
        """The symbol index (None for a text that does not parse, or nests too deeply)."""
        if not self._indexed:
            self._indexed = True
            if self.program is not None:
                try:
                    self._index = build(self.program, self.resolution, self.text)
                except RecursionError:  # nested too deeply: the resolver has said so
                    self._index = None
        return self._index

    def with_index(self, index: Index | None) -> Analysis:
        """This analysis with another index (one of a part of the text)."""
        copy = dataclasses.replace(self)
        copy._index, copy._indexed = index, True
        return copy


def analyse(name: str, path: Path | None, text: str, parse: Fn[[Source], ast.Program],
            read: Fn[[Path, Span], Source], *, lints: bool = True) -> Analysis:
    """Everything about `text`. `parse` and `read` are the server's (statements cached between
    keystrokes; open buffers before files)."""
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    out = Analysis(name, path, text, bom=bom)
    source = Source(name, text)
    checker = Checker(read=read, parse=parse)
    try:
        out.program = parse(source)
    except FluentSyntaxError as e:
        out.errors.append(e)
        return out
    out.resolution = checker.program(out.program, path.parent if path is not None else None)
    out.errors = checker.errors
    if lints and out.resolution is not None:
        try:
            out.findings = lint.findings(out.program, out.resolution, text, catalog())
        except RecursionError:  # nested too deeply: the resolver has said so
            pass
    return out


def analyse_prefix(name: str, text: str, line: int,
                   parse: Fn[[Source], ast.Program], tries: int = 4) -> Index | None:
    """The index of the longest text, ending before line `line` (1-based) and at most `tries`
    lines earlier, that parses once its open brackets are closed: what completion and hover
    can know of a document being typed. The cursor's line and the ones above it keep their
    positions (the closing brackets go on a line of their own after them)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    for end in range(min(line, len(lines) + 1) - 1, max(0, line - 1 - tries), -1):
        prefix = "\n".join(lines[:end]) + "\n"
        s = scan(prefix)
        if s.in_string or s.in_comment:
            continue
        closers = "".join(_CLOSERS[k] for k, _ in reversed(s.open_brackets) if k in _CLOSERS)
        candidate = prefix + "\n" * (line - end) + closers + "\n"
        try:
            program = parse(Source(name, candidate))
        except (FluentSyntaxError, RecursionError):
            continue
        try:
            return build(program, resolve(program), candidate)
        except RecursionError:
            return None
    return None
