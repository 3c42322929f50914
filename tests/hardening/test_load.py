"""bench/load/chat_load.py at a small size: 50 clients of examples/chat.flc each say 5
things; every client must get every message exactly once and in order per sender, and the
server must stop cleanly. (The full run, 1,000 clients x 20 messages, is a benchmark:
`python bench/load/chat_load.py`.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_chat_load_small() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load" / "chat_load.py"),
         "--clients", "50", "--messages", "5", "--timeout", "120"],
        cwd=ROOT, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "deliveries 12500/12500" in out, out
    assert "PASS" in out, out
