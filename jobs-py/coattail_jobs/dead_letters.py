"""The dead-letter queue: the rows ``DataQualityChecker.validate`` refused, as JSON lines in the raw zone.

``{raw_root}/dlq/{reason}/dt={day}/job={job}/query_id={query id}/batch_id={batch id}/part-*.json``: one folder
per micro-batch of one streaming query (see ``write_dlq``), so a replayed batch replaces its own.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from coattail_jobs.parse import RECORD_COL, literal_col
from coattail_jobs.quality import CHECK_NAME, CHECKS_FAILED_COL, REASON_COL

_JOB = re.compile(r"^[A-Za-z0-9_.-]+$")
NO_DAY = "__HIVE_DEFAULT_PARTITION__"
"""The ``dt`` folder of dead letters with no arrival or trade time (Hive's name for a NULL partition)."""
DAY_COLUMNS = ("arrival_time", "trade_time")
"""What files a dead letter by day: when Kinesis received the record, else (no such column) its trade time."""
QUERY_ID_PROPERTY = "sql.streaming.queryId"
"""The local property Spark sets, for the thread running a micro-batch, to the streaming query's id."""
_QUERY_ID = re.compile(r"^[A-Za-z0-9-]+$")
_DAY_COL = "_dlq_day"
_MICROS_PER_DAY = 86_400_000_000


def dlq_dir(raw_root: str, reason: str, day: str) -> str:
    """``{raw_root}/dlq/{reason}/dt={day}``: where one day's dead letters of one reason are."""
    return f"{raw_root.rstrip('/')}/dlq/{reason}/dt={day}"


def dlq_batch_dir(raw_root: str, reason: str, day: str, job: str, query_id: str, batch_id: int) -> str:
    """The folder of one micro-batch's dead letters of one reason and day (see ``write_dlq``)."""
    return f"{dlq_dir(raw_root, reason, day)}/job={job}/query_id={query_id}/batch_id={batch_id}"


def streaming_query_id(batch: DataFrame) -> str:
    """The id of the streaming query running ``batch``; call it inside ``foreachBatch``.

    Spark writes a query's ``id`` into its checkpoint: a restart from the checkpoint keeps it, a new
    checkpoint gets a new one (``runId``, in contrast, is new at every start).
    """
    query_id = batch.sparkSession.sparkContext.getLocalProperty(QUERY_ID_PROPERTY)
    if not query_id:
        raise RuntimeError("streaming_query_id: no streaming query is running this batch (call it in foreachBatch)")
    return query_id


def _day_of(df: DataFrame) -> Column:
    """The UTC date (``yyyy-MM-dd``) of a row's arrival time, else its trade time; NULL without either."""
    times = [literal_col(c) for c in DAY_COLUMNS if c in df.columns]
    if not times:
        raise ValueError(f"write_dlq: the rows have none of {', '.join(DAY_COLUMNS)} to file them by day")
    # Days since the epoch from microseconds: the same date whatever the session's time zone.
    days = F.floor(F.unix_micros(F.coalesce(*times)) / F.lit(_MICROS_PER_DAY)).cast("int")
    return F.date_add(F.lit(date(1970, 1, 1)), days).cast("string")


def write_dlq(
    invalid_df: DataFrame, raw_root: str, job: str, batch_id: int, failed_at: datetime, *, query_id: str
) -> list[str]:
    """Write ``validate``'s invalid rows as JSON lines in the ``schemas.DLQ_RECORD`` shape; returns the dirs.

    Each reason's rows go to ``{raw_root}/dlq/{reason}/dt={day}/job={job}/query_id={query_id}/batch_id={id}/``,
    that last folder overwritten: it belongs to one micro-batch of one streaming query.
    - ``day`` is the UTC date the record arrived in Kinesis (``arrival_time``), else its trade time (rows
      with neither: ``dt=__HIVE_DEFAULT_PARTITION__``). Taken from the record, not the clock, it is the
      same when a batch is replayed after midnight, so the replay replaces its dead letters.
    - ``query_id`` is the streaming query's id (``streaming_query_id``), which the checkpoint keeps: a
      replay after a restart rewrites its own folder, while a new checkpoint, whose batch ids start at 0
      again, writes beside the earlier runs' folders instead of over them.
    ``failed_at`` is when the checks ran (the last run's time, for a replayed batch). Timestamps are written
    as ISO-8601 UTC with microseconds.
    """
    if failed_at.tzinfo is None:
        raise ValueError("write_dlq: failed_at must be an aware datetime")
    if not _JOB.match(job):
        raise ValueError(f"write_dlq: job {job!r} cannot name a folder")
    if not _QUERY_ID.match(query_id):
        raise ValueError(f"write_dlq: query id {query_id!r} cannot name a folder")
    failed_at_utc = failed_at.astimezone(UTC)
    letters = invalid_df.select(
        F.col(REASON_COL).cast("string").alias("reason"),
        F.col(CHECKS_FAILED_COL).cast("array<string>").alias("checks_failed"),
        F.col(RECORD_COL).cast("string").alias("record"),
        F.lit(job).alias("job"),
        F.lit(query_id).alias("query_id"),
        F.lit(batch_id).cast("long").alias("batch_id"),
        F.lit(failed_at_utc).alias("failed_at"),
        _day_of(invalid_df).alias(_DAY_COL),
    )
    groups: list[tuple[str, str | None]] = sorted(
        ((row["reason"], row[_DAY_COL]) for row in letters.select("reason", _DAY_COL).distinct().collect()),
        key=lambda group: (group[0] or "", group[1] or ""),
    )
    for reason, _day in groups:
        if reason is None or not CHECK_NAME.match(reason):
            raise ValueError(f"write_dlq: reason {reason!r} cannot name a folder")
    written = []
    for reason, day in groups:
        path = dlq_batch_dir(raw_root, reason, day or NO_DAY, job, query_id, batch_id)
        (
            letters.filter((F.col("reason") == reason) & F.col(_DAY_COL).eqNullSafe(F.lit(day)))
            .drop(_DAY_COL)
            .coalesce(1)  # a batch's dead letters are few: one file per reason and day
            .write.mode("overwrite")
            .option("timestampFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")
            .option("timeZone", "UTC")
            .option("ignoreNullFields", "false")
            .json(path)
        )
        written.append(path)
    return written
