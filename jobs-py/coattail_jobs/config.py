"""Job settings (from arguments and the environment) and the SparkConf for local mode and for EMR.

The same job code runs in both places; only this configuration differs:
- local: ``local[*]``, Iceberg in a Hadoop catalog in a local folder, the Kinesis emulator, dynalite;
- EMR Serverless: Iceberg in the Glue Data Catalog on S3, Kinesis and DynamoDB on AWS.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ICEBERG_VERSION = "1.10.1"
ICEBERG_RUNTIME = f"org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:{ICEBERG_VERSION}"
# Locally Kinesis is the emulator, read by the open-source connector (see sources.py for why).
LOCAL_KINESIS_PACKAGE = "com.qubole.spark:spark-sql-kinesis_2.12:1.2.0_spark-3.0"
# That connector shades the AWS SDK, renaming its CBOR switch; the emulator needs CBOR off.
LOCAL_KINESIS_JAVA_OPTIONS = "-Dorg.apache.spark.sql.kinesis.shaded.amazonaws.sdk.disableCbor=true"
EMR_ICEBERG_JAR = "/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar"
EMR_KINESIS_CONNECTOR_JAR = "/usr/share/aws/kinesis/spark-sql-kinesis/lib/spark-streaming-sql-kinesis-connector.jar"
CATALOG = "coattail"
DATABASE = "crypto_pulse"
DEFAULT_SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")
EXCHANGES = ("binance", "coinbase")


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value else default


@dataclass(frozen=True)
class JobConfig:
    """Everything a job needs to know; built from arguments, the environment, then defaults."""

    job: str
    mode: str = "local"  # local | emr
    stream: str = "coattail-trades"
    region: str = "us-east-1"
    kinesis_endpoint: str | None = None
    dynamodb_endpoint: str | None = None
    alerts_table: str = "coattail-alerts"
    warehouse: str = ".coattail/warehouse"
    checkpoint_root: str = ".coattail/checkpoints"
    raw_root: str = ".coattail/raw"
    watermark: str = "2 minutes"
    trigger: str = "5 seconds"
    # whale-detector's second query, the Iceberg history (whale_trades, alerts); None: the trigger above.
    history_trigger: str | None = None
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    whale_threshold: float = 100_000.0
    anomaly_threshold: float = 2.5
    anomaly_min_periods: int = 10
    spread_threshold_pct: float = 0.5
    cloudwatch_namespace: str = "CryptoPulse/Quality"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def table_prefix(self) -> str:
        return f"{CATALOG}.{DATABASE}"

    def table(self, name: str) -> str:
        return f"{self.table_prefix}.{name}"

    def checkpoint(self, name: str) -> str:
        return (
            str(Path(self.checkpoint_root) / self.job / name)
            if self.mode == "local"
            else f"{self.checkpoint_root}/{self.job}/{name}"
        )


class ConfigError(ValueError):
    """Settings a job cannot run with: reported as one line, exit status 2."""


def check_locations(config: JobConfig) -> None:
    """On EMR the checkpoints and the raw zone (DLQ) must be on S3: the workers' local disks vanish with
    the job run, and a checkpoint there would restart the stream from scratch after every failure."""
    if config.mode != "emr":
        return
    for name, value in (("--checkpoint-root", config.checkpoint_root), ("--raw-root", config.raw_root)):
        if not value.startswith("s3://"):
            raise ConfigError(
                f"{name} {value!r} is not on S3: in --mode emr it must be an s3:// location "
                f"(e.g. s3://<bucket>/coattail/{name.removeprefix('--').removesuffix('-root')}s)"
            )


def local_spark_conf(config: JobConfig, jars: Sequence[Path] | None = None) -> dict[str, str]:
    """SparkConf for local mode: Iceberg in a Hadoop catalog under ``config.warehouse``.

    ``jars``: the local jars (default: ``jars.ensure_jars()``, which fetches them once, under a lock, before
    any application starts; ``spark.jars.packages`` would resolve them at every start, racing other starts).
    """
    if jars is None:
        from .jars import ensure_jars

        jars = ensure_jars()
    conf = {
        "spark.master": _env("COATTAIL_SPARK_MASTER", "local[*]"),
        "spark.jars": ",".join(str(j) for j in jars),
        "spark.driver.extraJavaOptions": LOCAL_KINESIS_JAVA_OPTIONS,
        "spark.executor.extraJavaOptions": LOCAL_KINESIS_JAVA_OPTIONS,
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        f"spark.sql.catalog.{CATALOG}": "org.apache.iceberg.spark.SparkCatalog",
        f"spark.sql.catalog.{CATALOG}.type": "hadoop",
        f"spark.sql.catalog.{CATALOG}.warehouse": str(Path(config.warehouse).resolve()),
        # Each streaming query runs in its own session with its own catalog instance: a cached table
        # there would not see commits made through another, so every read loads the current snapshot.
        f"spark.sql.catalog.{CATALOG}.cache-enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": _env("COATTAIL_SHUFFLE_PARTITIONS", "4"),
        "spark.ui.enabled": "false",
        # Progress bars would bury the jobs' own log lines on stderr (and fill a demo's log file).
        "spark.ui.showConsoleProgress": "false",
    }
    return conf


def emr_spark_conf(config: JobConfig, warehouse_s3: str) -> dict[str, str]:
    """SparkConf for EMR Serverless: Iceberg in the Glue Data Catalog.

    EMR 7.x ships the Iceberg runtime and (7.1+) the ``aws-kinesis`` connector but puts neither on the
    classpath: ``spark.jars`` does (connector path:
    https://docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/jobs-spark-streaming-connectors.html).
    """
    return {
        "spark.jars": f"{EMR_ICEBERG_JAR},{EMR_KINESIS_CONNECTOR_JAR}",
        f"spark.sql.catalog.{CATALOG}.cache-enabled": "false",
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        f"spark.sql.catalog.{CATALOG}": "org.apache.iceberg.spark.SparkCatalog",
        f"spark.sql.catalog.{CATALOG}.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        f"spark.sql.catalog.{CATALOG}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        f"spark.sql.catalog.{CATALOG}.warehouse": warehouse_s3,
        "spark.sql.session.timeZone": "UTC",
        "spark.hadoop.hive.metastore.client.factory.class": (
            "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
        ),
    }
