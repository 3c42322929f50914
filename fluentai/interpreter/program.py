"""A program's whole lifetime, as `fluentai run` gives it: its top level and `main`, then
whatever tasks it left running (servers), then shutdown; signals, exit statuses, and how
what goes wrong is reported (SPEC §2, §8); with `--reload`, the watcher beside it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from ..syntax.errors import FluentError
from ..syntax.source import Source
from .host import Interpreter, internal_error_text, new_module
from .modules import LoadError, read_source
from .reload import Reloader
from .watch import Watcher, watchfiles_missing

RECURSION_LIMIT = 20_000


def configure_process() -> None:
    """What every command needs of the Python process: room for deep FluentAI recursion, and
    ints printed at any size (SPEC: integers are unbounded)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    sys.set_int_max_str_digits(0)


async def run_program(interp: Interpreter, source: Source, reload: bool = False) -> None:
    """Run a program to the end of its lifetime (SPEC §2): its top level and `main`, then
    until every task it started (a server is one) has finished; then shut the effects down.
    With `reload`, its files are watched meanwhile and reloaded when they change
    (docs/reload.md); watching never keeps the program alive."""
    module = new_module("__main__", source.name)
    module.globals["args"] = list(interp.argv)
    interp.main_globals = module.globals
    watcher: Watcher | None = None
    try:
        compiled = interp.compile(source, module, Path(source.name).parent)
        if reload:
            reloader = Reloader(interp)
            reloader.adopt(source.name, module, compiled.resolution.program)
            watcher = Watcher(reloader)
            watcher.start()
        await interp.run_top(compiled)
        if watcher is not None:
            watcher.ready()
        await interp.run_main(compiled)
        while interp.tasks:
            await asyncio.wait(list(interp.tasks))
    finally:
        if watcher is not None:
            await asyncio.shield(watcher.stop())
        await asyncio.shield(interp.shutdown())


def run_path(path: str, args: list[str] | None = None, deterministic: bool = False,
             cluster: str | None = None, reload: bool = False) -> int:
    """`fluentai run PATH ARGS…`: 0 on success, 1 on a program error, 2 for a bad file (or
    `--reload` without watchfiles). `cluster`: the Redis URL of `--cluster`
    (docs/scaling.md); `reload`: `--reload` (docs/reload.md)."""
    configure_process()
    if reload and (problem := watchfiles_missing()):
        sys.stderr.write(f"error: {problem}\n")
        return 2
    try:
        source = read_source(path)
    except LoadError as e:
        sys.stderr.write(f"error: {e}\n")
        return e.status
    except FluentError as e:
        sys.stderr.write(e.render() + "\n")
        return 1
    interp = Interpreter(deterministic=deterministic, argv=args, cluster=cluster)
    return run_interpreter(interp, source, reload)


def run_interpreter(interp: Interpreter, source: Source, reload: bool = False) -> int:
    """Run `source` on `interp` to the end; the exit status."""
    try:
        asyncio.run(_with_signals(run_program(interp, source, reload)))
    except FluentError as e:
        sys.stdout.flush()
        sys.stderr.write(e.render() + "\n")
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 0  # SIGINT/SIGTERM: graceful shutdown (SPEC §2)
    except BrokenPipeError:
        # The reader of our output went away (`fluentai run x | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except RecursionError:
        sys.stderr.write("error: stack overflow: too many nested calls\n")
        return 1
    except MemoryError:
        sys.stderr.write("error: out of memory\n")
        return 1
    except Exception as e:
        sys.stderr.write(internal_error_text(e) + "\n")
        return 1
    return 0


async def _with_signals(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        try:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or no signals here: nothing to install
    try:
        await coro
    finally:
        try:
            loop.remove_signal_handler(signal.SIGTERM)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # as above: nothing was installed
