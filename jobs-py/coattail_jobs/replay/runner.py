"""One replay: the recording through the live path as a bounded stream, the outputs staged, then written.

See the package doc for the micro-batches, the end-of-input trade and the replay clock.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming.query import StreamingQuery
from pyspark.sql.streaming.readwriter import DataStreamWriter
from pyspark.sql.types import LongType, StructField, StructType

from ..config import ConfigError, JobConfig, interval_micros
from ..jobs.catalog import JOBS_BY_NAME, RECORDS, REPLAY_JOBS, TRADES, Job, Query, names
from ..jobs.raw_archiver import raw_trade_rows
from ..parse import MALFORMED_COL, RECORD_COL, parse_trades, to_trades
from ..quality import CHECKS_FAILED_COL, PROCESSING_TIME_COL, REASON_COL, DataQualityChecker, default_checker
from ..sources import file_source
from ..watermark import dropped_by_batch
from .outputs import (
    ALERTS_OUT,
    BATCH_COL,
    DLQ_OUT,
    TABLE_OUTPUTS,
    Output,
    first_per_key,
    format_timestamp,
    micros,
    outputs_of,
    write_ndjson,
)
from .planner import BatchPlanner
from .summary import ReplaySummary

FLUSH_SYMBOL = "replay-flush"
"""Symbol and exchange of the end-of-input trade: lower case, so no configurable symbol can equal it."""
FLUSH_TRADE = json.dumps(
    {
        "schema_version": 1,
        "event_id": f"{FLUSH_SYMBOL}:{FLUSH_SYMBOL}:0",
        "exchange": FLUSH_SYMBOL,
        "symbol": FLUSH_SYMBOL,
        "trade_id": "0",
        "price": 1.0,
        "quantity": 1.0,
        "quote_volume": 1.0,
        "side": "buy",
        "timestamp": "9000-01-01T00:00:00.000Z",
        "ingested_at": "9000-01-01T00:00:00.000Z",
    }
)


class ReplayUsageError(ConfigError):
    """A bad job name: reported as one line, exit status 2."""


def replay_job(name: str) -> Job:
    """The catalogue's job called ``name``, if replay runs it; ReplayUsageError otherwise."""
    job = JOBS_BY_NAME.get(name)
    if job is None or not job.replay:
        raise ReplayUsageError(f"unknown job {name!r}: replay runs {', '.join(names(REPLAY_JOBS))}")
    return job


def replay_config(job: str, assignments: Iterable[str], base: JobConfig | None = None) -> JobConfig:
    """The job's JobConfig (``base``, or the defaults) with ``NAME=VALUE`` settings applied (later ones win);
    ConfigError if bad."""
    return replay_job(job).configure(list(assignments), base)


def valid_rows(parsed: DataFrame, checker: DataQualityChecker, processing_time: datetime) -> DataFrame:
    """The ``parse_trades`` rows ``checker.validate`` keeps, as a filter that also works on a stream.

    ``validate`` runs on batches only (it counts and caches). Its valid rows are those not malformed and
    passing every ERROR check, a NULL result failing; this is that condition over the same Columns.
    """
    passes = ~F.coalesce(F.col(MALFORMED_COL), F.lit(False))
    for check in checker.checks:
        if check.severity == "ERROR":
            passes = passes & F.coalesce(check.condition, F.lit(False))
    # A check may read the processing time (quality.processing_time()): give it the replay clock.
    return parsed.withColumn(PROCESSING_TIME_COL, F.lit(processing_time)).where(passes).drop(PROCESSING_TIME_COL)


