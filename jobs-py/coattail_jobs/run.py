"""The thin run of each streaming job: source → parse → quality → the job's transform → sinks.

Each job's logic is a pure transform (``jobs/``); this module only wires it to a source, a checkpoint, a
trigger and its sinks, the same way locally and on EMR. Sinks run in ``foreachBatch``: Iceberg writes
MERGE on natural keys and DynamoDB puts are conditional on the alert id, so a micro-batch replayed after a
crash (restart from the checkpoint) writes nothing twice.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming.query import StreamingQuery

from .alerts import alert_to_dynamo_item
from .config import JobConfig, interval_micros
from .jobs.catalog import RECORDS, TRADES, Query, TransformFactory, streaming_job_named
from .jobs.raw_archiver import archive_batch
from .metrics import MetricsSink, metrics_sink_for
from .parse import parse_trades, to_trades
from .quality import DataQualityChecker, default_checker
from .schemas import RAW_KINESIS_RECORD, TABLES, TABLES_BY_NAME
from .watermark import WatermarkDrops
from .writers import ensure_tables, merge_into_iceberg, put_alerts

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

log = logging.getLogger(__name__)

BatchSink = Callable[[DataFrame, int], None]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def dynamodb_client(config: JobConfig) -> DynamoDBClient:
    """DynamoDB on AWS, or the local store (dynalite) with the credentials it accepts."""
    if config.dynamodb_endpoint:
        return boto3.client(
            "dynamodb",
            endpoint_url=config.dynamodb_endpoint,
            region_name=config.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
    return boto3.client("dynamodb", region_name=config.region)


@dataclass(frozen=True)
class WarmUp:
    seconds: float
    rows: dict[str, int]  # what the scratch tables held before they were dropped


class JobRunner:
    """Starts one job's streaming queries over a raw-record stream (Kinesis, or files in tests and replay)."""

    def __init__(
        self,
        spark: SparkSession,
        config: JobConfig,
        dynamodb: Any | None = None,
        *,
        metrics_sink: MetricsSink | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        """``metrics_sink`` (default: CloudWatch on EMR, the log locally) and ``clock`` (the quality checks'
        processing time and the dead letters' ``failed_at``) are the runner's ties to the outside world."""
        self.spark = spark
        self.config = config
        self.job = streaming_job_named(config.job)
        self._clock = clock
        self.metrics_sink = metrics_sink if metrics_sink is not None else metrics_sink_for(config)
        self.checker: DataQualityChecker = default_checker(spark, config, metrics_sink=self.metrics_sink, clock=clock)
        self.watermark_drops = WatermarkDrops(config.job, config.cloudwatch_namespace, self.metrics_sink)
        self.queries: list[StreamingQuery] = []
        self._dynamodb = dynamodb
        ensure_tables(spark, TABLES, config.table)

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = dynamodb_client(self.config)
        return self._dynamodb

    def start(self, raw: DataFrame) -> list[StreamingQuery]:
        """Starts the job's queries (``jobs.catalog``), in order, over ``raw``; returns them."""
        trades: DataFrame | None = None
        rows: dict[tuple[str, TransformFactory], DataFrame] = {}  # queries with the same rows share their plan
        started = []
        for query in self.job.queries:
            if query.reads == RECORDS:
                started.append(self._query(raw, self._archive, query))
                continue
            if query.reads == TRADES:
                if trades is None:
                    trades = to_trades(parse_trades(raw).filter(self.checker.passes()))
                source = trades
            else:  # a table an earlier query writes, read back as a stream
                source = self.spark.readStream.format("iceberg").load(self.config.table(query.reads))
            assert query.transform is not None  # only the archive reads records without one
            key = (query.reads, query.transform)
            if key not in rows:
                rows[key] = source.transform(query.transform(self.config, None))
            started.append(self._query(rows[key], self._sink(query), query))
        return started

    def warm_up(self) -> WarmUp | None:
        """Runs the job's whole write path once, before the stream starts, on one synthetic whale trade, into
        throwaway tables of a scratch namespace (``<database>_warmup``, dropped after); for the jobs whose
        catalogue entry asks for it (whale-detector), None for the others (their alerts wait for a window and
        the watermark anyway).

        The first micro-batches with data are the slowest of a run by far (in ``coattail demo``: 20 s for the
        first whale's batch, 5-10 s for the next few, 2-3 s once warm): the JVM loads and compiles the
        parse, the filter, the alert conversion and the Iceberg MERGE and write path on first use, and the
        whales that arrive meanwhile wait. Doing it here moves that cost to start-up; the DynamoDB client
        is created too. Nothing reaches the job's tables, its checkpoint or DynamoDB (the alert items are
        built, not put). Returns how long it took and the rows the scratch tables held.
        """
        if not self.job.warm_up:
            return None
        started = time.monotonic()
        # The client, not a request: botocore loads its service model on first use, seconds on a busy machine.
        self._dynamodb = self.dynamodb
        scratch = f"{self.config.table_prefix}_warmup"
        specs = [TABLES_BY_NAME[name] for name in self.job.tables]
        ensure_tables(self.spark, specs, lambda name: f"{scratch}.{name}")
        try:
            raw = self.spark.createDataFrame([_warm_up_record(self.config)], RAW_KINESIS_RECORD)
            trades = to_trades(parse_trades(raw).filter(self.checker.passes()))
            self._warm_up_queries(trades, scratch)
            rows = {spec.name: self.spark.table(f"{scratch}.{spec.name}").count() for spec in specs}
        finally:
            for spec in specs:
                self.spark.sql(f"DROP TABLE IF EXISTS {scratch}.{spec.name} PURGE")
            self.spark.sql(f"DROP NAMESPACE IF EXISTS {scratch}")
        took = time.monotonic() - started
        log.info("%s warmed up in %.1f s (its write path, on a synthetic whale, in %s)", self.config.job, took, scratch)
        return WarmUp(seconds=took, rows=rows)

    def _warm_up_queries(self, trades: DataFrame, scratch: str) -> None:
        """Each trades query's path on the synthetic trade: the alert items built (not put), the MERGEs into
        the scratch tables."""
        transforms = dict.fromkeys(q.transform for q in self.job.queries if q.reads == TRADES and q.transform)
        for transform in transforms:
            rows = trades.transform(transform(self.config, None)).persist()
            try:
                for query in (q for q in self.job.queries if q.reads == TRADES and q.transform is transform):
                    alerts = query.alerts(rows, None) if query.alerts is not None else None
                    if alerts is not None and query.put_alerts:
                        items = [alert_to_dynamo_item(row.asDict()) for row in alerts.collect()]
                        if len(items) != 1:  # e.g. a quality rule of this config refused it: half a warm-up
                            log.warning("warm-up: the synthetic whale gave %d alerts, not 1", len(items))
                    if query.writes_rows:
                        merge_into_iceberg(rows, TABLES_BY_NAME[query.rows], f"{scratch}.{query.rows}")
                    if alerts is not None and query.keeps_alerts:
                        merge_into_iceberg(alerts, TABLES_BY_NAME["alerts"], f"{scratch}.alerts")
            finally:
                rows.unpersist()

    def _query(self, df: DataFrame, sink: BatchSink, query: Query) -> StreamingQuery:
        writer = (
            df.writeStream.queryName(f"{self.config.job}-{query.name}".replace("-", "_"))
            .foreachBatch(sink)
            .option("checkpointLocation", self.config.checkpoint(query.name))
            .outputMode("append")
        )
        started = writer.trigger(processingTime=self._trigger(query)).start()
        self.queries.append(started)
        return started

    def _trigger(self, query: Query) -> str:
        trigger: str | None = getattr(self.config, query.trigger)
        return trigger or self.config.trigger

    def report_watermark_drops(self) -> int:
        """Logs and publishes the rows the job's queries dropped behind their watermark in the micro-batches
        since the last call (``watermark.WatermarkDrops``); returns those rows. Call it at least every
        ``watermark_report_every_s``."""
        return sum(self.watermark_drops.report(query) for query in self.queries)

    @property
    def watermark_report_every_s(self) -> float:
        """How often to call ``report_watermark_drops``. It reads each query's recent progress, which Spark
        keeps for the last 100 triggers and which takes tens of milliseconds to read: every 50 triggers of
        the fastest query, and at least every 30 s."""
        try:
            fastest_s = min(interval_micros(self._trigger(q)) for q in self.job.queries) / 1e6
        except ValueError:  # a trigger Spark reads and this does not: report at every chance
            return 0.0
        return min(30.0, 50 * fastest_s)

    # ------------------------------------------------------------------ sinks (one micro-batch each)

    def _archive(self, batch: DataFrame, batch_id: int) -> None:
        archive_batch(batch, batch_id, config=self.config, checker=self.checker, clock=self._clock)

    def _sink(self, query: Query) -> BatchSink:
        """What one micro-batch of ``query``'s rows goes to, as its catalogue entry says: alerts to DynamoDB
        first, then the rows' table, then Iceberg ``alerts``."""
        table = TABLES_BY_NAME[query.rows]
        convert = query.alerts

        def merge_rows(batch: DataFrame) -> None:
            # A batch without rows writes nothing (merge_into_iceberg commits no empty snapshot).
            merge_into_iceberg(batch, table, self.config.table(table.name))

        def merge_alerts(alerts: DataFrame) -> None:
            merge_into_iceberg(alerts, TABLES_BY_NAME["alerts"], self.config.table("alerts"))

        def rows_only(batch: DataFrame, _batch_id: int) -> None:
            merge_rows(batch)

        def put_only(batch: DataFrame, batch_id: int) -> None:
            assert convert is not None
            self._put(convert(batch, None), batch_id)  # another query writes the tables

        def history(batch: DataFrame, _batch_id: int) -> None:
            assert convert is not None
            batch.persist()
            try:
                merge_rows(batch)
                merge_alerts(convert(batch, None))
            finally:
                batch.unpersist()

        def notify_then_history(batch: DataFrame, batch_id: int) -> None:
            assert convert is not None
            batch.persist()
            try:
                alerts = self._notify(convert(batch, None), batch_id)
                if alerts is None:
                    if not query.rows_are_alerts:
                        merge_rows(batch)
                    return
                try:
                    merge_rows(batch)
                    merge_alerts(alerts)
                finally:
                    alerts.unpersist()
            finally:
                batch.unpersist()

        if convert is None:
            return rows_only
        if not query.keeps_alerts:
            return put_only
        return notify_then_history if query.put_alerts else history

    def _notify(self, alerts: DataFrame, batch_id: int) -> DataFrame | None:
        """DynamoDB first, then the caller writes the Iceberg history: an alert reaches the people watching
        without waiting for two table commits. Both sinks key on the alert id, so whichever write fails, the
        batch is replayed from the checkpoint and nothing is written twice. Returns the persisted alerts (the
        caller unpersists them), or None when the batch raised none."""
        alerts = alerts.persist()
        try:
            if not self._put(alerts, batch_id):
                alerts.unpersist()
                return None
        except BaseException:
            alerts.unpersist()
            raise
        return alerts

    def _put(self, alerts: DataFrame, batch_id: int) -> bool:
        """Puts the batch's alerts to DynamoDB (conditional on the alert id); False when there were none."""
        items = [alert_to_dynamo_item(row.asDict()) for row in alerts.collect()]  # a batch's alerts are few
        if not items:
            return False
        stats = put_alerts(self.dynamodb, self.config.alerts_table, items)
        log.info("batch %d: %d alerts written, %d already there", batch_id, stats.written, stats.already_written)
        return True


def _warm_up_record(config: JobConfig) -> tuple[str, str, str, datetime]:
    """One raw Kinesis record holding a unified trade worth twice the whale threshold, timed now."""
    now = datetime.now(UTC)
    stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    symbol = config.symbols[0] if config.symbols else "BTC-USDT"
    price = 50_000.0
    quantity = 2 * float(config.whale_threshold) / price
    trade = {
        "schema_version": 1,
        "event_id": f"binance:{symbol}:warm-up",
        "exchange": "binance",
        "symbol": symbol,
        "trade_id": "warm-up",
        "price": price,
        "quantity": quantity,
        "quote_volume": price * quantity,
        "side": "buy",
        "timestamp": stamp,
        "ingested_at": stamp,
    }
    return (json.dumps(trade), symbol, "0", now)
