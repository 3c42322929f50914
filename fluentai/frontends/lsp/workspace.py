"""The files the language server knows: the buffers open in the editor (their text, however
unsaved, wins over the disk) and the program files beside them, each analysed once per
text. A `use` finds its module as `fluentai run` does, beside the using file or in the
standard library, so the files that can use a module (other than one of the standard
library) are the ones in its folder: that is where references to its members are looked
for.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from ...interpreter.modules import find_module, read_module
from ...syntax.errors import FluentSyntaxError
from ...syntax.resources import stdlib_dir
from ...syntax.source import Source, Span
from .analysis import Analysis, analyse
from .parsing import Parser

MAX_FILES = 200  # analyses of files that are not open, kept by text


def uri_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(url2pathname(unquote(parsed.path))).resolve()


def path_to_uri(path: Path) -> str:
    return path.resolve().as_uri()


@dataclass
class Buffer:
    uri: str
    path: Path | None
    text: str
    version: int


class Workspace:
    def __init__(self) -> None:
        self.parser = Parser()
        self.buffers: dict[str, Buffer] = {}
        self.lints = True
        self._analyses: dict[str, Analysis] = {}  # uri -> the latest analysis of its buffer
        self._files: OrderedDict[Path, Analysis] = OrderedDict()  # closed files, by path
        self._reading: dict[Path, int | None] = {}  # modules read by the analysis under way

    # ---------------------------------------------------------------- buffers
    def open(self, uri: str, text: str, version: int) -> None:
        self.buffers[uri] = Buffer(uri, uri_to_path(uri), text, version)

    def close(self, uri: str) -> None:
        self.buffers.pop(uri, None)
        self._analyses.pop(uri, None)

    def buffer_at(self, path: Path) -> Buffer | None:
        return next((b for b in self.buffers.values() if b.path == path), None)

    def read(self, path: Path, span: Span) -> Source:
        """A module's source for `Checker`: its open buffer, else the file."""
        buffer = self.buffer_at(path)
        self._reading[path] = buffer.version if buffer is not None else None
        if buffer is not None:
            return Source(str(path), buffer.text.removeprefix("\ufeff"))
        return read_module(path, span)

    def _current(self, analysis: Analysis) -> bool:
        """Whether the modules an analysis read are as they were (open buffers)."""
        for path, version in analysis.depends.items():
            buffer = self.buffer_at(path)
            if (buffer.version if buffer is not None else None) != version:
                return False
        return True

    def _analyse(self, name: str, path: Path | None, text: str, lints: bool) -> Analysis:
        saved, self._reading = self._reading, {}
        try:
            found = analyse(name, path, text, self.parser.parse, self.read, lints=lints)
            found.depends = self._reading
        finally:
            self._reading = saved
        return found

    def dependents(self, uri: str) -> list[str]:
        """The open buffers whose analysis read the buffer `uri` (a module they use)."""
        buffer = self.buffers.get(uri)
        if buffer is None or buffer.path is None:
            return []
        return [other for other, found in self._analyses.items()
                if other != uri and buffer.path in found.depends]

    # ---------------------------------------------------------------- analyses
    def analysis(self, uri: str) -> Analysis | None:
        """The analysis of an open buffer's current text."""
        buffer = self.buffers.get(uri)
        if buffer is None:
            return None
        known = self._analyses.get(uri)
        if known is not None and known.text == buffer.text.removeprefix("\ufeff") \
                and known.bom == buffer.text.startswith("\ufeff") and self._current(known):
            return known
        name = str(buffer.path) if buffer.path is not None else uri
        found = self._analyse(name, buffer.path, buffer.text, self.lints)
        self._analyses[uri] = found
        return found

    def file(self, path: Path) -> Analysis | None:
        """The analysis of a program file, open or not (without lint warnings when not
        open); None when it cannot be read."""
        buffer = self.buffer_at(path)
        if buffer is not None:
            return self.analysis(buffer.uri)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        known = self._files.get(path)
        if known is not None and known.text == text.removeprefix("\ufeff") \
                and self._current(known):
            self._files.move_to_end(path)
            return known
        found = self._analyse(str(path), path, text, lints=False)
        self._files[path] = found
        if len(self._files) > MAX_FILES:
            self._files.popitem(last=False)
        return found

    def module(self, analysis: Analysis, name: str) -> Path | None:
        """The file `use name` means in the file of `analysis`."""
        directory = analysis.path.parent if analysis.path is not None else None
        try:
            return find_module(name, directory, Span(Source(analysis.name, ""), 1, 1))
        except FluentSyntaxError:
            return None

    def neighbours(self, path: Path) -> list[Analysis]:
        """Analyses of the files that could `use` the module at `path`: the program files
        in its folder and the open buffers (every open buffer, for a standard library
        module), `path`'s own excluded."""
        out: dict[str, Analysis] = {}
        in_stdlib = path.parent == stdlib_dir().resolve()
        if not in_stdlib:
            for candidate in sorted(path.parent.glob("*.flc")):
                candidate = candidate.resolve()
                if candidate != path:
                    found = self.file(candidate)
                    if found is not None:
                        out[found.name] = found
        for buffer in list(self.buffers.values()):
            if buffer.path != path and (in_stdlib or buffer.path is None
                                        or buffer.path.parent == path.parent):
                found = self.analysis(buffer.uri)
                if found is not None:
                    out[found.name] = found
        return list(out.values())

    def uri(self, analysis: Analysis) -> str:
        if analysis.path is not None:
            buffer = self.buffer_at(analysis.path)
            return buffer.uri if buffer is not None else path_to_uri(analysis.path)
        return analysis.name  # an unsaved buffer is named by its URI