class _QualityTotals:
    """A MetricsSink that sums the per-batch counts the summary reports."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}

    def publish(self, namespace: str, metrics: Mapping[str, float], dimensions: Mapping[str, str]) -> None:
        for name in ("RecordsProcessed", "RecordsPassed", "RecordsFailed", "malformed"):
            self.totals[name] = self.totals.get(name, 0.0) + metrics.get(name, 0.0)


def run_replay(spark: SparkSession, config: JobConfig, input_path: Path, out_dir: Path) -> ReplaySummary:
    """Replay ``input_path`` through ``config.job`` and write its NDJSON files into ``out_dir`` (created)."""
    replay_job(config.job)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="coattail-replay-") as work:
        return _Replay(spark, config, Path(work)).run(input_path, out_dir)


class _Replay:
    def __init__(self, spark: SparkSession, config: JobConfig, work: Path) -> None:
        self.spark = spark
        self.config = config
        self.job = replay_job(config.job)
        self.work = work
        self.source = work / "source"
        self.flush = work / "flush"
        self.staging = work / "staging"
        for folder in (self.source, self.flush, work / "pending"):
            folder.mkdir()
        self.watermarked = self.job.watermarked
        self.totals = _QualityTotals()
        self.late_by_batch: dict[int, int] = {}

    def run(self, input_path: Path, out_dir: Path) -> ReplaySummary:
        planner = BatchPlanner(
            interval_micros(self.config.trigger),
            interval_micros(self.config.watermark) if self.watermarked else None,
        )
        batches = self._plan(planner, input_path)
        as_of = planner.clock
        checker = default_checker(self.spark, self.config, metrics_sink=self.totals, clock=lambda: as_of)
        queries: list[StreamingQuery] = []
        try:
            quality = self._quality_query(checker, as_of)
            queries.append(quality)
            trades_query = next((q for q in self.job.queries if q.reads == TRADES), None)
            main = None if trades_query is None else self._main_query(trades_query, checker, as_of)
            if main is not None:
                queries.append(main)
            for batch in batches:
                os.replace(batch, self.source / batch.name)  # a rename: the source never sees half a file
                for query in queries:
                    query.processAllAvailable()
                    self._record_progress(query, main)
            if main is not None:
                _write_atomically(self.flush / "flush.jsonl", FLUSH_TRADE + "\n")
                main.processAllAvailable()
                self._record_progress(main, main)
        finally:
            for query in queries:
                query.stop()
        for table_query in self.job.queries:
            if not table_query.reads_kinesis:
                self._table_query(table_query, as_of)
        outputs = self._write_outputs(out_dir, as_of)
        totals = self.totals.totals
        return ReplaySummary(
            job=self.job.name,
            input=str(input_path),
            out=str(out_dir),
            as_of=format_timestamp(micros(as_of)),
            settings=self.job.setting_values(self.config),
            records=planner.records,
            micro_batches=len(batches),
            passed=int(totals.get("RecordsPassed", 0)),
            dead_lettered=int(totals.get("RecordsFailed", 0)),
            malformed=int(totals.get("malformed", 0)),
            late_dropped=sum(self.late_by_batch.values()),
            watermark=self.config.watermark if self.watermarked else None,
            outputs=outputs,
        )

    def _plan(self, planner: BatchPlanner, input_path: Path) -> list[Path]:
        """The recording as one file per micro-batch, in order, waiting outside the source folder."""
        batches: list[Path] = []
        handle = None
        try:
            with input_path.open("rb") as recording:
                for slot in planner.slots(recording):
                    if slot.starts_batch or handle is None:
                        if handle is not None:
                            handle.close()
                        batches.append(self.work / "pending" / f"batch-{len(batches):06d}.jsonl")
                        handle = batches[-1].open("wb")
                    handle.write(b"".join(line + b"\n" for line in slot.lines))
        finally:
            if handle is not None:
                handle.close()
        return batches

    def _quality_query(self, checker: DataQualityChecker, as_of: datetime) -> StreamingQuery:
        """Dead letters (and, for the archive, the archived trades) per micro-batch, through ``validate``."""
        archived = [TABLE_OUTPUTS[q.rows] for q in self.job.queries if q.reads == RECORDS]
        archive = archived[0] if archived else None

        def each_batch(parsed: DataFrame, batch_id: int) -> None:
            with checker.validated(parsed) as (valid, invalid, metrics):
                if metrics["RecordsFailed"]:  # most batches have none: skip the write
                    letters = invalid.select(
                        F.col(REASON_COL), F.col(CHECKS_FAILED_COL), F.col(RECORD_COL), F.col("trade_time")
                    )
                    self._stage(DLQ_OUT, letters, batch_id)
                if archive is not None:
                    self._stage(archive, raw_trade_rows(valid, as_of), batch_id)

        parsed = parse_trades(file_source(self.spark, str(self.source)))
        return self._start(parsed.writeStream.foreachBatch(each_batch), "quality")

    def _main_query(self, query: Query, checker: DataQualityChecker, as_of: datetime) -> StreamingQuery:
        """valid trades (then the end-of-input trade) -> the transform of the job's (first) trades query -> its
        rows' output."""
        trades = to_trades(valid_rows(parse_trades(file_source(self.spark, str(self.source))), checker, as_of))
        flush = to_trades(parse_trades(file_source(self.spark, str(self.flush))))
        stream = trades.unionByName(flush)
        assert query.transform is not None  # a trades query has one
        output, transform = TABLE_OUTPUTS[query.rows], query.transform(self.config, as_of)

        def each_batch(rows: DataFrame, batch_id: int) -> None:
            self._stage(output, rows.where(F.col("symbol") != F.lit(FLUSH_SYMBOL)), batch_id)

        return self._start(stream.transform(transform).writeStream.foreachBatch(each_batch), "main")

    def _table_query(self, query: Query, as_of: datetime) -> None:
        """A query over the rows of an earlier one (volume-anomaly's stateful detector over its windows), as a
        stream over what that one staged."""
        source = self.staging / query.reads
        if not source.exists():
            return
        output = TABLE_OUTPUTS[query.rows]

        def each_batch(rows: DataFrame, batch_id: int) -> None:
            self._stage(output, rows, batch_id)

        assert query.transform is not None  # a table query has one
        stream = self.spark.readStream.schema(TABLE_OUTPUTS[query.reads].schema).parquet(str(source))
        writer = stream.transform(query.transform(self.config, as_of)).writeStream.foreachBatch(each_batch)
        started = self._start(writer.trigger(availableNow=True), query.name)
        started.awaitTermination()
        error = started.exception()
        if error is not None:
            raise error

    def _start(self, writer: DataStreamWriter, name: str) -> StreamingQuery:
        return writer.option("checkpointLocation", str(self.work / "checkpoints" / name)).outputMode("append").start()

    def _record_progress(self, query: StreamingQuery, main: StreamingQuery | None) -> None:
        """Keep, per micro-batch of the main query, the rows its stateful operators dropped as late."""
        if query is not main:
            return
        # recentProgress holds the last 100 batches, and this runs after every few, so no batch is missed.
        for batch_id, rows in dropped_by_batch(query.recentProgress).items():
            self.late_by_batch[batch_id] = max(self.late_by_batch.get(batch_id, 0), rows)

    def _stage(self, output: Output, rows: DataFrame, batch_id: int) -> None:
        staged = rows.select(*output.staged_schema.names).withColumn(BATCH_COL, F.lit(batch_id).cast("long"))
        staged.write.mode("append").parquet(str(self.staging / output.name))

    def _staged(self, output: Output) -> DataFrame:
        schema = StructType([*output.staged_schema.fields, StructField(BATCH_COL, LongType(), True)])
        folder = self.staging / output.name
        if not folder.exists():
            return self.spark.createDataFrame([], schema)
        return self.spark.read.schema(schema).parquet(str(folder))

    def _write_outputs(self, out_dir: Path, as_of: datetime) -> dict[str, int]:
        written: dict[str, int] = {}
        finals: dict[str, DataFrame] = {}
        for output in outputs_of(self.job):
            if output is ALERTS_OUT:
                rows = self._alerts(finals, as_of)
            else:
                rows = first_per_key(self._staged(output), output.keys)
            finals[output.name] = rows
            written[output.file] = write_ndjson(rows, output, out_dir / output.file)
        return written

    def _alerts(self, finals: Mapping[str, DataFrame], as_of: datetime) -> DataFrame:
        query = self.job.alerting_query
        assert query is not None and query.alerts is not None  # outputs_of lists alerts only then
        return query.alerts(finals[query.rows], as_of)


def _write_atomically(path: Path, text: str) -> None:
    staging = path.with_name(f"_{path.name}")  # file sources skip names starting with "_"
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)
