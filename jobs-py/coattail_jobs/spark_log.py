"""Spark's own output, apart from the job's.

Spark prints its start-up chatter (the ivy resolution report, ``NativeCodeLoader`` warnings, the
``Setting default log level`` banner, log4j lines) from the JVM, a child of this process that writes to the
file descriptors it inherits. When ``COATTAIL_SPARK_LOG`` names a file, descriptors 1 and 2 are pointed at
that file before the JVM starts, while ``sys.stdout`` and ``sys.stderr`` (the job's result, its log lines,
its errors) keep writing to where they went before. The split is by who writes, not by what a line looks like.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV = "COATTAIL_SPARK_LOG"


def divert_spark_output(log_file: str | None = None) -> Path | None:
    """Sends what child processes write on stdout and stderr to ``log_file`` (default: ``$COATTAIL_SPARK_LOG``);
    this process's ``sys.stdout``/``sys.stderr`` stay where they were. Returns the file, or None when not asked."""
    target = log_file if log_file is not None else os.environ.get(ENV)
    if not target:
        return None
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    own_out = os.fdopen(os.dup(1), "w", buffering=1, encoding=sys.stdout.encoding, errors=sys.stdout.errors)
    own_err = os.fdopen(os.dup(2), "w", buffering=1, encoding=sys.stderr.encoding, errors=sys.stderr.errors)
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(log, 1)
        os.dup2(log, 2)
    finally:
        os.close(log)
    sys.stdout = own_out
    sys.stderr = own_err
    return path
