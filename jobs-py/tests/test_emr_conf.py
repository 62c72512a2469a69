"""The SparkConf `coattail jobs submit` sends to EMR Serverless is the checked-in rendering of config.py's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from coattail_jobs.__main__ import EMR_WAREHOUSE_TEMPLATE, main, spark_conf_json
from coattail_jobs.ddl import LOCATION_TEMPLATE
from coattail_jobs.jars import ensure_jars

JOBS_PY = Path(__file__).resolve().parents[1]
CHECKED_IN = JOBS_PY / "emr-spark-conf.json"


def test_the_checked_in_file_is_the_rendering() -> None:
    assert CHECKED_IN.read_text() == spark_conf_json("emr", "unused"), (
        "jobs-py/emr-spark-conf.json is stale: run `python -m coattail_jobs spark-conf emr --out emr-spark-conf.json`"
    )


def test_the_emr_conf_is_iceberg_on_glue_with_both_connectors_on_the_classpath() -> None:
    conf = json.loads(CHECKED_IN.read_text())
    assert conf["spark.sql.catalog.coattail"] == "org.apache.iceberg.spark.SparkCatalog"
    assert conf["spark.sql.catalog.coattail.catalog-impl"] == "org.apache.iceberg.aws.glue.GlueCatalog"
    assert conf["spark.sql.catalog.coattail.io-impl"] == "org.apache.iceberg.aws.s3.S3FileIO"
    assert conf["spark.sql.catalog.coattail.warehouse"] == "s3://${bucket}/warehouse"
    assert conf["spark.sql.extensions"] == "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
    assert conf["spark.jars"].split(",") == [
        "/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar",
        "/usr/share/aws/kinesis/spark-sql-kinesis/lib/spark-streaming-sql-kinesis-connector.jar",
    ]
    # The only placeholder is the bucket, which `jobs submit` fills in.
    assert {v for v in conf.values() if "${" in v} == {"s3://${bucket}/warehouse"}


def test_the_tables_athena_creates_lie_in_the_warehouse_the_jobs_use() -> None:
    assert LOCATION_TEMPLATE.startswith(EMR_WAREHOUSE_TEMPLATE + "/crypto_pulse/")


def test_spark_conf_writes_the_file_it_prints(tmp_path: Path, capsys: object) -> None:
    out = tmp_path / "conf.json"
    assert main(["spark-conf", "emr", "--out", str(out)]) == 0
    assert out.read_text() == CHECKED_IN.read_text()


def test_the_local_conf_points_the_catalog_at_the_warehouse(tmp_path: Path) -> None:
    conf = json.loads(spark_conf_json("local", str(tmp_path / "wh")))
    assert conf["spark.sql.catalog.coattail.type"] == "hadoop"
    assert conf["spark.sql.catalog.coattail.warehouse"] == str(tmp_path / "wh")
    # The jars fetched once (jars.py), named as files: nothing is resolved when an application starts.
    assert "spark.jars.packages" not in conf
    assert conf["spark.jars"].split(",") == [str(p) for p in ensure_jars()]
    assert all(p.endswith(".jar") and Path(p).is_file() for p in conf["spark.jars"].split(","))


def test_the_emr_entry_script_runs_the_package_entry_point(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(JOBS_PY / "emr_main.py"), "spark-conf", "emr"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == CHECKED_IN.read_text()
