"""Shared helpers for tests that run FluentAI programs in-process."""

from __future__ import annotations

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
