"""The language server benchmark (bench/lsp/run.py) runs: `--quick` drives the real server on
a small generated program and every kind of request answers. Its timings are printed, never
asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run(tmp_path: Path) -> None:
    figures = tmp_path / "lsp.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "lsp" / "run.py"), "--quick",
                           "--json", str(figures)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(figures.read_text())["results"]
    assert set(results) == {
        "open: first diagnostics (cold)", "diagnostics after a keystroke",
        "diagnostics after a new line", "completion", "hover", "definition",
        "semantic tokens (whole file)", "completion (text does not parse)"}
    assert all(r["samples"] >= 1 and r["median_ms"] > 0 for r in results.values())
