"""The windowed jobs through their thin runs, end to end over a file stream: Iceberg in the test warehouse,
alerts in dynalite.

- spread-calculator: the exact ``spreads`` rows, and alerts only for a window above the threshold;
- volume-anomaly: its two queries chained by the Iceberg table ``volume_aggregates`` (the second reads the
  first's MERGE commits as an Iceberg stream), an anomaly scored by hand, and a restart of both queries
  from their checkpoints that writes no row or alert twice;
- late data: a trade behind the newest event time by less than the watermark counts, one behind by more
  is dropped, each arriving in a later micro-batch.

The warehouse is shared by the whole test session, so each test uses its own day and reads back only that
day's rows (a table's natural key would otherwise make another test's row hide one of ours).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming.query import StreamingQuery
from pyspark.sql.types import StructType
from pyspark.testing import assertDataFrameEqual

from coattail_jobs.config import JobConfig
from coattail_jobs.schemas import ANOMALY_ALERT, SPREAD_RECORD, UNIFIED_TRADE, VOLUME_AGGREGATE

from .conftest import JobEnv
from .streams import drop_json_file

UnifiedTradeRow = tuple[int, str, str, str, str, float, float, float, str, str, str]


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _trade(exchange: str, symbol: str, trade_id: str, price: float, quantity: float, at: datetime) -> UnifiedTradeRow:
    """A unified trade as the producer writes it; every price x quantity below is exact in binary."""
    return (
        1, f"{exchange}:{symbol}:{trade_id}", exchange, symbol, trade_id, price, quantity, price * quantity, "buy",
        _iso(at), _iso(at + timedelta(milliseconds=100)),
    )  # fmt: skip


def _drop(folder: Path, name: str, trades: Sequence[UnifiedTradeRow]) -> None:
    drop_json_file(folder, name, UNIFIED_TRADE, trades)


def _drain(queries: Sequence[StreamingQuery]) -> None:
    """Run every query until it has nothing left to do, in start order.

    volume-anomaly's second query reads only what the first commits, never the reverse, so one pass in
    that order settles both: when the first returns, its windows (and the no-data batch that emits them
    once the watermark passes) are committed to Iceberg, and the second's next trigger sees that snapshot.
    """
    for query in queries:
        query.processAllAvailable()


def _run_to_completion(env: JobEnv, config: JobConfig) -> list[list[int]]:
    """Start the job, run it until idle and stop it; the input rows of each query's micro-batches with data."""
    queries = env.start(config)
    try:
        _drain(queries)
        return [[p["numInputRows"] for p in q.recentProgress if p["numInputRows"] > 0] for q in queries]
    finally:
        for query in queries:
            query.stop()


def _items(dynamo: Any, table: str, day: str) -> dict[str, dict[str, object]]:
    """The table's alerts of ``day`` by id, attribute values unwrapped (N as float)."""
    unwrapped: dict[str, dict[str, object]] = {}
    for item in dynamo.scan(TableName=table)["Items"]:
        values: dict[str, object] = {}
        for name, typed in item.items():
            ((kind, value),) = typed.items()
            values[name] = float(value) if kind == "N" else value
        if day in str(values["alert_id"]):
            unwrapped[str(values["alert_id"])] = values
    return unwrapped


def _of_day(df: DataFrame, column: str, day: datetime) -> DataFrame:
    return df.where((F.col(column) >= F.lit(day)) & (F.col(column) < F.lit(day + timedelta(days=1))))


def _alert_rows(spark: SparkSession, config: JobConfig, day: datetime) -> DataFrame:
    alerts = _of_day(spark.table(config.table("alerts")), "alert_time", day)
    return alerts.select("alert_id", "alert_type", "symbol", "exchange", "alert_time", "headline")


ALERT_COLUMNS = (
    "alert_id string, alert_type string, symbol string, exchange string, alert_time timestamp, headline string"
)


# ---------------------------------------------------------------- spread-calculator


