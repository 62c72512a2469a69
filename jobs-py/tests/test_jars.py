"""The local Spark jars: fetched once, under a lock, checked, from the configured Maven repository.

A real HTTP server stands in for the Maven repository (COATTAIL_MAVEN_REPO), serving the real jars in
Maven's layout; real Spark applications start on an empty jar folder."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from coattail_jobs import jars
from coattail_jobs.jars import JARS, MAVEN_CENTRAL, ensure_jars

# The jars as Maven Central publishes them, checked here against what the code pins: these sizes and
# SHA-1s are Central's own (the .sha1 files next to each jar), so a wrong pin fails here.
CENTRAL_SHA1 = {
    "iceberg-spark-runtime-3.5_2.12-1.10.1.jar": "6e4f43ae82d2291fa38c7a8fc1a46fbf95e8190f",
    "spark-sql-kinesis_2.12-1.2.0_spark-3.0.jar": "2cb555e4ec40a37419bf466a0d98b002a53c223e",
}
PATHS = {
    "/maven2/org/apache/iceberg/iceberg-spark-runtime-3.5_2.12/1.10.1/iceberg-spark-runtime-3.5_2.12-1.10.1.jar",
    "/maven2/com/qubole/spark/spark-sql-kinesis_2.12/1.2.0_spark-3.0/spark-sql-kinesis_2.12-1.2.0_spark-3.0.jar",
}


@pytest.fixture(scope="module")
def real_jars() -> dict[str, bytes]:
    """The real jars (from the default folder, fetched from Maven Central once if missing)."""
    return {p.name: p.read_bytes() for p in ensure_jars()}


class Repository:
    """A Maven repository over HTTP: serves ``files`` by name under any path; records every request.

    With ``hold`` set, the first response sends half its bytes and then waits for ``release``."""

    def __init__(self, files: dict[str, bytes], hold: bool = False) -> None:
        self.files = files
        self.requests: list[str] = []
        self.release = threading.Event()
        self.hold = hold
        repo = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                repo.requests.append(self.path)
                body = repo.files.get(self.path.rsplit("/", 1)[-1])
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                held = repo.hold and len(repo.requests) == 1
                if held:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    repo.release.wait(120)
                    self.wfile.write(body[len(body) // 2 :])
                else:
                    self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/maven2"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve(real_jars: dict[str, bytes]) -> Iterator[list[Repository]]:
    made: list[Repository] = []
    yield made
    for r in made:
        r.close()


def _env(jars_dir: Path, repo: str) -> dict[str, str]:
    return {**os.environ, "COATTAIL_JARS_DIR": str(jars_dir), "COATTAIL_MAVEN_REPO": repo}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_pins_are_maven_centrals_jars(real_jars: dict[str, bytes]) -> None:
    assert {j.file_name for j in JARS} == set(CENTRAL_SHA1)
    for jar in JARS:
        body = real_jars[jar.file_name]
        assert hashlib.sha1(body).hexdigest() == CENTRAL_SHA1[jar.file_name]
        assert (len(body), hashlib.sha256(body).hexdigest()) == (jar.size, jar.sha256)
        assert jar.path_in(MAVEN_CENTRAL).removeprefix("https://repo1.maven.org") in PATHS


# Starts a real local Spark application with the package's local conf: an Iceberg table is written and read
# back, and the Kinesis source is looked up, so both jars are on the classpath and load.
APP = """
import sys
from pyspark.sql import SparkSession
from coattail_jobs.config import JobConfig, local_spark_conf
builder = SparkSession.builder.appName("jars-test")
for k, v in local_spark_conf(JobConfig(job="jars-test", warehouse=sys.argv[1])).items():
    builder = builder.config(k, v)
