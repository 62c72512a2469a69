"""raw-archiver's dead letters through its thin run, over a file stream with real checkpoints.

- A micro-batch that fails after its dead letters are written is replayed on the next start; when the
  clock has passed midnight meanwhile, the replay rewrites the same files: no dead letter twice.
- A new checkpoint (a new streaming query, whose batch ids start at 0 again) never overwrites the dead
  letters of an earlier one.

The file source stamps each record's ``arrival_time`` with its micro-batch's time, which Spark keeps in
the checkpoint's offset log, so a replayed batch arrives at the same time as the first run of it (as
Kinesis keeps each record's approximate arrival time).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pyspark.errors import StreamingQueryException
from pyspark.sql import SparkSession

from coattail_jobs.config import JobConfig
from coattail_jobs.run import JobRunner
from coattail_jobs.sources import file_source


def _trade(trade_id: str, **changes: object) -> str:
    trade: dict[str, object] = {
        "schema_version": 1,
        "event_id": f"binance:BTC-USDT:{trade_id}",
        "exchange": "binance",
        "symbol": "BTC-USDT",
        "trade_id": trade_id,
        "price": 100.0,
        "quantity": 2.0,
        "quote_volume": 200.0,
        "side": "buy",
        "timestamp": "2031-03-04T12:00:00.000Z",
        "ingested_at": "2031-03-04T12:00:00.100Z",
    }
    trade.update(changes)
    return json.dumps(trade)


class RecordingSink:
    def __init__(self) -> None:
        self.calls: list[dict[str, float]] = []

    def publish(self, namespace: str, metrics: Mapping[str, float], dimensions: Mapping[str, str]) -> None:
        self.calls.append(dict(metrics))


class DiesAfterTheWrites:
    """raw-archiver publishes its metrics after the batch's writes: failing there leaves the dead letters
    written and the batch uncommitted, as a driver that dies at that moment does."""

    def publish(self, namespace: str, metrics: Mapping[str, float], dimensions: Mapping[str, str]) -> None:
        raise RuntimeError("the driver died after the batch's writes")


def _config(tmp_path: Path, checkpoints: str) -> JobConfig:
    return JobConfig(
        job="raw-archiver",
        checkpoint_root=str(tmp_path / checkpoints),
        raw_root=str(tmp_path / "raw"),
        trigger="1 second",
    )


def _letters(raw_root: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for f in sorted((raw_root / "dlq").rglob("*.json"))
        for line in f.read_text().splitlines()
        if line.strip()
    ]


def _batch_folders(raw_root: Path) -> list[str]:
    """Each folder holding dead-letter files, relative to the DLQ root."""
    return sorted({str(f.parent.relative_to(raw_root / "dlq")) for f in (raw_root / "dlq").rglob("*.json")})


def _utc_today() -> date:
    return datetime.now(UTC).date()


def test_a_batch_replayed_after_midnight_rewrites_its_dead_letters_in_place(
    spark: SparkSession, tmp_path: Path
) -> None:
    source = tmp_path / "in"
    source.mkdir()
    bad = {
        "{not json": "malformed",
        _trade("dlq-2", event_id="binance:DOGE-USDT:dlq-2", symbol="DOGE-USDT"): "validity_symbol_allowed",
        _trade("dlq-3", price=-1.0, quote_volume=-2.0): "validity_price_positive",
    }
    (source / "1.jsonl").write_text("\n".join([_trade("dlq-1"), *bad]) + "\n")
    config = _config(tmp_path, "ck")
    before_midnight = datetime(2031, 3, 4, 23, 59, 59, tzinfo=UTC)
    after_midnight = datetime(2031, 3, 5, 0, 0, 1, tzinfo=UTC)

    arrived_from = _utc_today()
    (first,) = JobRunner(spark, config, metrics_sink=DiesAfterTheWrites(), clock=lambda: before_midnight).start(
        file_source(spark, str(source))
    )
    try:
        with pytest.raises(StreamingQueryException, match="died after the batch's writes"):
            first.processAllAvailable()
    finally:
        first.stop()
    arrived_by = _utc_today()
    assert len(_letters(tmp_path / "raw")) == 3  # written before the batch failed

    sink = RecordingSink()
    (replay,) = JobRunner(spark, config, metrics_sink=sink, clock=lambda: after_midnight).start(
        file_source(spark, str(source))
    )
    try:
        replay.processAllAvailable()
        query_id = str(replay.id)
    finally:
        replay.stop()

    assert [m["RecordsFailed"] for m in sink.calls] == [3.0]  # batch 0 ran again, and published this time
    letters = _letters(tmp_path / "raw")
    assert sorted((str(r["record"]), str(r["reason"])) for r in letters) == sorted(bad.items())
    # The replay rewrote the files: its failed_at, the same query and batch.
    assert {(r["failed_at"], r["job"], r["query_id"], r["batch_id"]) for r in letters} == {
        ("2031-03-05T00:00:01.000000Z", "raw-archiver", query_id, 0)
    }
    # Filed by the day the records arrived (the first run's batch time), not by either run's clock.
    folders = _batch_folders(tmp_path / "raw")
    days = {folder.split("/")[1] for folder in folders}
    assert days in ({f"dt={arrived_from}"}, {f"dt={arrived_by}"})
    (day,) = days
    assert folders == [
        f"{reason}/{day}/job=raw-archiver/query_id={query_id}/batch_id=0"
        for reason in ("malformed", "validity_price_positive", "validity_symbol_allowed")
    ]


def test_a_new_checkpoint_keeps_the_dead_letters_of_earlier_runs(spark: SparkSession, tmp_path: Path) -> None:
    first_in, second_in = tmp_path / "in-1", tmp_path / "in-2"
    first_in.mkdir()
    second_in.mkdir()
    (first_in / "1.jsonl").write_text("\n".join([_trade("dlq-11"), "{first run", "[1, 2]"]) + "\n")
    (second_in / "1.jsonl").write_text("\n".join([_trade("dlq-12"), "{second run"]) + "\n")

    query_ids = []
    for checkpoints, source in (("ck-1", first_in), ("ck-2", second_in)):
        # Each run a new checkpoint, as every `coattail demo` starts one: batch ids start at 0 again.
        (query,) = JobRunner(spark, _config(tmp_path, checkpoints), metrics_sink=RecordingSink()).start(
            file_source(spark, str(source))
        )
        try:
            query.processAllAvailable()
            query_ids.append(str(query.id))
        finally:
            query.stop()

    assert query_ids[0] != query_ids[1]
    letters = _letters(tmp_path / "raw")
    assert sorted(str(r["record"]) for r in letters) == ["[1, 2]", "{first run", "{second run"]
    assert sorted((str(r["record"]), r["query_id"], r["batch_id"]) for r in letters) == sorted(
        [("{first run", query_ids[0], 0), ("[1, 2]", query_ids[0], 0), ("{second run", query_ids[1], 0)]
    )