def test_spread_calculator_writes_every_window_on_both_exchanges_and_alerts_above_the_threshold(
    spark: SparkSession, job_env: JobEnv
) -> None:
    day = datetime(2030, 1, 2, tzinfo=UTC)

    def at(seconds: int) -> datetime:
        return day + timedelta(seconds=seconds)

    dynamo, table, source = job_env.dynamodb, job_env.alerts_table, job_env.source
    config = job_env.config("spread-calculator")
    _drop(
        source,
        "1.jsonl",
        [
            # [00:00, 00:30): binance (60,500 x 1 + 60,800 x 0.5) / 1.5 = 90,900 / 1.5 = 60,600; coinbase 60,000.
            # spread 600 / ((60,600 + 60,000) / 2) x 100 = 600 / 60,300 x 100 = 0.99502 %: above 0.5, an alert.
            _trade("binance", "BTC-USDT", "1", 60_500.0, 1.0, at(5)),
            _trade("binance", "BTC-USDT", "2", 60_800.0, 0.5, at(10)),
            _trade("coinbase", "BTC-USDT", "1", 60_000.0, 0.25, at(12)),
            # [00:30, 01:00): coinbase 60,120 above binance 60,000.
            # spread 120 / ((60,120 + 60,000) / 2) x 100 = 120 / 60,060 x 100 = 0.19980 %: no alert.
            _trade("coinbase", "BTC-USDT", "2", 60_120.0, 1.0, at(31)),
            _trade("binance", "BTC-USDT", "3", 60_000.0, 0.5, at(45)),
            # [01:00, 01:30): binance only, so no spread.
            _trade("binance", "BTC-USDT", "4", 60_000.0, 1.0, at(70)),
            # 00:03:30 moves the watermark (2 minutes behind) to 00:01:30: every window above has ended.
            _trade("binance", "BTC-USDT", "5", 60_000.0, 1.0, at(210)),
        ],
    )

    _run_to_completion(job_env, config)

    expected_spreads = [
        (at(0), at(30), "BTC-USDT", "binance", "coinbase", 60_600.0, 60_000.0, 600 / 60_300 * 100, 2, 1, True, 0.5),
        (at(30), at(60), "BTC-USDT", "coinbase", "binance", 60_120.0, 60_000.0, 120 / 60_060 * 100, 1, 1, False, 0.5),
    ]
    assertDataFrameEqual(
        _of_day(spark.table(config.table("spreads")), "window_start", day),
        spark.createDataFrame(expected_spreads, SPREAD_RECORD),
    )
    alert_id = "spread:BTC-USDT:2030-01-02T00:00:00.000Z"
    headline = "SPREAD BTC-USDT 0.995%: binance 60,600.00 > coinbase 60,000.00 USDT (threshold 0.5%)"
    assertDataFrameEqual(
        _alert_rows(spark, config, day),
        spark.createDataFrame([(alert_id, "spread", "BTC-USDT", "binance", at(30), headline)], ALERT_COLUMNS),
    )
    items = _items(dynamo, table, "2030-01-02")
    assert list(items) == [alert_id]
    item = items[alert_id]
    assert {k: item[k] for k in ("alert_type", "alert_time", "symbol", "exchange", "headline")} == {
        "alert_type": "spread",
        "alert_time": "2030-01-02T00:00:30.000Z",
        "symbol": "BTC-USDT",
        "exchange": "binance",
        "headline": headline,
    }
    assert {k: item[k] for k in ("high_vwap", "low_vwap", "binance_trades", "coinbase_trades", "is_alert")} == {
        "high_vwap": 60_600.0,
        "low_vwap": 60_000.0,
        "binance_trades": 2.0,
        "coinbase_trades": 1.0,
        "is_alert": True,
    }
    assert item["spread_pct"] == pytest.approx(600 / 60_300 * 100)


# ---------------------------------------------------------------- volume-anomaly


