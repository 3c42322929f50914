"""Fixtures for the reload tests: `dev.start(source)` runs a program with
`fluentai run --deterministic --reload` in the test's folder; at teardown each is ended with
SIGTERM and must exit 0 without a Python traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reloadkit import DevServer


class DevServers:
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


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevServers]:
    servers = DevServers(tmp_path)
    try:
        yield servers
    finally:
        servers.close()
