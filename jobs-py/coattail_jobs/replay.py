"""Replay (backtesting): one job's streaming logic over a recording of unified trades, written as NDJSON.

``python -m coattail_jobs replay <job> --input trades.jsonl --out DIR [--set NAME=VALUE ...] [--json]``

The recording runs through the live pipeline as a bounded stream: a file stream (``sources.file_source``)
-> ``parse_trades`` -> the data-quality checks (valid rows by the checks' own conditions; dead letters
through ``foreachBatch`` and ``DataQualityChecker.validate``) -> the job's transform, built by the same
factories the live jobs use -> one NDJSON file per output in DIR. Each output is deduplicated on its
table's natural key (``writers.NATURAL_KEYS``, what the live Iceberg MERGE does) and sorted by time, then
key, so two runs of the same recording write identical files.

Micro-batches. Only the batch boundaries decide which trades are late: Spark moves the watermark between
micro-batches, never inside one. Live, a micro-batch holds what arrived in one trigger interval. So the
recording (in its line order, which is arrival order) is cut into slots of ``config.trigger`` by each
line's ``ingested_at``; a slot becomes a micro-batch of its own only when one of its trades is at or
behind the watermark that the trades before it set (the newest trade time seen minus ``watermark``).
Otherwise it joins the current micro-batch: none of its trades can be late there, and apart from lateness
the outputs do not depend on where batches end (windows are emitted once, deduplication spans batches,
and the anomaly detector orders windows itself). That estimate counts every trade, also those the quality
checks or the job's filter later drop, so it can only overestimate the watermark: it may cut where no
cut was needed, never merge where live would have dropped a trade. A clean recording is one micro-batch.

End of input. A streaming window is emitted only once the watermark passes its end, and a bounded
input never moves the watermark past its last windows. After the recording, one synthetic trade, far in
the future on the private symbol and exchange ``replay-flush``, enters the trades stream in a micro-batch
of its own (a second file stream, unioned after the quality step: it must not be dead-lettered nor
counted). Its batch moves the watermark past every real window, and the no-data micro-batch Spark runs
next emits them all; ``processAllAvailable`` waits for that batch too. Every output drops the synthetic
symbol, and the synthetic trade's own window is never emitted (the watermark stays behind it).

volume-anomaly runs two queries, as live (``applyInPandasWithState`` cannot follow a streaming
aggregation): the aggregates first, then the stateful ``detect_anomalies`` as a stream over them.

The replay clock: ``detected_at``, ``archived_at`` and the quality checks' processing time are the
newest ``ingested_at`` of the recording (its newest trade time when it has none), not the wall clock, so
reruns agree. ``timeliness_recent`` (a WARN check: it never dead-letters a trade) is judged against it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.streaming.query import StreamingQuery
from pyspark.sql.streaming.readwriter import DataStreamWriter
from pyspark.sql.types import LongType, StructField, StructType, TimestampType

from .config import ConfigError, JobConfig, interval_micros
from .jobs.catalog import JOBS_BY_NAME, RECORDS, REPLAY_JOBS, TRADES, Job, Query, names
from .jobs.raw_archiver import raw_trade_rows
from .parse import MALFORMED_COL, RECORD_COL, parse_trades, to_trades
from .quality import CHECKS_FAILED_COL, PROCESSING_TIME_COL, REASON_COL, DataQualityChecker, default_checker
from .schemas import ALERT, ANOMALY_ALERT, DLQ_RECORD, RAW_TRADES, SPREAD_RECORD, VOLUME_AGGREGATE, WHALE_ALERT
from .sources import file_source
from .watermark import dropped_by_batch
from .writers import NATURAL_KEYS

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

ROWS_PER_FETCH = 100_000
"""Rows of an output the driver holds at once while writing its file."""
_BATCH_COL = "_replay_batch"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNREADABLE = -(2**63)
"""The planner's trade time for a timestamp it cannot read: before any real one, so never the newest."""


class ReplayUsageError(ConfigError):
    """A bad job name: reported as one line, exit status 2."""


# ---------------------------------------------------------------- outputs


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


# ---------------------------------------------------------------- the job and its settings


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


# ---------------------------------------------------------------- micro-batches


