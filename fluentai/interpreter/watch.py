"""`fluentai run --reload`: watching a program's files and reloading them when they change.

`Watcher` runs one asyncio task beside the program. It watches the folders of the files a
`Reloader` knows (the program and every module it uses; folders rather than files, so an
editor that saves by writing a new file and renaming it is seen), with watchfiles' `awatch`,
and hands each batch of changes (gathered for `DEBOUNCE_MS` at most, until `STEP_MS` pass
without another) to `Reloader.reload`. Reloads wait until the program's top level has run.

The task is not one of the program's tasks: it never keeps the program alive, and `stop`
ends it (and watchfiles' thread) within one step.
"""

from __future__ import annotations

import asyncio
import importlib.util
from contextlib import aclosing
from pathlib import Path
from typing import Any

from .host import internal_error_text
from .reload import Reloader

DEBOUNCE_MS = 400  # the longest a batch of changes is gathered
STEP_MS = 50  # a batch is handed over once no change came for this long
MISSING = ("--reload needs the watchfiles package: pip install watchfiles "
           "(or pip install 'fluentai[dev]')")


def watchfiles_missing() -> str | None:
    """Why `--reload` cannot work here, or None."""
    if importlib.util.find_spec("watchfiles") is None:
        return MISSING
    return None


class Watcher:
    """The watching task of one program: `start` it, tell it when the top level has run
    (`ready`), `stop` it before shutdown."""

    def __init__(self, reloader: Reloader) -> None:
        self.reloader = reloader
        self._stop = asyncio.Event()  # ends the current awatch (watchfiles polls it)
        self._stopping = False
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="fluentai-watch")

    def ready(self) -> None:
        """The program's top level has run: reloads may start."""
        self._ready.set()

    async def stop(self) -> None:
        self._stopping = True
        self._stop.set()
        self._ready.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        try:
            await self._watch()
        except OSError as e:  # a watched folder went away, too many watches, …
            self.reloader.interp.write_err(f"warning: --reload stopped watching: {e}\n")

    async def _watch(self) -> None:
        from watchfiles import awatch

        folders: set[Path] = set()
        while not self._stopping:
            restarted = bool(folders)
            folders = {p.parent for p in self.reloader.watched()}
            self._stop = asyncio.Event()

            def wanted(change: Any, path: str) -> bool:
                return Path(path) in self.reloader.watched()

            batches = awatch(*sorted(folders), watch_filter=wanted, recursive=False,
                             debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=self._stop)
            async with aclosing(batches):
                if restarted:
                    # A change made while no watcher ran is not lost.
                    await self._reload(self.reloader.changed())
                async for changes in batches:
                    await self._reload({Path(path) for _, path in changes})
                    if {p.parent for p in self.reloader.watched()} != folders:
                        self._stop.set()  # a module in another folder: watch it too

    async def _reload(self, paths: set[Path]) -> None:
        await self._ready.wait()
        if self._stopping or not paths:
            return
        try:
            await self.reloader.reload(paths)
        except Exception as e:
            # A bug in a reload must not end watching, nor the program.
            self.reloader.interp.write_err(internal_error_text(e) + "\n")
