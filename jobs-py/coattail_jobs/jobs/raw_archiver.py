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
        merge_into_iceberg(raw_trade_rows(valid), TABLES_BY_NAME["raw_trades"], config.table("raw_trades"))
        if metrics["RecordsFailed"] > 0:
            write_dlq(invalid, config.raw_root, config.job, batch_id, clock(), query_id=streaming_query_id(batch))
        # Published once the batch is written: a batch that fails here is replayed and counted once.
        checker.publish_metrics(metrics)