def iso_micros(text: object) -> int | None:
    """ISO-8601 with a zone -> epoch microseconds; None when absent or unreadable (no zone included)."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return (parsed - _EPOCH) // timedelta(microseconds=1)


@dataclass
class Slot:
    """Consecutive recording lines that arrived within one trigger interval."""

    lines: list[bytes]
    starts_batch: bool


@dataclass
class BatchPlanner:
    """Cuts a recording into micro-batches (see the module doc); counts what it saw.

    ``watermark_us`` None: the job has no watermark, so nothing is late and the recording is one batch.
    """

    trigger_us: int
    watermark_us: int | None
    records: int = 0
    batches: int = 0
    newest_arrival_us: int | None = None
    newest_trade_us: int | None = None

    def slots(self, lines: Iterable[bytes]) -> Iterator[Slot]:
        slot: list[bytes] = []
        slot_times: list[int | None] = []
        slot_index: int | None = None
        for raw in lines:
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue  # a blank line is no record
            self.records += 1
            arrival, trade_time = self._times(line)
            index = None if arrival is None else arrival // self.trigger_us
            if index is not None and slot_index is not None and index > slot_index and slot:
                yield self._close(slot, slot_times)
                slot, slot_times = [], []
            if index is not None and (slot_index is None or index > slot_index):
                slot_index = index  # a line that arrived "earlier" than its predecessor stays in their slot
            slot.append(line)
            slot_times.append(trade_time)
            if arrival is not None:
                self.newest_arrival_us = max(arrival, self.newest_arrival_us or arrival)
        if slot:
            yield self._close(slot, slot_times)

    @property
    def clock(self) -> datetime:
        """The replay clock: the newest arrival, else the newest trade time, else the epoch."""
        newest = self.newest_arrival_us if self.newest_arrival_us is not None else self.newest_trade_us
        return _EPOCH + timedelta(microseconds=newest or 0)

    def _times(self, line: bytes) -> tuple[int | None, int | None]:
        """(arrival, trade time) in epoch microseconds; the trade time ``_UNREADABLE`` when present but unread."""
        try:
            record = json.loads(line)
        except ValueError:
            return None, None  # malformed: it never reaches a watermark
        if not isinstance(record, dict):
            return None, None
        timestamp = record.get("timestamp")
        trade_time = iso_micros(timestamp)
        if trade_time is None and timestamp is not None:
            trade_time = _UNREADABLE  # treated as possibly late, which only costs a cut
        return iso_micros(record.get("ingested_at")), trade_time

    def _close(self, lines: list[bytes], times: list[int | None]) -> Slot:
        starts_batch = self.batches == 0
        if not starts_batch and self.watermark_us is not None and self.newest_trade_us is not None:
            watermark = self.newest_trade_us - self.watermark_us
            starts_batch = any(t is not None and t <= watermark for t in times)
        if starts_batch:
            self.batches += 1
        readable = [t for t in times if t is not None and t != _UNREADABLE]
        if self.newest_trade_us is not None:
            readable.append(self.newest_trade_us)
        if readable:
            self.newest_trade_us = max(readable)
        return Slot(lines, starts_batch)


# ---------------------------------------------------------------- the quality step on a stream


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


# ---------------------------------------------------------------- the run


@dataclass
class ReplaySummary:
    job: str
    input: str
    out: str
    as_of: str
    settings: dict[str, object]
    records: int
    micro_batches: int
    passed: int
    dead_lettered: int
    malformed: int
    late_dropped: int
    watermark: str | None
    outputs: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """For people, on stderr: what ran, then one line per file written."""
        late = (
            f"{_count(self.late_dropped, 'late row')} dropped behind the {self.watermark} watermark, as live would"
            if self.watermark is not None
            else "no watermark: late trades are archived too"
        )
        head = (
            f"replay {self.job}: {_count(self.records, 'record')} in {_count(self.micro_batches, 'micro-batch')} "
            f"as of {self.as_of}; {self.passed} passed the quality checks, {self.dead_lettered} to the dead-letter "
            f"queue ({self.malformed} malformed); {late}"
        )
        files = [
            f"replay {self.job}: {_count(n, 'row')} in {Path(self.out) / name}" for name, n in self.outputs.items()
        ]
        return [head, *files]

    def as_json(self) -> str:
        return json.dumps(
            {
                "job": self.job,
                "input": self.input,
                "out": self.out,
                "as_of": self.as_of,
                "settings": self.settings,
                "records": self.records,
                "micro_batches": self.micro_batches,
                "passed": self.passed,
                "dead_lettered": self.dead_lettered,
                "malformed": self.malformed,
                "late_dropped": self.late_dropped,
                "watermark": self.watermark,
                "outputs": self.outputs,
            }
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}es" if noun.endswith("batch") else f"{n} {noun}s"


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
            as_of=format_timestamp(_micros(as_of)),
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
        staged = rows.select(*output.staged_schema.names).withColumn(_BATCH_COL, F.lit(batch_id).cast("long"))
        staged.write.mode("append").parquet(str(self.staging / output.name))

    def _staged(self, output: Output) -> DataFrame:
        schema = StructType([*output.staged_schema.fields, StructField(_BATCH_COL, LongType(), True)])
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


# ---------------------------------------------------------------- rows and files


def first_per_key(rows: DataFrame, keys: Iterable[str]) -> DataFrame:
    """One row per natural key, the earliest micro-batch's (what a MERGE inserting only new keys keeps).

    Within a batch the live MERGE keeps any one; here the smallest row does, so reruns agree.
    """
    keys = list(keys)
    if not keys:
        return rows
    # The staged micro-batch first, then every other column.
    tie_break = sorted((c for c in rows.columns if c not in keys), key=lambda c: c != _BATCH_COL)
    first = Window.partitionBy(*keys).orderBy(*[F.col(c).asc_nulls_first() for c in tie_break])
    return (
        rows.withColumn("_replay_rank", F.row_number().over(first))
        .where(F.col("_replay_rank") == 1)
        .drop("_replay_rank")
    )


def format_timestamp(micros: int) -> str:
    """Epoch microseconds -> ISO-8601 UTC with Z: milliseconds, or microseconds where there are any."""
    moment = _EPOCH + timedelta(microseconds=micros)
    fraction = f"{moment.microsecond:06d}" if micros % 1000 else f"{moment.microsecond // 1000:03d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + fraction + "Z"


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


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


def _write_atomically(path: Path, text: str) -> None:
    staging = path.with_name(f"_{path.name}")  # file sources skip names starting with "_"
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)


# ---------------------------------------------------------------- command line

_EXAMPLES = """examples:
  python -m coattail_jobs replay whale-detector --input trades.jsonl --out backtest/
  python -m coattail_jobs replay whale-detector --input trades.jsonl --out backtest-250k/ --set threshold=250000
  python -m coattail_jobs replay volume-anomaly --input day.jsonl --out va/ --set threshold=3.0 --set min_periods=20
  python -m coattail_jobs replay spread-calculator --input day.jsonl --out spreads/ --json | jq .outputs