spark = builder.config("spark.driver.memory", "512m").getOrCreate()
spark.sql("CREATE TABLE coattail.crypto_pulse.probe (id INT) USING iceberg")
spark.sql("INSERT INTO coattail.crypto_pulse.probe VALUES (1), (2)")
jvm = spark.sparkContext._jvm
source = jvm.org.apache.spark.sql.execution.datasources.DataSource.lookupDataSource(
    "kinesis", spark._jsparkSession.sessionState().conf()
)
print(spark.table("coattail.crypto_pulse.probe").count(), source.getName(), flush=True)
spark.stop()
"""


def test_two_applications_starting_at_once_on_an_empty_jar_folder_fetch_each_jar_once_and_both_run(
    serve: list[Repository], real_jars: dict[str, bytes], tmp_path: Path
) -> None:
    repo = Repository(real_jars, hold=True)
    serve.append(repo)
    folder = tmp_path / "jars"
    env = _env(folder, repo.url)
    apps = [
        subprocess.Popen(
            [sys.executable, "-c", APP, str(tmp_path / f"warehouse-{i}")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    errs: list[list[str]] = [[], []]

    def read(i: int) -> None:
        stream = apps[i].stderr
        assert stream is not None
        for line in stream:
            errs[i].append(line)
            if "waiting for another process fetching the Spark jars" in line:
                # The other application holds the lock mid-download: let the download finish now.
                repo.release.set()

    readers = [threading.Thread(target=read, args=(i,)) for i in range(2)]
    for r in readers:
        r.start()
    for p in apps:
        p.wait(timeout=300)  # stdout is one short line: the pipe cannot fill
    for r in readers:
        r.join()
    outs = [p.stdout.read() if p.stdout else "" for p in apps]

    for i, p in enumerate(apps):
        assert p.returncode == 0, "".join(errs[i])[-3000:]
        assert outs[i].split() == ["2", "org.apache.spark.sql.kinesis.KinesisSourceProvider"]
    waited = [i for i in range(2) if any("waiting for another process" in line for line in errs[i])]
    fetched = [i for i in range(2) if any("fetching the Spark jars once" in line for line in errs[i])]
    assert len(waited) == 1 and len(fetched) == 1 and waited != fetched
    assert sorted(repo.requests) == sorted(PATHS)  # each jar once, by one application
    assert sorted(p.name for p in folder.iterdir()) == sorted([".lock", *CENTRAL_SHA1])


def test_an_unreachable_repository_is_one_line_exit_1_and_nothing_kept(tmp_path: Path) -> None:
    folder = tmp_path / "jars"
    repo = f"http://127.0.0.1:{_closed_port()}/maven2"
    run = subprocess.run(
        [sys.executable, "-m", "coattail_jobs", "jars"], env=_env(folder, repo), capture_output=True, text=True
    )
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert lines[0].startswith(f"coattail: fetching the Spark jars once (67 MB) from {repo} into {folder}")
    assert len(lines) == 2, run.stderr
    what, _, rest = lines[1].partition(f": {repo}: ")
    assert what == "coattail: cannot fetch the Spark jar org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.1"
    why, _, fix = rest.partition(". ")
    assert why.endswith("Connection refused")  # [Errno 111] on Linux, 61 on macOS
    assert fix == "Check the network or proxy (https_proxy), or set COATTAIL_MAVEN_REPO to a reachable Maven repository"
    assert run.stdout == ""
    assert [p.name for p in folder.iterdir()] == [".lock"]


def test_a_spark_command_without_its_jars_says_so_in_one_line(tmp_path: Path) -> None:
    repo = f"http://127.0.0.1:{_closed_port()}/maven2"
    run = subprocess.run(
        [sys.executable, "-m", "coattail_jobs", "spark-conf", "local"],
        env=_env(tmp_path / "jars", repo),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1].startswith("coattail: cannot fetch the Spark jar org.apache.iceberg:")
    assert "Traceback" not in run.stderr


def test_an_altered_jar_is_refused_and_the_next_repository_is_tried(
    serve: list[Repository], real_jars: dict[str, bytes], tmp_path: Path
) -> None:
    altered = {name: body[:-1] + bytes([body[-1] ^ 1]) for name, body in real_jars.items()}
    bad, good = Repository(altered), Repository(real_jars)
    serve.extend([bad, good])
    folder = tmp_path / "jars"
    run = subprocess.run(
        [sys.executable, "-m", "coattail_jobs", "jars"],
        env=_env(folder, f"{bad.url},{good.url}"),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [str(folder / j.file_name) for j in JARS]
    for jar in JARS:
        assert hashlib.sha256((folder / jar.file_name).read_bytes()).hexdigest() == jar.sha256
    assert sorted(bad.requests) == sorted(PATHS)
    assert sorted(good.requests) == sorted(PATHS)

    # Only the altered repository: refused with the reason, and no jar is left in the folder.
    only_bad = tmp_path / "jars-2"
    run = subprocess.run(
        [sys.executable, "-m", "coattail_jobs", "jars"], env=_env(only_bad, bad.url), capture_output=True, text=True
    )
    assert run.returncode == 1
    assert f"{bad.url}: not the pinned jar (47140434 bytes, sha256 " in run.stderr.strip().splitlines()[-1]
    assert [p.name for p in only_bad.iterdir()] == [".lock"]


def test_a_jars_folder_that_cannot_be_written_is_one_line_exit_1(tmp_path: Path) -> None:
    folder = tmp_path / "jars"
    (folder / ".lock").mkdir(
        parents=True
    )  # in the way of the lock file (a read-only folder is the same, but root writes there)
    run = subprocess.run(
        [sys.executable, "-m", "coattail_jobs", "jars"], env=_env(folder, MAVEN_CENTRAL), capture_output=True, text=True
    )
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"coattail: cannot write the Spark jars folder {folder}: Is a directory. "
        "Set COATTAIL_JARS_DIR to a writable folder with 70 MB free"
    ]


def test_the_default_folder_is_jobs_py_jars_in_a_checkout_and_the_user_data_folder_once_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COATTAIL_JARS_DIR", raising=False)
    checkout = tmp_path / "jobs-py"
    checkout.mkdir()
    (checkout / "pyproject.toml").write_text("")
    monkeypatch.setattr(jars, "JOBS_PY", checkout)
    assert jars.jars_dir() == checkout / ".jars"

    site_packages = tmp_path / "site-packages"  # an installed coattail_jobs: no pyproject.toml beside it
    site_packages.mkdir()
    monkeypatch.setattr(jars, "JOBS_PY", site_packages)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert jars.jars_dir() == tmp_path / "data" / "coattail" / "jars"
    # XDG_DATA_HOME must be absolute (the XDG specification ignores a relative one): then ~/.local/share.
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert jars.jars_dir() == tmp_path / "home" / ".local" / "share" / "coattail" / "jars"
