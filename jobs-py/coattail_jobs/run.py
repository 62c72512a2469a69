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

from .alerts import alert_to_dynamo_item, anomaly_alerts_to_alerts, spread_alerts_to_alerts, whale_alerts_to_alerts
from .config import JobConfig, interval_micros
from .jobs.raw_archiver import archive_batch
from .jobs.spread_calculator import spread_records
from .jobs.volume_anomaly import detect_anomalies, volume_aggregates
from .jobs.whale_detector import whale_trades
from .metrics import MetricsSink, metrics_sink_for
from .parse import parse_trades, to_trades
from .quality import DataQualityChecker, default_checker
from .schemas import RAW_KINESIS_RECORD, TABLES, TABLES_BY_NAME
from .watermark import WatermarkDrops
from .writers import ensure_tables, merge_into_iceberg, put_alerts

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

log = logging.getLogger(__name__)

STREAMING_JOBS = ("raw-archiver", "volume-anomaly", "whale-detector", "spread-calculator")
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
        job = self.config.job
        if job == "raw-archiver":
            return [self._query(raw, self._archive, "raw")]
        trades = to_trades(parse_trades(raw).filter(self.checker.passes()))
        if job == "whale-detector":
            # Two queries over the same trades, each with its own checkpoint: the alerts to DynamoDB on the
            # job's trigger, and the Iceberg history (whale_trades, alerts) on history_trigger. A whale then
            # waits for no table commit, of its own batch or an earlier one; both sinks stay idempotent.
            whales = trades.transform(whale_trades(self.config))
            history_trigger = self.config.history_trigger or self.config.trigger
            return [
                self._query(whales, self._whale_alerts, "whales"),
                self._query(whales, self._whale_history, "history", trigger=history_trigger),
            ]
        if job == "spread-calculator":
            return [self._query(trades.transform(spread_records(self.config)), self._spreads, "spreads")]
        if job == "volume-anomaly":
            # applyInPandasWithState cannot follow a streaming aggregation in one query: the windows go to
            # Iceberg, and a second query reads them back as a stream for the rolling baseline.
            aggregates = self._query(trades.transform(volume_aggregates(self.config)), self._aggregates, "aggregates")
            windows = self.spark.readStream.format("iceberg").load(self.config.table("volume_aggregates"))
            anomalies = self._query(windows.transform(detect_anomalies(self.config)), self._anomalies, "anomalies")
            return [aggregates, anomalies]
        raise ValueError(f"unknown streaming job {job!r}: one of {', '.join(STREAMING_JOBS)}")

    def warm_up(self) -> WarmUp | None:
        """whale-detector only: runs its whole write path once, before the stream starts, on one synthetic
        whale trade, into throwaway tables of a scratch namespace (``<database>_warmup``, dropped after).

        The first micro-batches with data are the slowest of a run by far (in ``coattail demo``: 20 s for the
        first whale's batch, 5-10 s for the next few, 2-3 s once warm): the JVM loads and compiles the
        parse, the filter, the alert conversion and the Iceberg MERGE and write path on first use, and the
        whales that arrive meanwhile wait. Doing it here moves that cost to start-up; the DynamoDB client
        is created too. Nothing reaches the job's tables, its checkpoint or DynamoDB (the alert items are
        built, not put). Returns how long it took and the rows the scratch tables held, or None for the
        other jobs (their alerts wait for a window and the watermark anyway).
        """
        if self.config.job != "whale-detector":
            return None
        started = time.monotonic()
        # The client, not a request: botocore loads its service model on first use, seconds on a busy machine.
        self._dynamodb = self.dynamodb
        scratch = f"{self.config.table_prefix}_warmup"
        specs = [TABLES_BY_NAME["whale_trades"], TABLES_BY_NAME["alerts"]]
        ensure_tables(self.spark, specs, lambda name: f"{scratch}.{name}")
        try:
            raw = self.spark.createDataFrame([_warm_up_record(self.config)], RAW_KINESIS_RECORD)
            trades = to_trades(parse_trades(raw).filter(self.checker.passes()))
            whales = trades.transform(whale_trades(self.config)).persist()
            try:
                alerts = whale_alerts_to_alerts(whales)
                # The alerts query's path, but the put: the items are built and not sent.
                items = [alert_to_dynamo_item(row.asDict()) for row in alerts.collect()]
                if len(items) != 1:  # e.g. a quality rule of this config refused it: half a warm-up
                    log.warning("warm-up: the synthetic whale gave %d alerts, not 1", len(items))
                # The history query's path, into the scratch tables.
                merge_into_iceberg(whales, TABLES_BY_NAME["whale_trades"], f"{scratch}.whale_trades")
                merge_into_iceberg(alerts, TABLES_BY_NAME["alerts"], f"{scratch}.alerts")
                rows = {spec.name: self.spark.table(f"{scratch}.{spec.name}").count() for spec in specs}
            finally:
                whales.unpersist()
        finally:
            for spec in specs:
                self.spark.sql(f"DROP TABLE IF EXISTS {scratch}.{spec.name} PURGE")
            self.spark.sql(f"DROP NAMESPACE IF EXISTS {scratch}")
        took = time.monotonic() - started
        log.info("%s warmed up in %.1f s (its write path, on a synthetic whale, in %s)", self.config.job, took, scratch)
        return WarmUp(seconds=took, rows=rows)

    def _query(self, df: DataFrame, sink: BatchSink, name: str, trigger: str | None = None) -> StreamingQuery:
        writer = (
            df.writeStream.queryName(f"{self.config.job}-{name}".replace("-", "_"))
            .foreachBatch(sink)
            .option("checkpointLocation", self.config.checkpoint(name))
            .outputMode("append")
        )
        query = writer.trigger(processingTime=trigger or self.config.trigger).start()
        self.queries.append(query)
        return query

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
        triggers = [self.config.trigger, self.config.history_trigger or self.config.trigger]
        try:
            fastest_s = min(interval_micros(t) for t in triggers) / 1e6
        except ValueError:  # a trigger Spark reads and this does not: report at every chance
            return 0.0
        return min(30.0, 50 * fastest_s)

    # ------------------------------------------------------------------ sinks (one micro-batch each)

    def _archive(self, batch: DataFrame, batch_id: int) -> None:
        archive_batch(batch, batch_id, config=self.config, checker=self.checker, clock=self._clock)

    def _whale_alerts(self, batch: DataFrame, batch_id: int) -> None:
        self._put(whale_alerts_to_alerts(batch), batch_id)  # the history query writes the tables

    def _whale_history(self, batch: DataFrame, _batch_id: int) -> None:
        batch.persist()
        try:
            # A batch without a whale writes nothing (merge_into_iceberg commits no empty snapshot).
            merge_into_iceberg(batch, TABLES_BY_NAME["whale_trades"], self.config.table("whale_trades"))
            merge_into_iceberg(whale_alerts_to_alerts(batch), TABLES_BY_NAME["alerts"], self.config.table("alerts"))
        finally:
            batch.unpersist()

    def _spreads(self, batch: DataFrame, batch_id: int) -> None:
        batch.persist()
        try:
            alerts = self._notify(spread_alerts_to_alerts(batch), batch_id)
            merge_into_iceberg(batch, TABLES_BY_NAME["spreads"], self.config.table("spreads"))  # every window
            if alerts is not None:
                try:
                    merge_into_iceberg(alerts, TABLES_BY_NAME["alerts"], self.config.table("alerts"))
                finally:
                    alerts.unpersist()
        finally:
            batch.unpersist()

    def _aggregates(self, batch: DataFrame, _batch_id: int) -> None:
        merge_into_iceberg(batch, TABLES_BY_NAME["volume_aggregates"], self.config.table("volume_aggregates"))

    def _anomalies(self, batch: DataFrame, batch_id: int) -> None:
        batch.persist()
        try:
            alerts = self._notify(anomaly_alerts_to_alerts(batch), batch_id)
            if alerts is None:
                return  # the detector emits rows only for anomalies
            try:
                merge_into_iceberg(batch, TABLES_BY_NAME["anomalies"], self.config.table("anomalies"))
                merge_into_iceberg(alerts, TABLES_BY_NAME["alerts"], self.config.table("alerts"))
            finally:
                alerts.unpersist()
        finally:
            batch.unpersist()

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