settings (--set NAME=VALUE, repeatable): threshold (the job's: whale_threshold, anomaly_threshold or
spread_threshold_pct), min_periods (volume-anomaly), watermark ('2 minutes'), symbols (BTC-USDT,ETH-USDT),
trigger (the arrival-time slot of one micro-batch, '5 seconds')."""


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", metavar="JOB", help=f"the job to replay: {', '.join(names(REPLAY_JOBS))}")
    parser.add_argument("--input", required=True, type=Path, help="recorded unified trades, one JSON object a line")
    parser.add_argument(
        "--out", required=True, type=Path, help="folder for the NDJSON outputs (created; files replaced)"
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a job setting, e.g. threshold=3.0 (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="also print the summary as one JSON object on stdout")


def add_replay_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``replay`` to a command's subparsers; ``run_replay_from_args`` runs the parsed arguments."""
    parser = subparsers.add_parser(
        "replay",
        help="run one job's streaming logic over recorded trades (backtest), outputs as NDJSON",
        description=__doc__.split("\n\n", 2)[0] if __doc__ else None,
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    parser.set_defaults(handler=run_replay_from_args)
    return parser


# Spark's start-up chatter (log level hints, native-library and host warnings) would bury the summary on
# stderr; errors still show. (PySpark counts as a shell: giving its gateway's logger a level keeps
# Spark from lowering the root level to WARN and announcing it.)
_LOG4J2 = """status = error
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
"""


def replay_session() -> SparkSession:
    """A local SparkSession for one replay: no Iceberg, no Kinesis, nothing to resolve from Maven."""
    # Python workers (the anomaly detector's applyInPandasWithState) must run this interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    log4j2 = Path(tempfile.gettempdir()) / f"coattail-replay-log4j2-{os.getuid()}.properties"  # one per user
    if not log4j2.exists() or log4j2.read_text(encoding="utf-8") != _LOG4J2:
        # A uniquely named draft, renamed: replays starting together never read half a file.
        fd, draft = tempfile.mkstemp(dir=log4j2.parent, prefix=".coattail-replay-log4j2-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(_LOG4J2)
        os.replace(draft, log4j2)
    builder = SparkSession.builder.appName("coattail-replay")
    conf = {
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log4j2.as_uri()}",
        "spark.master": os.environ.get("COATTAIL_SPARK_MASTER") or "local[*]",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": os.environ.get("COATTAIL_SHUFFLE_PARTITIONS") or "4",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _usage_error(message: str) -> int:
    print(f"replay: {message}", file=sys.stderr)
    return 2


def run_replay_from_args(args: argparse.Namespace) -> int:
    """Run a replay from parsed ``replay`` arguments; 0 when done, 2 (one line on stderr) for bad usage."""
    try:
        config = replay_config(args.job, args.settings)
    except ConfigError as err:
        return _usage_error(str(err))
    input_path, out_dir = Path(args.input).resolve(), Path(args.out).resolve()
    if not input_path.is_file():
        return _usage_error(f"--input {args.input}: no such file: pass a recording of unified trades (NDJSON)")
    if not os.access(input_path, os.R_OK):
        return _usage_error(f"--input {args.input}: not readable: check its permissions")
    if out_dir.exists() and not out_dir.is_dir():
        return _usage_error(f"--out {args.out}: is a file, not a folder: pass a folder for the outputs")
    active = SparkSession.getActiveSession()
    spark = active if active is not None else replay_session()
    try:
        summary = run_replay(spark, config, input_path, out_dir)
    finally:
        if active is None:
            spark.stop()
    for line in summary.lines():
        print(line, file=sys.stderr)
    if args.json:
        print(summary.as_json())
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m coattail_jobs.replay``: the same command as ``python -m coattail_jobs replay``."""
    parser = argparse.ArgumentParser(
        prog="python -m coattail_jobs.replay",
        description=__doc__.split("\n\n", 2)[0] if __doc__ else None,
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    return run_replay_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
