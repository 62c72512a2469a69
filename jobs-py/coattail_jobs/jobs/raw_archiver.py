"""raw-archiver: every valid trade, as received, into Iceberg ``raw_trades``; what fails to the dead-letter queue.

It is the one job that reads the raw records and the one place that dead-letters and counts them: the
event-time jobs read the same stream and only filter it by the same checks, so a bad record lands in the
dead-letter queue once and the quality metrics count each record once. It has no watermark: a late trade
is archived too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ..config import JobConfig
from ..dead_letters import streaming_query_id, write_dlq
from ..parse import parse_trades
from ..quality import DataQualityChecker
from ..schemas import RAW_TRADES, TABLES_BY_NAME
from ..writers import conform, merge_into_iceberg

JOB = "raw-archiver"
PRECISION_SLACK_US = 1000
"""How far beyond its trades' times a MERGE into raw_trades looks for copies: one millisecond. A trade written
once with millisecond times (a load, ingest in ms) and once with microseconds (the other) has two times up to
999 µs apart; without the slack the second writer's MERGE would not read the first copy and would insert it again."""


def raw_trade_rows(valid: DataFrame, archived_at: datetime | None = None) -> DataFrame:
    """Valid ``parse_trades`` rows -> schemas.RAW_TRADES rows.

    ``archived_at`` fixes the archive time (replays; give it a time zone); by default it is the processing
    time of the micro-batch.
    """
    archived = F.current_timestamp() if archived_at is None else F.lit(archived_at)
    return conform(
        valid.select(
            "*",
            F.col("sequence_number").alias("kinesis_sequence_number"),
            archived.alias("archived_at"),
        ),
        RAW_TRADES,
    )


def merge_raw_trades(rows: DataFrame, table: str) -> None:
    """raw_trades rows MERGEd on ``event_id`` into ``table``, the time range widened by ``PRECISION_SLACK_US``:
    the one MERGE of both writers, this job's micro-batches and historical-loader's commits (batch/lake.py)."""
    merge_into_iceberg(rows, TABLES_BY_NAME["raw_trades"], table, slack_us=PRECISION_SLACK_US)


def archive_batch(
    batch: DataFrame,
    batch_id: int,
    *,
    config: JobConfig,
    checker: DataQualityChecker,
    clock: Callable[[], datetime],
) -> None:
    """One micro-batch of raw records: the valid trades MERGEd into ``raw_trades``, the failures written to the
    dead-letter queue (``failed_at`` from ``clock``), then the quality metrics published."""
    parsed = parse_trades(batch)
    with checker.validated(parsed, publish=False) as (valid, invalid, metrics):
        merge_raw_trades(raw_trade_rows(valid), config.table("raw_trades"))
        if metrics["RecordsFailed"] > 0:
            write_dlq(invalid, config.raw_root, config.job, batch_id, clock(), query_id=streaming_query_id(batch))
        # Published once the batch is written: a batch that fails here is replayed and counted once.
        checker.publish_metrics(metrics)
