"""One `fluentai lsp` subprocess for the tests of a module (each test opens its own
documents)."""

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
