"""One `fluentai lsp` subprocess for the tests of a module (each test opens its own
documents), and helpers to find positions in a program's text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lsp_client import LspClient


@pytest.fixture(scope="module")
def lsp() -> Iterator[LspClient]:
    client = LspClient()
    client.initialize()
    yield client
    status = client.close()
    errors = [m for m in client.seen if m["method"] == "window/logMessage"
              and m["params"]["type"] == 1]
    assert not errors, errors
    assert status == 0, client.stderr


def where(text: str, needle: str, nth: int = 0, offset: int = 0) -> tuple[int, int]:
    """0-based (line, character) of the `nth` occurrence of `needle`, plus `offset`
    characters (the texts here are ASCII, so characters are UTF-16 units)."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    start += offset
    line = text.count("\n", 0, start)
    return line, start - (text.rfind("\n", 0, start) + 1)
