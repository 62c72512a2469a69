"""The jobs' sinks: Iceberg tables (exactly once per micro-batch) and DynamoDB alerts (idempotent).

Iceberg: every write is a MERGE on the table's natural key, inserting only rows not already there. A
micro-batch replayed after a crash — even one that now holds more records than its first attempt, as a
Kinesis source may re-plan it — adds exactly the rows that are missing, never a duplicate.

DynamoDB: one conditional put per alert on ``attribute_not_exists(alert_id)``. A conditional failure
means "already written" (a replay) and is counted, not raised; any other error is retried with backoff
and then raised, so a batch never silently loses an alert.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType, TimestampType

from .schemas import TableSpec

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

log = logging.getLogger(__name__)

# Natural keys: a row with the same key is the same fact, whichever batch brought it.
NATURAL_KEYS: Mapping[str, tuple[str, ...]] = {
    "raw_trades": ("event_id",),
    "volume_aggregates": ("window_start", "symbol", "exchange"),
    "anomalies": ("alert_id",),
    "anomalies_reprocessed": ("alert_id", "as_of"),
    "whale_trades": ("alert_id",),
    "spreads": ("window_start", "symbol"),
    "alerts": ("alert_id",),
}


def iceberg_create_sql(spec: TableSpec, qualified_name: str) -> str:
    """Spark SQL that creates the table if missing, with the same columns and partitioning as the DDL."""
    columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in spec.schema.fields)
    parts = ", ".join(p.replace("day(", "days(") for p in spec.partitioning)  # Spark spells the transform days()
    return f"CREATE TABLE IF NOT EXISTS {qualified_name} ({columns}) USING iceberg PARTITIONED BY ({parts})"


def ensure_tables(spark: SparkSession, specs: Iterable[TableSpec], qualify: Callable[[str], str]) -> None:
    for spec in specs:
        namespace = qualify(spec.name).rsplit(".", 1)[0]
        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
        spark.sql(iceberg_create_sql(spec, qualify(spec.name)))


def conform(df: DataFrame, schema: StructType) -> DataFrame:
    """The columns of the schema, in its order and types (extra columns dropped).

    Cast to the target table's own types: a table created by Athena has ``timestamp`` columns without a
    zone (Spark's TIMESTAMP_NTZ), one created by Spark has zoned ones; with the session in UTC both hold
    the same UTC wall-clock time.
    """
    return df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])


def time_column(spec: TableSpec) -> str:
    """The event-time column the table is partitioned by day on (``day(trade_time)`` -> ``trade_time``)."""
    for transform in spec.partitioning:
        match = re.fullmatch(r"day\((\w+)\)", transform)
        if match:
            return match.group(1)
    raise ValueError(f"table {spec.name} has no day() partition to bound its MERGE by")


def merge_into_iceberg(df: DataFrame, spec: TableSpec, qualified_name: str, slack_us: int = 0) -> None:
    """Inserts the batch's rows whose natural key is not in the table yet.

    ``slack_us`` widens the time range the MERGE reads by that much on each side: for rows whose time may
    have been recorded with another precision than the table's copy (a trade loaded over REST with
    milliseconds, archived live with microseconds).

    The MERGE reads only the part of the table that can hold the batch's keys: the rows whose time column
    lies between the batch's oldest and newest. That is exact, not a guess: a key's time never changes (a
    trade's time, a window's start, an alert's time are part of what the key names), so a row with the same
    key has the same time. Spark pushes that range into the Iceberg scan, which skips every other day
    partition and every data file whose time bounds miss it; without it, each micro-batch anti-joins the
    whole table and gets slower as the history grows.

    Keep it insert-only: Spark plans such a MERGE as an append, and volume-anomaly reads
    ``volume_aggregates`` as an Iceberg stream, which fails on ``overwrite`` snapshots (a ``WHEN MATCHED``
    clause would make them).
    """
    keys = NATURAL_KEYS[spec.name]
    target = df.sparkSession.table(qualified_name).schema
    batch = conform(df, target).dropDuplicates(list(keys)).persist()
    try:
        ts = time_column(spec)
        micros = F.unix_micros(F.col(ts).cast(TimestampType()))
        bounds = batch.agg(F.count(F.lit(1)).alias("n"), F.min(micros).alias("lo"), F.max(micros).alias("hi")).first()
        if bounds is None or bounds["n"] == 0:
            return  # no-data batches commit no empty snapshot
        ts_type = target[ts].dataType.simpleString()
        on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
        if bounds["lo"] is not None:  # a null time (never in a valid row) leaves the MERGE unbounded
            on += (
                f" AND t.`{ts}` >= CAST(timestamp_micros({int(bounds['lo']) - slack_us}) AS {ts_type})"
                f" AND t.`{ts}` <= CAST(timestamp_micros({int(bounds['hi']) + slack_us}) AS {ts_type})"
            )
        view = f"coattail_batch_{spec.name}_{int(time.time() * 1e6)}"
        batch.createOrReplaceTempView(view)
        try:
            batch.sparkSession.sql(
                f"MERGE INTO {qualified_name} t USING {view} s ON {on} WHEN NOT MATCHED THEN INSERT *"
            )
        finally:
            batch.sparkSession.catalog.dropTempView(view)
    finally:
        batch.unpersist()


# ---------------------------------------------------------------- DynamoDB alerts


class AlertWriteError(RuntimeError):
    """An alert could not be written after retries: the batch must fail (and be replayed)."""


@dataclass
class DynamoWriteStats:
    written: int = 0
    already_written: int = 0
    retries: int = 0


RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
    }
)


def _attribute(value: Any) -> dict[str, Any]:
    """A DynamoDB attribute value (low-level client form) for a plain Python value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, Decimal | int):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": repr(value)}
    if isinstance(value, datetime):
        return {"S": iso_utc(value)}
    return {"S": str(value)}


def iso_utc(ts: datetime) -> str:
    """ISO-8601 UTC with milliseconds and Z: sortable, as the alert index's sort key needs."""
    aware = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{aware.microsecond // 1000:03d}Z"


def put_alerts(
    client: DynamoDBClient,
    table: str,
    items: Iterable[Mapping[str, Any]],
    *,
    max_attempts: int = 6,
    base_delay_s: float = 0.1,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DynamoWriteStats:
    """Conditional puts, one per alert; ``written_at`` records when each landed."""
    stats = DynamoWriteStats()
    for item in items:
        if "alert_id" not in item:
            raise ValueError("an alert without alert_id cannot be written idempotently")
        attrs = {k: _attribute(v) for k, v in item.items()}
        for attempt in range(1, max_attempts + 1):
            attrs["written_at"] = {"S": iso_utc(now())}
            try:
                client.put_item(TableName=table, Item=attrs, ConditionExpression="attribute_not_exists(alert_id)")
                stats.written += 1
                break
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                if code == "ConditionalCheckFailedException":
                    stats.already_written += 1  # a replayed batch: the alert is there already
                    break
                if code not in RETRYABLE_CODES or attempt == max_attempts:
                    raise AlertWriteError(f"alert {item['alert_id']} not written to {table}: {code}: {err}") from err
            except BotoCoreError as err:  # connection errors, timeouts
                if attempt == max_attempts:
                    raise AlertWriteError(f"alert {item['alert_id']} not written to {table}: {err}") from err
            stats.retries += 1
            delay = random.uniform(0, base_delay_s * 2 ** (attempt - 1))  # full jitter
            log.warning("retrying alert %s in %.2fs (attempt %d)", item["alert_id"], delay, attempt)
            sleep(delay)
    return stats
