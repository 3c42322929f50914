"""`fluentai check`: every syntax and static error of a program and of the modules it uses,
without running anything — parse and resolve only, no interpreter, no code generation.

A name is defined when it is a local in scope, a top-level `let`/`const`/`function`
anywhere in the file, a name brought in by `use`, a builtin, or `args`. `use` must name a
module that exists, and `use m::{a}` a public name of it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable as Fn
from importlib.metadata import entry_points
from pathlib import Path

from ..effects import ENTRY_POINT_GROUP
from ..interpreter import LoadError, configure_process, internal_error_text, read_source
from ..interpreter.host import BUILTIN_EFFECTS, LAZY_EFFECTS
from ..interpreter.modules import find_module, read_module
from ..resolve.hints import warnings
from ..resolve.resolution import Resolution
from ..resolve.resolver import resolve
from ..runtime.builtins import new_globals
from ..syntax import ast
from ..syntax.errors import FluentError, FluentSyntaxError, FluentWarning
from ..syntax.parser import parse
from ..syntax.source import Source, Span

KNOWN_GLOBALS = frozenset(new_globals()) | {"args"}
# Effects a program can perform, for "effects are performed" hints: the built-in ones and
# installed plugins (their names only; nothing is imported).
KNOWN_EFFECTS = frozenset(
    [e.effect for e in BUILTIN_EFFECTS] + list(LAZY_EFFECTS)
    + [ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)])


class Checker:
    """Checks a program and, once each, every module it uses.

    `read` gives a module file's source and `parse` turns a source into an AST; the language
    server passes its own (open editor buffers before the disk, parses cached between
    keystrokes), so its diagnostics are exactly what `check` reports for the same text."""

    def __init__(self, read: Fn[[Path, Span], Source] = read_module,
                 parse: Fn[[Source], ast.Program] = parse) -> None:
        self.read = read
        self.parse = parse
        self.errors: list[FluentError] = []
        self.warnings: list[FluentWarning] = []  # legal code that is surely a mistake
        # Per module: (public names, every top-level name), or None when it did not parse.
        self.exports: dict[Path, tuple[set[str], set[str]] | None] = {}
        self.checking: set[Path] = set()

    def source(self, source: Source, directory: Path | None,
               known: frozenset[str] = KNOWN_GLOBALS) -> ast.Program | None:
        try:
            program = self.parse(source)
        except FluentSyntaxError as e:
            self.errors.append(e)
            return None
        self.program(program, directory, known)
        return program

    def program(self, program: ast.Program, directory: Path | None,
                known: frozenset[str] = KNOWN_GLOBALS) -> Resolution | None:
        """Resolve a parsed program and check the modules it uses; None when it is nested
        too deeply to resolve."""
        resolution: Resolution | None = None
        try:
            resolution = resolve(program, defined=known, report_undefined=True,
                                 effects=KNOWN_EFFECTS)
            self.errors.extend(resolution.errors)
            self.warnings.extend(warnings(program, resolution))
        except RecursionError:
            self.errors.append(FluentSyntaxError("program is nested too deeply",
                                                 Span(program.span.source, 1, 1)))
        for item in program.body:
            if isinstance(item, ast.Use):
                self.use(item, directory)
        return resolution

    def use(self, node: ast.Use, directory: Path | None) -> None:
        try:
            path = find_module(node.module, directory, node.span)
        except FluentSyntaxError as e:
            self.errors.append(e)
            return
        if path in self.checking:
            self.errors.append(FluentSyntaxError(f"circular use of module '{node.module}'",
                                                 node.span))
            return
        if path not in self.exports:
            self.checking.add(path)
            try:
                program = self.source(self.read(path, node.span), path.parent)
            except FluentSyntaxError as e:
                self.errors.append(e)
                program = None
            finally:
                self.checking.discard(path)
            self.exports[path] = exports(program)
        found = self.exports[path]
        if found is None:
            return  # its own errors are reported; do not pile more on them
        public, defined = found
        for name in node.names or ():
            if name not in public:
                hint = " (it is private)" if name in defined else ""
                self.errors.append(FluentSyntaxError(
                    f"module '{node.module}' has no public '{name}'{hint}", node.span))


def exports(program: ast.Program | None) -> tuple[set[str], set[str]] | None:
    """A module's (public names, every top-level `let`/`const`/function name), or None for
    one that did not parse."""
    if program is None:
        return None
    public: set[str] = set()
    defined: set[str] = set()
    for item in program.body:
        if isinstance(item, ast.Let | ast.FunctionDecl):
            defined.add(item.name)
            if item.public:
                public.add(item.name)
    return public, defined


def check_source(path: str) -> list[FluentError]:
    """Every error `check` finds in the program at `path` (a `LoadError` if unreadable)."""
    return check_all(path)[0]


def check_all(path: str) -> tuple[list[FluentError], list[FluentWarning]]:
    """The errors and the warnings `check` finds in the program at `path`."""
    checker = Checker()
    checker.source(read_source(path), Path(path).parent)
    return checker.errors, checker.warnings


def check_path(path: str) -> int:
    configure_process()
    try:
        errors, found = check_all(path)
    except LoadError as e:
        sys.stderr.write(f"error: {e}\n")
        return e.status
    except FluentError as e:
        sys.stderr.write(e.render() + "\n")
        return 1
    except RecursionError:
        sys.stderr.write("error: program is nested too deeply\n")
        return 1
    except Exception as e:
        sys.stderr.write(internal_error_text(e) + "\n")
        return 1
    for error in [*errors, *found]:
        sys.stderr.write(error.render() + "\n")
    if errors:
        return 1
    count = len(found)
    note = f" ({count} warning{'s' if count > 1 else ''})" if count else ""
    sys.stdout.write(f"{path}: ok{note}\n")
    return 0
