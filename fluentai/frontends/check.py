"""`fluentai check`: syntax errors, then names that nothing defines, without running.

A name is defined when it is a local in scope (the compiler resolves those), a top-level
`let`/`const`/`function` anywhere in the file, a name brought in by `use`, a builtin, or
`args`. Everything else the compiler left to run-time lookup is reported.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..interpreter.host import (
    Interpreter,
    LoadError,
    configure_process,
    internal_error_text,
    read_source,
)
from ..runtime.builtins import new_globals
from ..syntax import ast
from ..syntax.errors import FluentError, FluentSyntaxError


def top_level_names(program: ast.Program) -> set[str]:
    names: set[str] = set()
    for item in program.body:
        if isinstance(item, ast.Let | ast.FunctionDecl):
            names.add(item.name)
        elif isinstance(item, ast.Use):
            names.update(item.names if item.names is not None else (item.module,))
    return names


def check_source(interp: Interpreter, source_name: str) -> list[FluentError]:
    source = read_source(source_name)
    compiled = interp.compile_module(source, "__main__", Path(source_name).parent)
    known = set(new_globals()) | {"args"} | top_level_names(compiled.program)
    errors: list[FluentError] = []
    seen: set[tuple[str, int, int]] = set()
    for name, span in compiled.compiler.global_refs:
        key = (name, span.line, span.column)
        if name not in known and key not in seen:
            seen.add(key)
            errors.append(FluentSyntaxError(f"'{name}' is not defined", span))
    return errors


def check_path(path: str) -> int:
    configure_process()
    try:
        errors = check_source(Interpreter(), path)
    except LoadError as e:
        sys.stderr.write(f"error: {e}\n")
        return e.status
    except FluentError as e:
        sys.stderr.write(e.render() + "\n")
        return 1
    except Exception as e:
        sys.stderr.write(internal_error_text(e) + "\n")
        return 1
    for error in errors:
        sys.stderr.write(error.render() + "\n")
    if errors:
        return 1
    sys.stdout.write(f"{path}: ok\n")
    return 0
