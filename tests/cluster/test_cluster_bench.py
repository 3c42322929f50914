"""bench/cluster/run.py --quick runs to the end and prints its table (figures unchecked)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from clusterkit import ROOT, redis_server_binary


def test_the_cluster_benchmark_runs_in_quick_mode() -> None:
    if redis_server_binary() is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; CI installs it)")
    pytest.importorskip("redis", reason="the redis package is not installed")
    done = subprocess.run([sys.executable, "bench/cluster/run.py", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "FLUENTAI_CLUSTER"})
    assert done.returncode == 0, done.stderr
    rows = [line.split()[0:3] for line in done.stdout.splitlines()[2:]]
    assert [r[:2] for r in rows] == [["1", "node"], ["1", "node"], ["3", "nodes"]], done.stdout
    assert done.stderr == ""
