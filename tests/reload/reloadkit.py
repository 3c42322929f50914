"""Helpers for the reload tests: `fluentai run --reload` as a subprocess whose files the
test rewrites, waiting for each reload's report on stderr (never sleeping).

The server helpers (`FlcProcess`, the HTTP and WebSocket clients) are the server tests'.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from serverkit import FlcProcess

REPORT_TIMEOUT = 15.0


def is_outcome(line: str) -> bool:
    """A reload's last line about a file: its report, or the note that it was refused. A
    report of "no changes" (an editor touching a file, or a second event for one save) is
    not the outcome of an edit."""
    return ((line.startswith("reloaded ") and ": no changes (" not in line)
            or "was not reloaded" in line)


def write(path: Path, text: str) -> None:
    """Save as editors do: a new file renamed over the old one (one event, never a
    half-written file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class DevServer:
    """A program run with `fluentai run --deterministic --reload`; it must print
    `port N` first."""

    def __init__(self, directory: Path, source: str, *, name: str = "prog.flc") -> None:
        self.directory = directory
        self.proc = FlcProcess(directory, source, name=name,
                               options=("--deterministic", "--reload"))
        self.path = self.proc.path
        self.port = self.proc.port
        self.seen = 0  # stderr lines already looked at

    def edit(self, text: str, file: str | None = None) -> str:
        """Rewrite the program (or `file` beside it) and return the reload's outcome line."""
        write(self.directory / file if file else self.path, text)
        return self.next_outcome()

    def next_outcome(self) -> str:
        index, line = self.proc.wait_for_err_line(is_outcome, REPORT_TIMEOUT, self.seen)
        self.seen = index + 1
        return line

    def stderr_since(self, index: int) -> str:
        return "\n".join(self.proc.stderr.split("\n")[index:])

    def close(self) -> int:
        return self.proc.terminate()


class DevServers:
    """The programs a test started; `close` ends them with SIGTERM and checks that each
    exited 0 without a Python traceback."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[DevServer] = []

    def start(self, source: str, **kwargs: str) -> DevServer:
        server = DevServer(self.directory, source, **kwargs)
        self.started.append(server)
        return server

    def close(self) -> None:
        problems = []
        for server in self.started:
            status = server.close()
            if status != 0:
                problems.append(f"exited {status}\n{server.proc.describe()}")
            if "Traceback (most recent call last)" in server.proc.stderr:
                problems.append(f"Python traceback on stderr\n{server.proc.describe()}")
        assert not problems, "\n\n".join(problems)