def test_volume_anomaly_chains_its_queries_through_iceberg_and_restarts_without_duplicates(
    spark: SparkSession, job_env: JobEnv
) -> None:
    day = datetime(2030, 1, 4, tzinfo=UTC)
    started = datetime.now(UTC)

    def at(minutes: int, seconds: int = 0) -> datetime:
        return day + timedelta(minutes=minutes, seconds=seconds)

    dynamo, table, source = job_env.dynamodb, job_env.alerts_table, job_env.source
    config = job_env.config(
        "volume-anomaly",
        anomaly_min_periods=3,  # three baseline windows instead of ten keep the test small
    )
    closer = _trade("binance", "ETH-USDT", "6", 4_000.0, 0.25, at(6))
    _drop(
        source,
        "1.jsonl",
        [
            # Baseline windows of quote volume 1,000, 1,500 and 500.
            _trade("binance", "ETH-USDT", "1", 4_000.0, 0.25, at(0, 10)),
            _trade("binance", "ETH-USDT", "2", 4_000.0, 0.375, at(1, 10)),
            _trade("binance", "ETH-USDT", "3", 4_000.0, 0.125, at(2, 10)),
            # The spike at 00:03: 2,000 + 1,000 = 3,000 over 0.5 + 0.5 = 1.0, so a VWAP of 3,000.
            _trade("binance", "ETH-USDT", "4", 4_000.0, 0.5, at(3, 10)),
            _trade("binance", "ETH-USDT", "5", 2_000.0, 0.5, at(3, 20)),
            # 00:06 moves the watermark (2 minutes behind) to 00:04, past the spike's end; its own window stays open.
            closer,
        ],
    )

    # The aggregates query reads the 6 trades; the anomalies query reads the 4 closed windows, from the table.
    assert _run_to_completion(job_env, config) == [[6], [4]]

    # Restart both queries from their checkpoints: the 00:06 trade again (a replay, still within the watermark,
    # so only the deduplication keeps it from counting twice), 8,000 more in 00:06's window, and 00:09, which
    # moves the watermark to 00:07 and closes 00:06's window.
    _drop(
        source,
        "2.jsonl",
        [
            closer,
            _trade("binance", "ETH-USDT", "7", 4_000.0, 2.0, at(6, 30)),
            _trade("binance", "ETH-USDT", "8", 4_000.0, 0.25, at(9)),
        ],
    )
    # Each query resumes from its checkpoint: the anomalies query reads only the one new window.
    assert _run_to_completion(job_env, config) == [[3], [1]]

    # Each window once; 00:06 holds the original 1,000 and the new 8,000 (10,000 and 3 trades had the replay counted).
    expected_windows = [
        (at(0), at(1), "ETH-USDT", "binance", 1, 0.25, 1_000.0, 4_000.0, 4_000.0, 4_000.0),
        (at(1), at(2), "ETH-USDT", "binance", 1, 0.375, 1_500.0, 4_000.0, 4_000.0, 4_000.0),
        (at(2), at(3), "ETH-USDT", "binance", 1, 0.125, 500.0, 4_000.0, 4_000.0, 4_000.0),
        (at(3), at(4), "ETH-USDT", "binance", 2, 1.0, 3_000.0, 3_000.0, 2_000.0, 4_000.0),
        (at(6), at(7), "ETH-USDT", "binance", 2, 2.25, 9_000.0, 4_000.0, 4_000.0, 4_000.0),
    ]
    assertDataFrameEqual(
        _of_day(spark.table(config.table("volume_aggregates")), "window_start", day),
        spark.createDataFrame(expected_windows, VOLUME_AGGREGATE),
    )

    # 00:03 against 00:00-00:02: mean (1,000 + 1,500 + 500) / 3 = 1,000;
    # sample variance (0^2 + 500^2 + (-500)^2) / (3 - 1) = 500,000 / 2 = 250,000, std 500;
    # z = (3,000 - 1,000) / 500 = 4.0 > 2.5.
    # 00:06 against 00:00-00:03 (all start within the hour before): mean (1,000 + 1,500 + 500 + 3,000) / 4 = 1,500;
    # sample variance ((-500)^2 + 0^2 + (-1,000)^2 + 1,500^2) / (4 - 1) = 3,500,000 / 3 = 1,166,666.67,
    # std 1,080.123; z = (9,000 - 1,500) / 1,080.123 = 6.944 > 2.5. After the restart the anomalies query
    # reads that one window only, so its four-window baseline is the state kept in its checkpoint.
    std_2 = math.sqrt(3_500_000 / 3)
    first_id = "volume_anomaly:binance:ETH-USDT:2030-01-04T00:03:00.000Z"
    second_id = "volume_anomaly:binance:ETH-USDT:2030-01-04T00:06:00.000Z"
    expected_anomalies = [
        (first_id, at(3), at(4), "ETH-USDT", "binance", 3_000.0, 2, 1_000.0, 500.0, 3, 4.0, 2.5),
        (second_id, at(6), at(7), "ETH-USDT", "binance", 9_000.0, 2, 1_500.0, std_2, 4, 7_500 / std_2, 2.5),
    ]
    without_detected_at = StructType([f for f in ANOMALY_ALERT.fields if f.name != "detected_at"])
    anomalies = _of_day(spark.table(config.table("anomalies")), "window_start", day)
    assertDataFrameEqual(anomalies.drop("detected_at"), spark.createDataFrame(expected_anomalies, without_detected_at))
    assert anomalies.where(F.col("detected_at") < F.lit(started)).count() == 0

    headlines = {
        first_id: "VOLUME_ANOMALY binance ETH-USDT 3,000 USDT in 60s (2 trades), z=4 > 2.5, "
        "baseline 1,000 over 3 windows",
        second_id: "VOLUME_ANOMALY binance ETH-USDT 9,000 USDT in 60s (2 trades), z=6.94 > 2.5, "
        "baseline 1,500 over 4 windows",
    }
    assertDataFrameEqual(
        _alert_rows(spark, config, day),
        spark.createDataFrame(
            [
                (first_id, "volume_anomaly", "ETH-USDT", "binance", at(4), headlines[first_id]),
                (second_id, "volume_anomaly", "ETH-USDT", "binance", at(7), headlines[second_id]),
            ],
            ALERT_COLUMNS,
        ),
    )
    items = _items(dynamo, table, "2030-01-04")
    assert sorted(items) == [first_id, second_id]
    first = items[first_id]
    assert {k: first[k] for k in ("alert_type", "alert_time", "exchange", "headline", "window_start")} == {
        "alert_type": "volume_anomaly",
        "alert_time": "2030-01-04T00:04:00.000Z",
        "exchange": "binance",
        "headline": headlines[first_id],
        "window_start": "2030-01-04T00:03:00.000000Z",
    }
    assert {k: first[k] for k in ("total_quote_volume", "baseline_mean", "baseline_std", "baseline_windows")} == {
        "total_quote_volume": 3_000.0,
        "baseline_mean": 1_000.0,
        "baseline_std": 500.0,
        "baseline_windows": 3.0,
    }
    assert first["z_score"] == pytest.approx(4.0)
    assert items[second_id]["z_score"] == pytest.approx(7_500 / std_2)

    # Why the second query can read the first one's output as a stream: an insert-only MERGE is planned as
    # an append (a left anti join into AppendData), so every commit is an "append" snapshot, which the
    # Iceberg streaming read takes (it fails on "overwrite" and "delete" snapshots unless told to skip them).
    snapshots = spark.table(f"{config.table('volume_aggregates')}.snapshots").where(F.col("committed_at") >= started)
    assert {r.operation for r in snapshots.collect()} == {"append"}


