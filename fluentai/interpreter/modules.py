"""Program and module files: reading a source (UTF-8, a positioned error for invalid bytes),
and finding the file a `use name` means (beside the importing file, else the standard
library)."""

from __future__ import annotations

import os
from pathlib import Path

from ..syntax.errors import FluentSyntaxError
from ..syntax.resources import stdlib_dir
from ..syntax.source import Source, Span


class LoadError(Exception):
    """A program file that cannot be read: exit status `status`, message without span."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def read_source(path: str) -> Source:
    p = Path(path)
    if p.is_dir():
        programs = sorted(f.name for f in p.glob("*.flc"))[:3]
        where = os.path.join(path, programs[0]) if programs else os.path.join(path, "NAME.flc")
        raise LoadError(f"{path} is a folder, not a program: name a .flc file in it "
                        f"(for example {where})", 2)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise LoadError(f"cannot open {path}: no such file", 2) from None
    except OSError as e:
        raise LoadError(f"cannot open {path}: {e.strerror}", 2) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[: e.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        src = Source(path, data.decode("utf-8", "replace"))
        raise FluentSyntaxError(
            f"invalid UTF-8 (byte 0x{data[e.start]:02x}); programs must be UTF-8 text",
            Span(src, line, col),
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise LoadError(f"{path} is empty: nothing to run", 1)
    return Source(path, text)


def find_module(name: str, directory: Path | None, span: Span) -> Path:
    """The file of module `name`: `name.flc` beside the importing file, else the standard
    library's; a syntax error at the `use` when there is none."""
    candidates = [directory / f"{name}.flc"] if directory is not None else []
    candidates.append(stdlib_dir() / f"{name}.flc")
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise FluentSyntaxError(f"no module named '{name}' (looked for {name}.flc beside "
                                f"the program and in the standard library)", span)
    return path.resolve()


def read_module(path: Path, span: Span) -> Source:
    """A module's source, named as diagnostics show it (relative to the current folder when
    inside it); an unreadable module is a syntax error at its `use`."""
    try:
        shown = str(path.relative_to(Path.cwd()))
    except ValueError:
        shown = str(path)
    try:
        return read_source(shown)
    except LoadError as e:
        raise FluentSyntaxError(str(e), span) from None
