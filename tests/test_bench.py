"""The benchmark suite (bench/run.py) runs and every workload's two sides agree.

Runs `bench/run.py --quick`: one run per program at a small size, which checks that each
FluentAI workload runs and prints exactly what its CPython twin prints. Timings are
printed by the script but never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / "run.py"
WORKLOADS = ["fib", "loop", "strings", "methods"]


def test_workload_pairs_exist() -> None:
    for name in [*WORKLOADS, "empty"]:
        assert (ROOT / "bench" / "interp" / f"{name}.flc").is_file()
        assert (ROOT / "bench" / "interp" / f"{name}.py").is_file()
    assert (ROOT / "bench" / "interp" / "hello.flc").is_file()


def test_quick_run_succeeds(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.returncode == 0, report
    for name in [*WORKLOADS, "startup"]:
        assert name in proc.stdout, report
    assert "FAILED" not in proc.stdout + proc.stderr, report

    data = json.loads(figures.read_text(encoding="utf-8"))
    assert data["ok"] is True
    assert data["mode"] == "quick"
    assert [row["workload"] for row in data["workloads"]] == WORKLOADS
    assert data["startup"]["workload"] == "startup"


def test_server_benchmarks_run_in_quick_mode(tmp_path: Path) -> None:
    """bench/server/run.py --quick: echo, broadcast and idle each complete (no thresholds)."""
    figures = tmp_path / "server.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "server" / "run.py"), "--quick",
         "--json", str(figures)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(figures.read_text())
    assert set(report) == {"echo", "echo_sync_send", "broadcast", "idle"}
    for name in ("echo", "echo_sync_send", "broadcast"):
        assert report[name]["fluentai"] > 0 and report[name]["websockets"] > 0
    assert report["idle"]["connections"] == 200


def test_reload_benchmark_runs(tmp_path: Path) -> None:
    """bench/reload/run.py --rounds 2: the chat reloaded twice with a user connected, who
    gets the new code's answer each time (the script checks it; no time is asserted)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "reload" / "run.py"), "--rounds", "2"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "first report: reloaded chat.flc: 3 functions changed, 1 added (" in proc.stdout
    assert "2 reloads of examples/chat.flc" in proc.stdout
