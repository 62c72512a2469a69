"""The thin run of each streaming job: source → parse → quality → the job's transform → sinks.

Each job's logic is a pure transform (``jobs/``); this module only wires it to a source, a checkpoint, a
trigger and its sinks, the same way locally and on EMR. Sinks run in ``foreachBatch``: Iceberg writes
MERGE on natural keys and DynamoDB puts are conditional on the alert id, so a micro-batch replayed after a
crash (restart from the checkpoint) writes nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming.query import StreamingQuery

from .alerts import alert_to_dynamo_item, anomaly_alerts_to_alerts, spread_alerts_to_alerts, whale_alerts_to_alerts
from .config import JobConfig
from .jobs.spread_calculator import spread_records
from .jobs.volume_anomaly import detect_anomalies, volume_aggregates
from .jobs.whale_detector import whale_trades
from .metrics import metrics_sink_for
from .parse import parse_trades, to_trades
from .quality import DataQualityChecker, default_checker, write_dlq
from .schemas import TABLES, TABLES_BY_NAME, TRADE
from .writers import ensure_tables, merge_into_iceberg, put_alerts

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

log = logging.getLogger(__name__)

STREAMING_JOBS = ("raw-archiver", "volume-anomaly", "whale-detector", "spread-calculator")
BatchSink = Callable[[DataFrame, int], None]


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


class JobRunner:
    """Starts one job's streaming queries over a raw-record stream (Kinesis, or files in tests and replay)."""

    def __init__(self, spark: SparkSession, config: JobConfig, dynamodb: Any | None = None) -> None:
        self.spark = spark
        self.config = config
        self.checker: DataQualityChecker = default_checker(spark, config, metrics_sink=metrics_sink_for(config))
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
            return [self._query(trades.transform(whale_trades(self.config)), self._whales, "whales")]
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

    def _query(self, df: DataFrame, sink: BatchSink, name: str) -> StreamingQuery:
        writer = (
            df.writeStream.queryName(f"{self.config.job}-{name}".replace("-", "_"))
            .foreachBatch(sink)
            .option("checkpointLocation", self.config.checkpoint(name))
            .outputMode("append")
        )
        return writer.trigger(processingTime=self.config.trigger).start()

    # ------------------------------------------------------------------ sinks (one micro-batch each)

    def _archive(self, batch: DataFrame, batch_id: int) -> None:
        parsed = parse_trades(batch)
        with self.checker.validated(parsed, publish=False) as (valid, invalid, metrics):
            rows = valid.select(
                *[f.name for f in TRADE.fields],
                "schema_version",
                F.col("sequence_number").alias("kinesis_sequence_number"),
                F.current_timestamp().alias("archived_at"),
            )
            merge_into_iceberg(rows, TABLES_BY_NAME["raw_trades"], self.config.table("raw_trades"))
            if metrics["RecordsFailed"] > 0:
                write_dlq(invalid, self.config.raw_root, self.config.job, batch_id, datetime.now(UTC))
            # Published once the batch is written: a batch that fails here is replayed and counted once.
            self.checker.publish_metrics(metrics)

    def _whales(self, batch: DataFrame, batch_id: int) -> None:
        batch.persist()
        try:
            alerts = self._notify(whale_alerts_to_alerts(batch), batch_id)
            if alerts is None:
                return  # no whale in this micro-batch: nothing to write anywhere
            try:
                merge_into_iceberg(batch, TABLES_BY_NAME["whale_trades"], self.config.table("whale_trades"))
                merge_into_iceberg(alerts, TABLES_BY_NAME["alerts"], self.config.table("alerts"))
            finally:
                alerts.unpersist()
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
        items = [alert_to_dynamo_item(row.asDict()) for row in alerts.collect()]  # a batch's alerts are few
        if not items:
            alerts.unpersist()
            return None
        try:
            stats = put_alerts(self.dynamodb, self.config.alerts_table, items)
        except BaseException:
            alerts.unpersist()
            raise
        log.info("batch %d: %d alerts written, %d already there", batch_id, stats.written, stats.already_written)
        return alerts
