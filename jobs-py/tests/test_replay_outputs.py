"""replay's files: timestamps as the producer writes them, and a large output written in order, a range at a
time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from coattail_jobs.replay import outputs as replay_outputs


def test_timestamps_keep_microseconds_only_where_there_are_any() -> None:
    assert replay_outputs.format_timestamp(1_704_067_200_000_000) == "2024-01-01T00:00:00.000Z"
    assert replay_outputs.format_timestamp(1_704_067_200_123_000) == "2024-01-01T00:00:00.123Z"
    assert replay_outputs.format_timestamp(1_704_067_200_123_456) == "2024-01-01T00:00:00.123456Z"


def test_a_large_output_is_written_in_order_a_range_at_a_time(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ranges of 4 rows: 10 shuffled rows become three fetches that must still make one ordered file.
    monkeypatch.setattr(replay_outputs, "ROWS_PER_FETCH", 4)
    base = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    order = [7, 2, 9, 0, 5, 3, 8, 1, 6, 4]
    rows = spark.createDataFrame(
        [
            (f"binance:BTC-USDT:{i}", "binance", "BTC-USDT", str(i), 1.0, 1.0, 1.0, "buy", base + timedelta(seconds=i))
            for i in order
        ],
        "event_id string, exchange string, symbol string, trade_id string, price double, quantity double, "
        "quote_volume double, side string, trade_time timestamp",
    ).repartition(3)
    output = replay_outputs.Output(
        "trades",
        rows.schema,
        ("trade_time", "event_id"),
    )
    path = tmp_path / "trades.jsonl"
    assert replay_outputs.write_ndjson(rows, output, path) == 10
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["trade_id"] for line in lines] == [str(i) for i in range(10)]
    assert lines[3]["trade_time"] == "2024-05-01T12:00:03.000Z"
