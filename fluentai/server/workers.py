"""`fluentai run --workers N --cluster URL FILE`: N processes running the same program on
one machine, sharing its listening ports (SO_REUSEPORT, see `listener.bind`) and acting as
one server through the cluster (see `cluster`).

This parent process only supervises: it starts the workers, forwards SIGINT and SIGTERM to
them, and exits once they have all ended: 0 when each ended with 0 (a signal's graceful
shutdown does), else the first failing worker's status. A worker that fails on its own is
reported and not restarted; the others keep serving.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

KILL_AFTER_S = 15.0  # after a forwarded signal, workers still running then are killed


def worker_command(file: str, args: list[str], *, cluster: str, deterministic: bool,
                   reload: bool = False) -> list[str]:
    command = [sys.executable, "-m", "fluentai", "run", "--cluster", cluster]
    if deterministic:
        command.append("--deterministic")
    if reload:
        command.append("--reload")  # each worker watches the files and reloads itself
    return [*command, file, *args]


def run_workers(count: int, file: str, args: list[str], *, cluster: str,
                deterministic: bool = False, reload: bool = False) -> int:
    command = worker_command(file, args, cluster=cluster, deterministic=deterministic,
                             reload=reload)
    procs: list[subprocess.Popen[bytes]] = []
    stopping: list[float] = []  # when the first signal was forwarded
    killed = False
    statuses: dict[int, int] = {}

    def forward(signum: int, frame: FrameType | None) -> None:
        if not stopping:
            stopping.append(time.monotonic())
        for p in procs:
            if p.poll() is None:
                try:
                    p.send_signal(signum)
                except ProcessLookupError:
                    pass

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for i in range(1, count + 1):
            env = dict(os.environ, FLUENTAI_WORKER=str(i), FLUENTAI_WORKERS=str(count))
            env.pop("FLUENTAI_CLUSTER", None)  # the command line says it
            # Each worker in its own process group: a terminal's Ctrl-C reaches this parent
            # only, which forwards it once.
            procs.append(subprocess.Popen(command, env=env, process_group=0))
        while len(statuses) < len(procs):
            for i, p in enumerate(procs, 1):
                if i in statuses:
                    continue
                status = p.poll()
                if status is None:
                    continue
                statuses[i] = status
                if status != 0 and not stopping:
                    left = len(procs) - len(statuses)
                    sys.stderr.write(f"fluentai: worker {i} (pid {p.pid}) exited with status "
                                     f"{status}; {left} worker{'s' if left != 1 else ''} "
                                     f"still running\n")
                    sys.stderr.flush()
            if stopping and not killed and time.monotonic() - stopping[0] > KILL_AFTER_S:
                killed = True
                for i, p in enumerate(procs, 1):
                    if p.poll() is None:
                        sys.stderr.write(f"fluentai: worker {i} (pid {p.pid}) did not stop "
                                         f"within {KILL_AFTER_S:g} s; killed\n")
                        p.kill()
            time.sleep(0.05)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    failed = [s for s in statuses.values() if s != 0]
    if not failed:
        return 0
    if stopping and not killed and all(s < 0 for s in failed):
        return 0  # ended by the signal forwarded to them: that is the shutdown asked for
    return next((s for s in failed if s > 0), 1)
