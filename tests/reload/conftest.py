"""Fixtures for the reload tests: `dev.start(source)` runs a program with
`fluentai run --deterministic --reload` in the test's folder; at teardown each is ended with
SIGTERM and must exit 0 without a Python traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reloadkit import DevServers


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevServers]:
    servers = DevServers(tmp_path)
    try:
        yield servers
    finally:
        servers.close()
