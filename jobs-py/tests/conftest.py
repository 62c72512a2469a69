"""One SparkSession for the whole suite (local mode, Iceberg in a temporary Hadoop warehouse)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from coattail_jobs.config import JobConfig, local_spark_conf

IVY_DIR = str(Path(__file__).resolve().parents[1] / ".ivy")


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse")


@pytest.fixture(scope="session")
def spark(warehouse: Path) -> Iterator[SparkSession]:
    conf = local_spark_conf(JobConfig(job="tests", warehouse=str(warehouse)), ivy_dir=IVY_DIR)
    conf["spark.master"] = "local[2]"
    conf["spark.sql.shuffle.partitions"] = "2"
    builder = SparkSession.builder.appName("coattail-jobs-tests")
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
