"""`find_chromium`: where the browser tests and the screenshot scripts look for a Chromium.
Fake executables in temporary folders stand in for the browsers (nothing is launched)."""

from __future__ import annotations

import os
from pathlib import Path

import chat_harness
import pytest
from chat_harness import CHROMIUM_ENV, find_chromium


def fake(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def nothing_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PATH, no Playwright downloads, no macOS apps, no variable set."""
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "ms-playwright"))
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)
    monkeypatch.setattr(chat_harness, "MAC_APPS", ())
    return tmp_path


def test_nothing_found_says_what_to_install(nothing_installed: Path) -> None:
    assert find_chromium() is None
    message = chat_harness.CHROMIUM_MISSING
    assert "apt-get install chromium" in message and CHROMIUM_ENV in message


@pytest.mark.parametrize("name", ["chromium", "chromium-browser", "google-chrome",
                                  "google-chrome-stable", "chrome"])
def test_the_usual_names_on_path(nothing_installed: Path, name: str) -> None:
    browser = fake(nothing_installed / "bin" / name)
    assert find_chromium() == str(browser)


def test_debian_name_comes_first(nothing_installed: Path) -> None:
    fake(nothing_installed / "bin" / "google-chrome")
    debian = fake(nothing_installed / "bin" / "chromium")
    assert find_chromium() == str(debian)


def test_the_variable_wins(nothing_installed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake(nothing_installed / "bin" / "chromium")
    mine = fake(nothing_installed / "elsewhere" / "my-chrome")
    monkeypatch.setenv(CHROMIUM_ENV, str(mine))
    assert find_chromium() == str(mine)
    # A variable naming nothing usable is not silently replaced by another browser.
    monkeypatch.setenv(CHROMIUM_ENV, str(nothing_installed / "missing"))
    assert find_chromium() is None


def test_playwrights_own_download_newest_first(nothing_installed: Path) -> None:
    cache = nothing_installed / "ms-playwright"
    fake(cache / "chromium-1097" / "chrome-linux" / "chrome")
    newest = fake(cache / "chromium-1155" / "chrome-linux" / "chrome")
    assert find_chromium() == str(newest)


def test_playwrights_default_cache_folder(nothing_installed: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAYWRIGHT_BROWSERS_PATH")
    monkeypatch.setenv("HOME", str(nothing_installed))
    shell = fake(nothing_installed / ".cache" / "ms-playwright" / "chromium_headless_shell-1155"
                 / "chrome-linux" / "headless_shell")
    assert find_chromium() == str(shell)
    assert os.access(shell, os.X_OK)
