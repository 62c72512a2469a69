"""Job settings (from arguments and the environment) and the SparkConf for local mode and for EMR.

The same job code runs in both places; only this configuration differs:
- local: ``local[*]``, Iceberg in a Hadoop catalog in a local folder, the Kinesis emulator, dynalite;
- EMR Serverless: Iceberg in the Glue Data Catalog on S3, Kinesis and DynamoDB on AWS.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path

from .jars import ensure_jars

# Locally Kinesis is the emulator, read by the open-source connector (jars.LOCAL_KINESIS_PACKAGE; see
# sources.py for why). That connector shades the AWS SDK, renaming its CBOR switch; the emulator needs CBOR off.
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


# ---------------------------------------------------------------- settings (--set NAME=VALUE)

_INTERVAL_PART = re.compile(r"(\d+)\s+(millisecond|second|minute|hour|day)s?", re.IGNORECASE)
_INTERVAL_UNIT_US = {
    "millisecond": 1_000,
    "second": 1_000_000,
    "minute": 60_000_000,
    "hour": 3_600_000_000,
    "day": 86_400_000_000,
}
_SYMBOL = re.compile(r"^[A-Z0-9]+-[A-Z0-9]+$")


def interval_micros(text: str) -> int:
    """``2 minutes``, ``90 seconds``, ``1 minute 30 seconds`` -> microseconds: the forms Spark reads too."""
    parts = text.split()
    if not parts or len(parts) % 2:
        raise ValueError(f"{text!r} is not an interval like '2 minutes'")
    total = 0
    for number, unit in zip(parts[::2], parts[1::2], strict=True):
        match = _INTERVAL_PART.fullmatch(f"{number} {unit}")
        if match is None:
            raise ValueError(f"{text!r} is not an interval like '2 minutes'")
        total += int(match.group(1)) * _INTERVAL_UNIT_US[match.group(2).lower()]
    return total


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _positive_number(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise ValueError(f"{text!r} is not above 0")
    return value


def _non_negative_number(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise ValueError(f"{text!r} is below 0")
    return value


def _periods(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _watermark(text: str) -> str:
    interval_micros(text)
    return " ".join(text.split())


def _trigger(text: str) -> str:
    if interval_micros(text) <= 0:
        raise ValueError(f"{text!r} is not longer than 0")
    return " ".join(text.split())


def _symbols(text: str) -> tuple[str, ...]:
    symbols = tuple(dict.fromkeys(s.strip().upper() for s in text.split(",") if s.strip()))
    if not symbols:
        raise ValueError("no symbols given")
    for symbol in symbols:
        if not _SYMBOL.match(symbol):
            raise ValueError(f"{symbol!r} is not BASE-QUOTE")
    return symbols


class SettingError(ConfigError):
    """A ``--set NAME=VALUE`` the job does not take, or a value its setting refuses."""


@dataclass(frozen=True)
class Setting:
    """One ``--set`` name (and its aliases) for a JobConfig field, with the parser that checks its value."""

    key: str
    field: str
    """The JobConfig field it sets; its default is the setting's."""
    parse: Callable[[str], object]
    example: str
    """A value for the error line: ``write it like --set {name}={example}``."""
    help: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.key, *self.aliases)

    @property
    def default(self) -> object:
        """The JobConfig default, as JSON has it (a tuple as a list)."""
        (spec,) = [f for f in fields(JobConfig) if f.name == self.field]
        return _plain(spec.default if spec.default is not MISSING else None)


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


WATERMARK = Setting(
    "watermark",
    "watermark",
    _watermark,
    "'5 minutes'",
    "how far behind the newest trade time a trade may arrive and still count; later ones are dropped",
)
TRIGGER = Setting(
    "trigger",
    "trigger",
    _trigger,
    "'1 minute'",
    "the micro-batch interval (in a replay, the arrival-time slot of one micro-batch)",
)
HISTORY_TRIGGER = Setting(
    "history_trigger",
    "history_trigger",
    _trigger,
    "'10 seconds'",
    "the interval of the Iceberg history query (whale_trades, alerts); unset: the trigger",
)
SYMBOLS = Setting(
    "symbols",
    "symbols",
    _symbols,
    "BTC-USDT,ETH-USDT",
    "the symbols the quality check allows, comma-separated",
)
WHALE_THRESHOLD = Setting(
    "threshold",
    "whale_threshold",
    _positive_number,
    "250000",
    "a whale is a trade whose quote volume is strictly above this",
    aliases=("whale_threshold",),
)
ANOMALY_THRESHOLD = Setting(
    "threshold",
    "anomaly_threshold",
    _number,
    "3.0",
    "a window is an anomaly when its z-score is strictly above this (and the baseline varies)",
    aliases=("anomaly_threshold",),
)
ANOMALY_MIN_PERIODS = Setting(
    "min_periods",
    "anomaly_min_periods",
    _periods,
    "10",
    "the baseline windows (in the hour before) a window needs before it can be an anomaly",
    aliases=("anomaly_min_periods",),
)
SPREAD_THRESHOLD = Setting(
    "threshold",
    "spread_threshold_pct",
    _non_negative_number,
    "0.4",
    "a window's spread, in percent, strictly above which it raises an alert",
    aliases=("spread_threshold_pct",),
)


def apply_settings(base: JobConfig, settings: Sequence[Setting], assignments: Iterable[str]) -> JobConfig:
    """``base`` with ``NAME=VALUE`` assignments of ``settings`` applied (later ones win); SettingError if bad."""
    by_name = {name: setting for setting in settings for name in setting.names}
    changes: dict[str, object] = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        name = name.strip()
        if not sep or not name:
            raise SettingError(f"--set {assignment!r} is not NAME=VALUE: write it like --set threshold=3.0")
        setting = by_name.get(name)
        if setting is None:
            raise SettingError(f"unknown setting {name!r} for {base.job}: it takes {', '.join(by_name)}")
        try:
            changes[setting.field] = setting.parse(value.strip())
        except ValueError as err:
            raise SettingError(f"bad value for {name}: {err}: write it like --set {name}={setting.example}") from None
    return replace(base, **changes)  # type: ignore[arg-type]  # each parser returns its field's type


def setting_values(config: JobConfig, settings: Sequence[Setting]) -> dict[str, object]:
    """The effective values of ``settings``, by JobConfig field name (tuples as lists)."""
    return {s.field: _plain(getattr(config, s.field)) for s in settings}


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
