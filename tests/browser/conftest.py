"""Fixtures of the browser tests: headless Chromium (driven by Playwright) and the chat
server of examples/chat.flc.

The tests need a Chromium (`chat_harness.find_chromium`: Debian's `chromium`, which
`.ci/run` installs, Ubuntu's `chromium-browser`, Google Chrome, Playwright's own browser, or
`PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH`) and the Python package `playwright` (in the `test`
extra). Without them the tests are skipped, saying what to install, except in CI (CI=true)
where a missing browser is an error.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import chat_harness
import pytest
from chat_harness import ChatServer, Users

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}: CI must run the browser tests (see SYSTEM_PACKAGES in .ci/run)",
                    pytrace=False)
    pytest.skip(f"{reason}: skipping the browser tests")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the tests of a module (each test opens its own contexts).
    Module scope: Playwright's event loop is gone before other modules' asyncio tests."""
    executable = chat_harness.find_chromium()
    if executable is None:
        _unavailable(chat_harness.CHROMIUM_MISSING)
    if importlib.util.find_spec("playwright") is None:
        _unavailable("the Python package playwright is not installed (pip install -e '.[test]')")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        chromium = chat_harness.launch_browser(playwright, executable)
        yield chromium
        chromium.close()


@pytest.fixture
def servers() -> Iterator[Callable[..., ChatServer]]:
    """Start chat servers with `servers(port=0)`. At the end, any still running are stopped
    (SIGTERM), and each must have exited 0 with nothing on stderr (no FluentAI error, no
    Python traceback)."""
    started: list[ChatServer] = []

    def start(port: int = 0) -> ChatServer:
        server = ChatServer.start(port)
        started.append(server)
        return server

    yield start
    problems = []
    for server in started:
        try:
            status = server.stop()
        except subprocess.TimeoutExpired:
            server.kill()
            problems.append(f"the server on port {server.port} did not stop on SIGTERM")
            continue
        if status != 0 or server.stderr:
            problems.append(f"the server on port {server.port} exited with status {status}; "
                            f"stderr:\n{server.stderr}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def server(servers: Callable[..., ChatServer]) -> ChatServer:
    return servers()


@pytest.fixture
def users(browser: Browser) -> Iterator[Users]:
    """Open chat pages with `users.open(server, viewport)`; each is a separate user.
    After the test the pages are closed, and anything they did wrong fails the test."""
    opened = Users(browser)
    yield opened
    for page in opened.pages:
        page.context.close()
    if opened.problems:
        pytest.fail("the chat page misbehaved:\n" + "\n".join(opened.problems), pytrace=False)
