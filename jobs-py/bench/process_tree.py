"""The benchmarks' measure of one command: wall time and the CPU time of its whole process tree.

This process becomes the subreaper of what its commands start (the JVM PySpark launches, its Python workers),
so their CPU time is collected when they exit. Linux only (``prctl`` and the load average).
"""

from __future__ import annotations

import ctypes
import os
import re
import resource
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36
_REAP_DEADLINE_S = 120.0
"""How long the JVM and Python workers may take to exit after the command returns."""


class BenchError(RuntimeError):
    """A step of the benchmark failed: what failed, why, what to do, in one message."""


class RunFailed(BenchError):
    """A measured command exited non-zero: the run is recorded as failed, with its cause, and the rest goes on."""

    def __init__(self, message: str, cause: str, wall_s: float, cpu_s: float) -> None:
        super().__init__(message)
        self.cause = cause
        self.wall_s = wall_s
        self.cpu_s = cpu_s


@dataclass(frozen=True)
class Measured:
    wall_s: float
    cpu_s: float
    load_before: float
    load_after: float
    stdout: str


def become_subreaper() -> None:
    """Orphans of our children (the JVM PySpark starts) are re-parented here, so their CPU time is ours."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise BenchError(f"cannot collect the JVM's CPU time: prctl failed: {os.strerror(ctypes.get_errno())}")


def _reap_descendants() -> None:
    """Waits for every re-parented descendant to exit (their rusage counts only once waited for)."""
    deadline = time.monotonic() + _REAP_DEADLINE_S
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # none left
        if pid == 0:
            if time.monotonic() > deadline:
                raise BenchError(
                    f"a process the benchmark started is still running {_REAP_DEADLINE_S:.0f} s after its command "
                    "returned: its CPU time cannot be counted; look for a stuck java or python process"
                )
            time.sleep(0.05)


_JVM_ERROR = re.compile(r"java\.lang\.\w+Error\b.*")
_PYTHON_ERROR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b.*")


def failure_cause(log: str) -> str:
    """The line that says why a Spark process failed: the JVM's first Error (out of memory, ...), else the
    Python traceback's last exception line, else the log's last line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in lines:
        jvm = _JVM_ERROR.search(line)
        if jvm:
            return jvm.group(0)
    for line in reversed(lines):
        if _PYTHON_ERROR.match(line):
            return line
    return lines[-1] if lines else "no output on stderr"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> float:
    return os.getloadavg()[0]


def measure(command: Sequence[str], log: Path, cwd: Path) -> Measured:
    """Runs ``command`` in ``cwd`` (stderr to ``log``), timing it; raises RunFailed with the cause if it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    load_before = load_average()
    cpu_before = _children_cpu()
    started = time.perf_counter()
    with log.open("wb") as stderr:
        done = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, check=False)
    wall = time.perf_counter() - started
    _reap_descendants()
    cpu = _children_cpu() - cpu_before
    if done.returncode != 0:
        cause = failure_cause(log.read_text(encoding="utf-8", errors="replace"))
        message = f"{' '.join(command)} exited with status {done.returncode}: {cause} (full log: {log})"
        raise RunFailed(message, cause, wall, cpu)
    return Measured(wall, cpu, load_before, load_average(), done.stdout.decode("utf-8", errors="replace"))
