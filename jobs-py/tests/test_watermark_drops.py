"""Late rows made visible: a streaming job fed trades behind its watermark logs and publishes how many it
dropped, per micro-batch, with Spark's own count (CloudWatch stubbed at the boto3 boundary)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from mypy_boto3_cloudwatch.client import CloudWatchClient
from pyspark.sql import SparkSession

from coattail_jobs.config import JobConfig
from coattail_jobs.metrics import CloudWatchMetrics
from coattail_jobs.run import JobRunner
from coattail_jobs.schemas import UNIFIED_TRADE

from .conftest import JobEnv
from .streams import drop_json_file

DAY = datetime(2030, 1, 5, tzinfo=UTC)
QUERY = "spread_calculator_spreads"
DIMENSIONS = [{"Name": "Job", "Value": "spread-calculator"}, {"Name": "Query", "Value": QUERY}]


def _trade(exchange: str, trade_id: int, seconds: int) -> tuple[object, ...]:
    at = DAY + timedelta(seconds=seconds)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        1, f"{exchange}:BTC-USDT:{trade_id}", exchange, "BTC-USDT", str(trade_id), 60_000.0, 1.0, 60_000.0, "buy",
        stamp, stamp,
    )  # fmt: skip


@pytest.fixture
def cloudwatch() -> Iterator[tuple[CloudWatchClient, Stubber]]:
    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub


def _published(rows: float) -> dict[str, Any]:
    datum = {"MetricName": "RecordsDroppedByWatermark", "Dimensions": DIMENSIONS, "Value": rows, "Unit": "Count"}
    return {"Namespace": "CryptoPulse/Quality", "MetricData": [datum]}


def test_rows_behind_the_watermark_are_logged_and_published_per_micro_batch(
    job_env: JobEnv,
    cloudwatch: tuple[CloudWatchClient, Stubber],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, stub = cloudwatch
    # Every price is the same: no spread, so no alert. The 2-minute watermark: 120 s behind the newest trade
    # time seen.
    config = job_env.config("spread-calculator")
    # One file per micro-batch; each batch judges lateness by the watermark the batches before it set.
    batches = [
        # The newest trade, 200 s: the watermark becomes 80 s.
        [_trade("binance", 1, 65), _trade("coinbase", 1, 66), _trade("binance", 2, 200)],
        # 85 s is after 80 s: it counts. 70, 75 and 79 s are before it: 3 rows dropped.
        [_trade("coinbase", 2, 85), _trade("coinbase", 3, 70), _trade("binance", 3, 75), _trade("binance", 4, 79)],
        # 60 s is before 80 s: 1 row dropped (230 s then moves the watermark to 110 s).
        [_trade("binance", 5, 230), _trade("coinbase", 4, 60)],
        # 100 and 105 s are before 110 s: 2 rows dropped; 240 s counts.
        [_trade("coinbase", 5, 100), _trade("binance", 6, 105), _trade("binance", 7, 240)],
    ]
    stub.add_response("put_metric_data", {}, _published(3.0))
    stub.add_client_error("put_metric_data", "InternalFailure", "CloudWatch is having a bad day")
    stub.add_response("put_metric_data", {}, _published(1.0 + 2.0))  # the refused row, then this batch's two

    source = job_env.source
    runner = job_env.runner(config, metrics_sink=CloudWatchMetrics(client, max_attempts=1))
    (query,) = runner.start(job_env.stream())
    reported = []
    try:
        with caplog.at_level(logging.WARNING, logger="coattail_jobs.watermark"):
            for number, batch in enumerate(batches, start=1):
                drop_json_file(source, f"{number}.jsonl", UNIFIED_TRADE, batch)
                query.processAllAvailable()
                reported.append(runner.report_watermark_drops())
            reported.append(runner.report_watermark_drops())  # nothing new: nothing logged or published
        # The micro-batches with data, in order (Spark may run batches without data between them).
        batch_ids = [p["batchId"] for p in query.recentProgress if p["numInputRows"] > 0]
    finally:
        query.stop()

    stub.assert_no_pending_responses()
    assert reported == [0, 3, 1, 2, 0]
    assert len(batch_ids) == len(batches)
    ours = [r for r in caplog.records if r.name == "coattail_jobs.watermark"]
    assert [r.getMessage() for r in ours if r.levelno == logging.WARNING] == [
        f"spread-calculator: query {QUERY} dropped {rows} rows behind its watermark in batch {batch_ids[i]}"
        for i, rows in ((1, 3), (2, 1), (3, 2))
    ]
    errors = [r.getMessage() for r in ours if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "InternalFailure" in errors[0] and "retried next time" in errors[0]


@pytest.mark.parametrize(
    ("job", "trigger", "history_trigger", "every_s"),
    [
        ("spread-calculator", "5 seconds", None, 30.0),  # 50 triggers would be 250 s: at least every 30 s
        ("spread-calculator", "100 milliseconds", None, 5.0),  # 50 x 0.1 s
        ("whale-detector", "1 second", "200 milliseconds", 10.0),  # its history query is the faster: 50 x 0.2 s
    ],
)
def test_the_progress_is_read_before_spark_forgets_a_batch(
    spark: SparkSession, job: str, trigger: str, history_trigger: str | None, every_s: float
) -> None:
    config = JobConfig(job=job, trigger=trigger, history_trigger=history_trigger)
    assert JobRunner(spark, config).watermark_report_every_s == every_s
