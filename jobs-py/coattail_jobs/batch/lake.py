"""Unified trades fetched over REST -> Iceberg ``raw_trades``, the way raw-archiver writes live ones.

Each trade is serialized as the producer's JSON record and goes through the archive's own path:
``parse.parse_trades`` (the same timestamp parsing, microseconds kept) and ``raw_archiver.raw_trade_rows`` (the
table's columns; no Kinesis sequence number, ``archived_at`` the load's time). Then one MERGE on ``event_id``
inserts what the table does not hold yet: a re-run adds nothing twice, and a trade raw-archiver already
archived live before is not duplicated. The MERGE reads only the rows between the batch's oldest and newest
trade times, widened by a millisecond (``raw_archiver.PRECISION_SLACK_US``, which raw-archiver's MERGE uses too):
a trade archived with milliseconds and loaded with microseconds (or the other way round, in either order)
still meets its copy.

Not at the same moment, though. Spark plans a MERGE with only ``WHEN NOT MATCHED THEN INSERT`` as an anti-join
plus an append, and Iceberg does not check an append for conflicts: a load and raw-archiver committing the
SAME trades at the same time can both insert them, and the table then holds them twice. So load ranges the
archiver is not writing at the time: not the live minutes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from ..jobs.raw_archiver import PRECISION_SLACK_US, merge_raw_trades, raw_trade_rows
from ..parse import MALFORMED_COL, parse_trades


@dataclass(frozen=True)
class Commit:
    rows: int
    """Distinct trades in the batch."""
    inserted: int
    already_present: int
    malformed: int


def merge_trades(spark: SparkSession, trades: Sequence[dict[str, object]], table: str, archived_at: datetime) -> Commit:
    """MERGEs unified trades into ``table`` (raw_trades' shape); how many were new and how many already there.

    The count of those already there is taken just before the MERGE, over the same time range; a writer
    committing the same trades in between (raw-archiver) makes it low. Worse, a writer committing them at the
    same moment as this MERGE can leave them in the table twice: the MERGE is an anti-join plus an append, and
    Iceberg does not check appends for conflicts (see the module doc: load ranges the archiver is not writing)."""
    records = spark.createDataFrame([(json.dumps(t), None) for t in trades], "data string, sequence_number string")
    parsed = parse_trades(records).persist()
    try:
        malformed = parsed.where(F.col(MALFORMED_COL)).count()
        rows = raw_trade_rows(parsed.where(~F.col(MALFORMED_COL)), archived_at).dropDuplicates(["event_id"]).persist()
        try:
            bounds = rows.agg(
                F.count(F.lit(1)).alias("n"),
                F.min(F.unix_micros("trade_time")).alias("lo"),
                F.max(F.unix_micros("trade_time")).alias("hi"),
            ).first()
            if bounds is None or int(bounds["n"]) == 0:
                return Commit(0, 0, 0, malformed)
            lo, hi = int(bounds["lo"]) - PRECISION_SLACK_US, int(bounds["hi"]) + PRECISION_SLACK_US
            target = spark.table(table)
            # Literal bounds in the column's own type (zoned or not, as whoever created the table made it):
            # Iceberg prunes the day partitions and data files outside them, as in the MERGE.
            ts_type = target.schema["trade_time"].dataType.simpleString()
            existing = target.where(
                f"trade_time >= CAST(timestamp_micros({lo}) AS {ts_type}) "
                f"AND trade_time <= CAST(timestamp_micros({hi}) AS {ts_type})"
            )
            present = rows.join(existing.select("event_id"), "event_id", "left_semi").count()
            merge_raw_trades(rows, table)
            n = int(bounds["n"])
            return Commit(n, n - present, present, malformed)
        finally:
            rows.unpersist()
    finally:
        parsed.unpersist()


def current_snapshot(spark: SparkSession, table: str) -> str | None:
    """The id of the table's newest snapshot (a string: ids pass 2^53), None before the first."""
    row = spark.sql(f"SELECT snapshot_id FROM {table}.snapshots ORDER BY committed_at DESC LIMIT 1").first()
    return None if row is None else str(row["snapshot_id"])
