"""Faults downstream of Kinesis: the Spark application killed mid-stream, and a burst of bad records.

The Spark application is killed (kill -9, the driver and its JVM) mid-stream, then started again.

The jobs run as operators run them, ``python -m coattail_jobs pipeline`` (whale-detector and raw-archiver in one
Spark application), against the real Kinesis emulator and dynalite. Trades keep arriving in Kinesis while the
application is down. It is killed the moment the first whale alert lands in DynamoDB: the alert is the last
write of a micro-batch, so the kill falls between the batch's writes and its checkpoint commit — the batch is
run again on restart, the very case the idempotent sinks are for. Afterwards: every whale alerted once, every
trade archived once, no duplicate row in any table. After the restart a burst of malformed and invalid
records arrives among the trades: each lands in the dead-letter queue once, under its reason, and the valid
trades flow on. (One test for both: each Spark start costs tens of seconds.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

TRADES = 600
BATCHES = 30
WHALES = {i for i in range(TRADES) if i % 50 == 17}  # 12 whales, spread over the whole feed
JOBS_PY = Path(__file__).resolve().parents[1]


def _trade(i: int, now: datetime) -> bytes:
    quote_volume = 150_000.0 + i if i in WHALES else 1_000.0 + i
    price = 60_000.0
    ts = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return json.dumps(
        {
            "schema_version": 1,
            "event_id": f"binance:BTC-USDT:{i}",
            "exchange": "binance",
            "symbol": "BTC-USDT",
            "trade_id": str(i),
            "price": price,
            "quantity": quote_volume / price,
            "quote_volume": quote_volume,
            "side": "buy" if i % 2 else "sell",
            "timestamp": ts,
            "ingested_at": ts,
        }
    ).encode()


BAD_BURST_BATCH = 12
"""The batch (after the restart) that also carries a burst of malformed and invalid records."""
EXPECTED_DEAD_LETTERS = {
    "malformed": 4,
    "validity_price_positive": 1,
    "validity_symbol_allowed": 2,
    "completeness_event_id": 1,
}


def _bad_records(now: datetime) -> list[bytes]:
    """What a buggy producer might write: 4 lines that are not trades, 4 trades that fail an ERROR check."""

    def broken(i: int, **changes: object) -> bytes:
        trade = json.loads(_trade(i, now))
        trade.update(changes)
        return json.dumps({k: v for k, v in trade.items() if v is not None}).encode()

    return [
        b"{not json",
        b"[1, 2, 3]",
        b'{"event_id": "binance:BTC-USDT:x", "price": "sixty thousand"}',
        b"42",
        broken(9001, event_id="binance:BTC-USDT:9001", price=-1.0),
        broken(9002, event_id="binance:DOGE-USDT:9002", symbol="DOGE-USDT"),
        broken(9003, event_id="binance:PEPE-USDT:9003", symbol="PEPE-USDT"),
        broken(9004, event_id=None),
    ]


def _wait(predicate: Callable[[], bool], timeout_s: float, what: str, every_s: float = 0.25) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)


class Pipeline:
    """``python -m coattail_jobs pipeline`` in its own process group, so kill -9 takes its JVM too."""

    def __init__(self, args: list[str], log: Path) -> None:
        self._log = log.open("ab")
        env = {**os.environ, "COATTAIL_SHUFFLE_PARTITIONS": "2", "PYSPARK_PYTHON": sys.executable}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "coattail_jobs", "pipeline", *args],
            cwd=JOBS_PY,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log,
            start_new_session=True,
        )
        self.events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(b"{"):
                self.events.append(json.loads(line))

    def event(self, name: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e.get("event") == name), None)

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=120)
        self._reader.join(timeout=10)
        self._log.close()
        return code

    def ensure_gone(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


@pytest.fixture
def pipelines() -> Iterator[list[Pipeline]]:
    started: list[Pipeline] = []
    yield started
    for p in started:
        p.ensure_gone()


def test_kill_9_mid_stream_then_restart_misses_no_whale_duplicates_nothing_and_dead_letters_bad_records(
    spark: SparkSession,
    kinesis: Any,
    kinesis_endpoint: str,
    dynamodb: Any,
    dynamodb_endpoint: str,
    alerts_table: str,
    tmp_path: Path,
    pipelines: list[Pipeline],
) -> None:
    stream = f"kill9-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    _wait(
        lambda: (
            kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
        ),
        30,
        "the stream",
    )
    dynamo, table = dynamodb, alerts_table
    warehouse = tmp_path / "warehouse"
    args = [
        "--jobs",
        "whale-detector,raw-archiver",
        "--stream",
        stream,
        "--kinesis-endpoint",
        kinesis_endpoint,
        "--dynamodb-endpoint",
        dynamodb_endpoint,
        "--alerts-table",
        table,
        "--warehouse",
        str(warehouse),
        "--checkpoint-root",
        str(tmp_path / "checkpoints"),
        "--raw-root",
        str(tmp_path / "raw"),
        "--set",
        "whale-detector:trigger=1 second",
        "--set",
        "raw-archiver:trigger=2 seconds",
    ]

    def alert_ids() -> list[str]:
        return [i["alert_id"]["S"] for i in dynamo.scan(TableName=table, ConsistentRead=True)["Items"]]

    # Trades arrive before the crash, while the application is down, and after it is back.
    per_batch = TRADES // BATCHES

    def feed(batches: range, pause_s: float) -> None:
        for b in batches:
            now = datetime.now(UTC)
            ids = range(b * per_batch, (b + 1) * per_batch)
            records = [_trade(i, now) for i in ids]
            if b == BAD_BURST_BATCH:
                records += _bad_records(now)
            kinesis.put_records(
                StreamName=stream, Records=[{"PartitionKey": str(n % 7), "Data": r} for n, r in enumerate(records)]
            )
            time.sleep(pause_s)

    first = Pipeline(args, tmp_path / "spark-1.log")
    pipelines.append(first)
    _wait(lambda: first.event("started") is not None or first.proc.poll() is not None, 240, "the first start")
    assert first.event("started") is not None, (tmp_path / "spark-1.log").read_text()[-3000:]
    feed(range(0, 5), 0.2)  # whales 17 and 67 among them
    _wait(lambda: len(alert_ids()) > 0, 240, "the first whale alert")
    first.kill9()
    assert len(alert_ids()) < len(WHALES)

    feeder = threading.Thread(target=feed, args=(range(5, BATCHES), 0.5))
    feeder.start()
    second = Pipeline(args, tmp_path / "spark-2.log")
    pipelines.append(second)
    feeder.join()
    expected_alerts = sorted(f"whale:binance:BTC-USDT:{i}" for i in WHALES)
    _wait(lambda: len(alert_ids()) >= len(WHALES), 300, "every whale alert after the restart")

    def iceberg(name: str) -> DataFrame:
        return spark.read.format("iceberg").load(str(warehouse / "crypto_pulse" / name))

    def table_rows(name: str) -> list[Any]:
        return iceberg(name).collect()

    _wait(lambda: iceberg("raw_trades").count() >= TRADES, 180, "every trade archived", every_s=2)
    # whale-detector's history query (Iceberg) runs apart from its alerts query (DynamoDB): let it catch up.
    _wait(lambda: iceberg("alerts").count() >= len(WHALES), 180, "every whale in the history", every_s=2)
    assert second.stop() == 0, (tmp_path / "spark-2.log").read_text()[-3000:]
    stopped = second.event("stopped")
    assert stopped is not None

    assert sorted(alert_ids()) == expected_alerts
    raw = [r.event_id for r in table_rows("raw_trades")]
    assert len(raw) == TRADES and len(set(raw)) == TRADES
    whales = sorted(r.alert_id for r in table_rows("whale_trades"))
    assert whales == expected_alerts
    history = sorted(r.alert_id for r in table_rows("alerts"))
    assert history == expected_alerts
    assert stopped["rows"]["raw_trades"] == TRADES
    assert stopped["rows"]["whale_trades"] == len(WHALES)

    # The burst: each bad record in the DLQ once, under its reason; the valid trades around it flowed.
    letters = [
        json.loads(line)
        for f in (tmp_path / "raw" / "dlq").rglob("*.json")
        for line in f.read_text().splitlines()
        if line.strip()
    ]
    by_reason: dict[str, int] = {}
    for letter in letters:
        by_reason[letter["reason"]] = by_reason.get(letter["reason"], 0) + 1
        assert letter["job"] == "raw-archiver"
    assert by_reason == EXPECTED_DEAD_LETTERS
    assert {r["record"] for r in letters if r["reason"] == "malformed"} == {
        "{not json",
        "[1, 2, 3]",
        '{"event_id": "binance:BTC-USDT:x", "price": "sixty thousand"}',
        "42",
    }
