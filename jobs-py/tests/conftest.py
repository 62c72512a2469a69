"""One SparkSession for the whole suite (local mode, Iceberg in a temporary Hadoop warehouse)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from coattail_jobs.config import JobConfig, local_spark_conf

# What pandas-on-Spark asks for with pyarrow >= 2; set before any test module imports pyspark.pandas.
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse")


@pytest.fixture(scope="session")
def spark(warehouse: Path) -> Iterator[SparkSession]:
    # Python workers (pandas UDFs, applyInPandasWithState) must run this interpreter, which has pandas and
    # pyarrow, not whatever `python3` is first on the PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    conf = local_spark_conf(JobConfig(job="tests", warehouse=str(warehouse)))
    conf["spark.master"] = "local[2]"
    conf["spark.sql.shuffle.partitions"] = "2"
    builder = SparkSession.builder.appName("coattail-jobs-tests")
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """The real DynamoDB-compatible store the product uses locally (dynalite, from the repo's node_modules)."""
    import shutil
    import subprocess
    import time
    import urllib.error
    import urllib.request

    node = shutil.which("node")
    if node is None or not (REPO / "node_modules" / "dynalite").exists():
        pytest.fail("dynalite is needed: run `make test` (it installs the Node packages) from the repository root")
    port = _free_port()
    script = (
        f"import('dynalite').then(m => m.default({{createTableMs: 0, deleteTableMs: 0}}).listen({port}, '127.0.0.1'))"
    )
    proc = subprocess.Popen([node, "-e", script], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=1)
            break
        except urllib.error.HTTPError:
            break  # it answers (with an error for a bare GET): it is up
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"dynalite did not start: {proc.stderr.read().decode() if proc.stderr else ''}"
                ) from None
            time.sleep(0.1)
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def kinesis_endpoint() -> Iterator[str]:
    """The real Kinesis emulator the product uses locally (kinesis-local, from the repo's node_modules)."""
    import shutil
    import signal
    import subprocess
    import time

    node = shutil.which("node")
    main = REPO / "node_modules" / "kinesis-local" / "main.js"
    if node is None or not main.exists():
        pytest.fail("kinesis-local is needed: run `make test` (it installs the Node packages) from the repository root")
    port, tls_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "KINESIS_MOCK_PLAIN_PORT": str(port),
        "KINESIS_MOCK_TLS_PORT": str(tls_port),
        # It resolves a relative certificate path against its working directory and dies: absolute.
        "KINESIS_MOCK_CERT_PATH": str(main.parent / "server.json"),
        "CREATE_STREAM_DURATION": "0ms",
        "LOG_LEVEL": "WARN",
    }
    proc = subprocess.Popen([node, str(main)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    import socket

    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Kinesis emulator did not start") from None
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.send_signal(signal.SIGKILL)  # it ignores SIGTERM
    proc.wait(timeout=10)
