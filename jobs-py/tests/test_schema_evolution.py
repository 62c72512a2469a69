"""schema-evolution-demo on a table of its own: the column is added without rewriting any data file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq  # type: ignore[import-untyped]  # pyarrow ships no type information
from pyspark.sql import SparkSession

from coattail_jobs.batch.schema_evolution import NEW_COLUMN, render_text, run_demo

TABLE = "coattail.evolution_test.trades"


def local(path: str) -> Path:
    return Path(path.removeprefix("file:"))


def test_adding_a_column_rewrites_no_data_file(spark: SparkSession) -> None:
    report = run_demo(spark, TABLE, now=datetime(2024, 6, 1, tzinfo=UTC))

    before, after, files = report["before"], report["after"], report["files"]
    assert isinstance(before, dict) and isinstance(after, dict) and isinstance(files, dict)
    # Four old trades in three (day, symbol) partitions: 2024-05-01 BTC-USDT (2 trades), 2024-05-01 ETH-USDT,
    # 2024-05-02 SOL-USDT; then two new ones in 2024-05-02 BTC-USDT and 2024-05-02 ETH-USDT.
    old_files = sorted(
        (local(f["path"]).parent.parent.name, local(f["path"]).parent.name, f["records"]) for f in before["files"]
    )
    assert old_files == [
        ("trade_time_day=2024-05-01", "symbol=BTC-USDT", 2),
        ("trade_time_day=2024-05-01", "symbol=ETH-USDT", 1),
        ("trade_time_day=2024-05-02", "symbol=SOL-USDT", 1),
    ]
    # Every earlier file is listed again with the same path, size and record count; two were added.
    assert [f for f in after["files"] if f["path"] in {b["path"] for b in before["files"]}] == before["files"]
    assert len(after["files"]) == 5
    added = sorted(local(p).parent.parent.name + "/" + local(p).parent.name for p in files["added"])
    assert added == ["trade_time_day=2024-05-02/symbol=BTC-USDT", "trade_time_day=2024-05-02/symbol=ETH-USDT"]
    assert (files["changed"], files["removed"], sorted(files["unchanged"])) == (
        [],
        [],
        sorted(f["path"] for f in before["files"]),
    )
    # And on disk: the old files still exist, at their old size, their own Parquet schema without the column.
    for f in before["files"]:
        path = local(f["path"])
        assert path.stat().st_size == f["size"]
        assert NEW_COLUMN not in pq.read_schema(path).names
    for p in files["added"]:
        assert NEW_COLUMN in pq.read_schema(local(p)).names

    # The ALTER committed no snapshot: one (the first append) before and after it, two at the end.
    assert report["after_alter"] == {"snapshots": before["snapshots"]}
    assert [s["operation"] for s in after["snapshots"]] == ["append", "append"]
    assert after["columns"] == [*before["columns"], NEW_COLUMN]
    rows = report["rows"]
    assert isinstance(rows, list) and all(list(r) == ["event_id", "symbol", "trade_time", NEW_COLUMN] for r in rows)
    assert [tuple(r.values()) for r in rows] == [
        ("binance:BTC-USDT:1001", "BTC-USDT", "2024-05-01T10:00:00.000Z", None),
        ("binance:BTC-USDT:1002", "BTC-USDT", "2024-05-01T10:01:00.000Z", None),
        ("coinbase:ETH-USDT:2001", "ETH-USDT", "2024-05-01T10:02:00.000Z", None),
        ("binance:SOL-USDT:3001", "SOL-USDT", "2024-05-02T09:00:00.000Z", None),
        ("binance:BTC-USDT:1003", "BTC-USDT", "2024-05-02T11:00:00.000Z", "rest"),
        ("coinbase:ETH-USDT:2002", "ETH-USDT", "2024-05-02T11:01:00.000Z", "rest"),
    ]
    facts = report["facts"]
    assert isinstance(facts, dict) and set(facts.values()) == {True} and report["ok"] is True

    text = render_text(report)
    assert "5. Data files after: 5 (3 unchanged, 2 added, 0 changed, 0 removed)" in text
    assert "binance:SOL-USDT:3001   2024-05-02T09:00:00.000Z  ingest_source = NULL" in text
    assert "binance:BTC-USDT:1003   2024-05-02T11:00:00.000Z  ingest_source = 'rest'" in text
    assert text.endswith("result: no data file was rewritten\n")


def test_a_second_run_starts_from_a_fresh_table(spark: SparkSession) -> None:
    report = run_demo(spark, TABLE, now=datetime(2024, 6, 1, tzinfo=UTC))
    rows = report["rows"]
    assert report["ok"] is True and isinstance(rows, list) and len(rows) == 6
