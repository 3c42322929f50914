"""Shared helpers for tests that run FluentAI programs in-process."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from fluentai.interpreter import run_path


@dataclass
class Result:
    status: int
    out: str
    err: str


def run_program(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                deterministic: bool = True, name: str = "prog.flc") -> Result:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    status = run_path(str(path), [], deterministic=deterministic)
    captured = capsys.readouterr()
    return Result(status, captured.out, captured.err)


class ProgramTimeout(BaseException):
    """A BaseException, so the interpreter's `except Exception` does not swallow it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) when an in-process program runs too long."""

    def on_alarm(signum: int, frame: object) -> None:
        raise ProgramTimeout(f"program still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
