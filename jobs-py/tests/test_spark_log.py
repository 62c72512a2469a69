"""Spark's output to its log file, the job's own to the terminal: split by who writes (a child process,
as the JVM is, or this process), checked with real processes and file descriptors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Stands for a job: diverts, then a child (as the JVM) writes to its inherited stdout and stderr, then the
# job prints its result and its own log line.
JOB = """
import subprocess, sys
from coattail_jobs.spark_log import divert_spark_output
divert_spark_output()
chatter = "echo ':: resolving dependencies ::'; echo 'WARN NativeCodeLoader: no native-hadoop' >&2"
subprocess.run(["sh", "-c", chatter], check=True)
print("job log line", file=sys.stderr)
print('{"rows": 3}')
"""


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", JOB], env=env, capture_output=True, text=True, check=True)


def test_the_childs_output_goes_to_the_log_and_the_jobs_own_stays(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "replay.log"
    done = _run({**os.environ, "COATTAIL_SPARK_LOG": str(log)})
    assert done.stdout == '{"rows": 3}\n'
    assert done.stderr == "job log line\n"
    assert log.read_text().splitlines() == [":: resolving dependencies ::", "WARN NativeCodeLoader: no native-hadoop"]


def test_without_the_variable_everything_goes_where_it_went() -> None:
    env = {k: v for k, v in os.environ.items() if k != "COATTAIL_SPARK_LOG"}
    done = _run(env)
    assert done.stdout == ':: resolving dependencies ::\n{"rows": 3}\n'
    assert done.stderr == "WARN NativeCodeLoader: no native-hadoop\njob log line\n"
