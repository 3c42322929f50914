"""Fixtures for the cluster tests: each test that needs Redis gets its own redis-server on a
free port (skipped with a clear message where redis-server is not installed; CI installs
it), and its nodes are killed at teardown if still running."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clusterkit import Node, RedisServer, redis_server_binary


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; CI installs it)")
    pytest.importorskip("redis", reason="the redis package is not installed "
                                        "(pip install -e '.[test]' or '.[cluster]')")
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


class Nodes:
    def __init__(self) -> None:
        self.started: list[Node] = []

    def start(self, *args: object, **kwargs: object) -> Node:
        node = Node(*args, **kwargs)  # type: ignore[arg-type]
        self.started.append(node)
        return node


@pytest.fixture
def nodes() -> Iterator[Nodes]:
    n = Nodes()
    try:
        yield n
    finally:
        for node in n.started:
            node.kill()
