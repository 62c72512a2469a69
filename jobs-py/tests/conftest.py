"""The suite's fixtures: one SparkSession (local mode, Iceberg in a temporary Hadoop warehouse), the local
emulators the product uses (dynalite, kinesis-local) with their clients, and ``job_env``, where a test runs a
streaming job's queries over files."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming.query import StreamingQuery

from coattail_jobs.config import JobConfig, local_spark_conf
from coattail_jobs.run import JobRunner
from coattail_jobs.sources import file_source

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


@pytest.fixture(scope="module")
def one_shuffle_partition(spark: SparkSession) -> Iterator[None]:
    """Streaming queries fix their state partitions when they start: one keeps the replays light on 2 cores."""
    before = str(spark.conf.get("spark.sql.shuffle.partitions"))
    spark.conf.set("spark.sql.shuffle.partitions", "1")
    yield
    spark.conf.set("spark.sql.shuffle.partitions", before)


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


@pytest.fixture(scope="session")
def dynamodb(dynamodb_endpoint: str) -> Any:
    """A client of dynalite (which takes any credentials: without them boto3 would look for real ones)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@pytest.fixture(scope="session")
def kinesis(kinesis_endpoint: str) -> Any:
    """A client of the Kinesis emulator (which takes any credentials, as dynalite)."""
    return boto3.client(
        "kinesis",
        endpoint_url=kinesis_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@pytest.fixture
def alerts_table(dynamodb: Any) -> str:
    """A new, empty alerts table in dynalite: the same design as `coattail local up` creates
    (src/local/resources.ts)."""
    name = f"alerts-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "alert_id", "AttributeType": "S"},
            {"AttributeName": "alert_type", "AttributeType": "S"},
            {"AttributeName": "alert_time", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "alert_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_type_time",
                "KeySchema": [
                    {"AttributeName": "alert_type", "KeyType": "HASH"},
                    {"AttributeName": "alert_time", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    return name


@dataclass(frozen=True)
class JobEnv:
    """Where a test runs a streaming job: checkpoints and raw zone under the test's own folder, a source folder
    of JSON-lines files standing in for Kinesis, a fresh alerts table in dynalite."""

    spark: SparkSession
    root: Path
    dynamodb: Any
    alerts_table: str

    @property
    def source(self) -> Path:
        """Each file dropped here is a micro-batch of raw records (``sources.file_source``)."""
        return self.root / "in"

    @property
    def checkpoints(self) -> Path:
        return self.root / "ck"

    @property
    def raw_root(self) -> Path:
        return self.root / "raw"

    def config(self, job: str, *, trigger: str = "1 second", **settings: Any) -> JobConfig:
        return JobConfig(
            job=job,
            checkpoint_root=str(self.checkpoints),
            raw_root=str(self.raw_root),
            alerts_table=self.alerts_table,
            trigger=trigger,
            **settings,
        )

    def runner(self, config: JobConfig, **options: Any) -> JobRunner:
        return JobRunner(self.spark, config, dynamodb=self.dynamodb, **options)

    def stream(self) -> DataFrame:
        """The raw records of the files in ``source``, as a stream."""
        return file_source(self.spark, str(self.source))

    def start(self, config: JobConfig, **options: Any) -> list[StreamingQuery]:
        """The job's queries over ``source``, started."""
        return self.runner(config, **options).start(self.stream())


@pytest.fixture
def job_env(spark: SparkSession, dynamodb: Any, alerts_table: str, tmp_path: Path) -> JobEnv:
    env = JobEnv(spark, tmp_path, dynamodb, alerts_table)
    env.source.mkdir()
    return env
