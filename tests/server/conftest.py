"""Fixtures for the server tests: FluentAI programs run as `fluentai run --deterministic`
subprocesses that print `port N` after `listen(0, true)`; each is ended with SIGTERM at
teardown and must exit 0 (without a Python traceback on stderr)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from serverkit import Programs


@pytest.fixture
def programs(tmp_path: Path) -> Iterator[Programs]:
    """`programs.start(source)` → a running `FlcProcess` (its `.port` is read already)."""
    p = Programs(tmp_path)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture(scope="module")
def module_programs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Programs]:
    """Like `programs`, for servers shared by the tests of one module."""
    p = Programs(tmp_path_factory.mktemp("flc"))
    try:
        yield p
    finally:
        p.close()