# ---------------------------------------------------------------- late data


def test_a_late_trade_within_the_watermark_counts_and_one_beyond_it_is_dropped(
    spark: SparkSession, job_env: JobEnv
) -> None:
    day = datetime(2030, 1, 3, tzinfo=UTC)

    def at(seconds: int) -> datetime:
        return day + timedelta(seconds=seconds)

    dynamo, table, source = job_env.dynamodb, job_env.alerts_table, job_env.source
    config = job_env.config("spread-calculator")
    # One file per micro-batch: each is dropped only after the previous one is processed, and every batch
    # filters late trades with the watermark the batches before it set. The window under test is
    # [00:01:00, 00:01:30).
    batches = [
        [
            _trade("binance", "BTC-USDT", "1", 60_000.0, 1.0, at(65)),
            _trade("coinbase", "BTC-USDT", "1", 60_000.0, 1.0, at(66)),
            # The newest event time, 00:03:20: the watermark becomes 00:01:20 after this batch.
            _trade("binance", "BTC-USDT", "2", 60_000.0, 1.0, at(200)),
        ],
        [
            # 00:01:25 is 1 min 55 s behind 00:03:20, after the watermark: it counts.
            _trade("coinbase", "BTC-USDT", "2", 61_200.0, 1.0, at(85)),
            # 00:01:10 is 2 min 10 s behind 00:03:20, before the watermark: dropped, though its window is open.
            _trade("coinbase", "BTC-USDT", "3", 66_000.0, 1.0, at(70)),
        ],
        # 00:03:40 moves the watermark to 00:01:40, past the window's end.
        [_trade("binance", "BTC-USDT", "3", 60_000.0, 1.0, at(220))],
    ]
    (query,) = job_env.start(config)
    try:
        for number, batch in enumerate(batches, start=1):
            _drop(source, f"{number}.jsonl", batch)
            query.processAllAvailable()
        rows_per_batch = [p["numInputRows"] for p in query.recentProgress if p["numInputRows"] > 0]
    finally:
        query.stop()

    assert rows_per_batch == [3, 2, 1]
    # binance 60,000 (one trade); coinbase (60,000 + 61,200) / 2 = 60,600 (had 66,000 counted: 62,400).
    # spread 600 / ((60,600 + 60,000) / 2) x 100 = 600 / 60,300 x 100 = 0.99502 %: an alert.
    expected = [
        (at(60), at(90), "BTC-USDT", "coinbase", "binance", 60_600.0, 60_000.0, 600 / 60_300 * 100, 1, 2, True, 0.5)
    ]
    assertDataFrameEqual(
        _of_day(spark.table(config.table("spreads")), "window_start", day),
        spark.createDataFrame(expected, SPREAD_RECORD),
    )
    alert_id = "spread:BTC-USDT:2030-01-03T00:01:00.000Z"
    assert list(_items(dynamo, table, "2030-01-03")) == [alert_id]
    assert [r.alert_id for r in _alert_rows(spark, config, day).collect()] == [alert_id]
