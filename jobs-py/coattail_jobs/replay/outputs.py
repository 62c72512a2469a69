"""The files a replay writes: one NDJSON file per output, deduplicated on its table's natural key and sorted.

Each output is deduplicated on its table's natural key (``writers.NATURAL_KEYS``, what the live Iceberg MERGE
does) and sorted by time, then key, so two runs of the same recording write identical files.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructField, StructType, TimestampType

from ..jobs.catalog import Job
from ..schemas import ALERT, ANOMALY_ALERT, DLQ_RECORD, RAW_TRADES, SPREAD_RECORD, VOLUME_AGGREGATE, WHALE_ALERT
from ..writers import NATURAL_KEYS

ROWS_PER_FETCH = 100_000
"""Rows of an output the driver holds at once while writing its file."""
BATCH_COL = "_replay_batch"
"""The micro-batch a staged row came from."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Output:
    """One output file: the rows' schema, the natural key it is deduplicated on, and its sort order."""

    name: str
    schema: StructType
    order: tuple[str, ...]
    extra: tuple[StructField, ...] = ()
    """Columns staged only to sort by (not written)."""

    @property
    def file(self) -> str:
        return f"{self.name}.jsonl"

    @property
    def keys(self) -> tuple[str, ...]:
        return NATURAL_KEYS.get(self.name, ())

    @property
    def staged_schema(self) -> StructType:
        return StructType([*self.schema.fields, *self.extra])


_DLQ_FIELDS = {f.name: f for f in DLQ_RECORD.fields}
RAW_TRADES_OUT = Output("raw_trades", RAW_TRADES, ("trade_time", "event_id"))
VOLUME_AGGREGATES_OUT = Output("volume_aggregates", VOLUME_AGGREGATE, ("window_start", "symbol", "exchange"))
ANOMALIES_OUT = Output("anomalies", ANOMALY_ALERT, ("window_start", "alert_id"))
WHALE_TRADES_OUT = Output("whale_trades", WHALE_ALERT, ("trade_time", "alert_id"))
SPREADS_OUT = Output("spreads", SPREAD_RECORD, ("window_start", "symbol"))
ALERTS_OUT = Output("alerts", ALERT, ("alert_time", "alert_id"))
DLQ_OUT = Output(
    "dlq",
    StructType([_DLQ_FIELDS["reason"], _DLQ_FIELDS["checks_failed"], _DLQ_FIELDS["record"]]),
    # Dead letters have no natural key; the trade time where they have one, then the text, fix the order.
    ("trade_time", "record", "reason"),
    (StructField("trade_time", TimestampType(), True),),
)

TABLE_OUTPUTS: Mapping[str, Output] = {
    output.name: output
    for output in (RAW_TRADES_OUT, VOLUME_AGGREGATES_OUT, ANOMALIES_OUT, WHALE_TRADES_OUT, SPREADS_OUT, ALERTS_OUT)
}
"""The file of each table a job's queries write rows to, and of ``alerts``."""


def outputs_of(job: Job) -> tuple[Output, ...]:
    """The files a replay of ``job`` writes, in the order the summary lists them: the rows of its queries, the
    alerts they raise, the dead letters."""
    tables = dict.fromkeys([*(q.rows for q in job.queries), *(["alerts"] if job.alerting_query else [])])
    return (*(TABLE_OUTPUTS[name] for name in tables), DLQ_OUT)


def first_per_key(rows: DataFrame, keys: Iterable[str]) -> DataFrame:
    """One row per natural key, the earliest micro-batch's (what a MERGE inserting only new keys keeps).

    Within a batch the live MERGE keeps any one; here the smallest row does, so reruns agree.
    """
    keys = list(keys)
    if not keys:
        return rows
    # The staged micro-batch first, then every other column.
    tie_break = sorted((c for c in rows.columns if c not in keys), key=lambda c: c != BATCH_COL)
    first = Window.partitionBy(*keys).orderBy(*[F.col(c).asc_nulls_first() for c in tie_break])
    return (
        rows.withColumn("_replay_rank", F.row_number().over(first))
        .where(F.col("_replay_rank") == 1)
        .drop("_replay_rank")
    )


def format_timestamp(micros: int) -> str:
    """Epoch microseconds -> ISO-8601 UTC with Z: milliseconds, or microseconds where there are any."""
    moment = EPOCH + timedelta(microseconds=micros)
    fraction = f"{moment.microsecond:06d}" if micros % 1000 else f"{moment.microsecond // 1000:03d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + fraction + "Z"


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def write_ndjson(rows: DataFrame, output: Output, path: Path) -> int:
    """The rows, sorted by ``output.order``, as one JSON object a line (the schema's fields, in order).

    Replaces ``path`` atomically; returns the number of rows. Timestamps leave Spark as epoch
    microseconds, so neither the session's nor the driver's time zone touches them.
    """
    names = output.schema.names
    times = {f.name for f in output.schema.fields if isinstance(f.dataType, TimestampType)}
    order = [F.col(c).asc_nulls_first() for c in output.order]
    rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        # The driver takes the rows one partition at a time: ranges of at most ROWS_PER_FETCH rows, in
        # order, so a day of trades never has to fit in its memory at once (one 1M-row partition did not).
        # Small outputs stay one partition: no sampling job for the range bounds.
        total = rows.count()
        parts = max(1, math.ceil(total / ROWS_PER_FETCH))
        spread = rows.repartitionByRange(parts, *order) if parts > 1 else rows.repartition(1)
        ordered = spread.sortWithinPartitions(*order)
        projected = ordered.select(*[F.unix_micros(F.col(n)).alias(n) if n in times else F.col(n) for n in names])
        staging = path.with_name(f".{path.name}.partial")
        count = 0
        with staging.open("w", encoding="utf-8") as handle:
            for row in projected.toLocalIterator():
                record = {
                    name: format_timestamp(value) if name in times and value is not None else value
                    for name, value in zip(names, row, strict=True)
                }
                handle.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
                count += 1
    finally:
        rows.unpersist()
    os.replace(staging, path)
    return count
