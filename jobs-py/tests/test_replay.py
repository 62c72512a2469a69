"""replay: whale-detector and raw-archiver over small recordings, every output row computed by hand; the command
line; the quality step on a stream. (The windowed jobs: test_replay_windows.py.)

Recorded trades are written as the producer writes them (``trade``); a replay's files are read back as
lists of dicts and compared whole. Timestamps in the files are ISO-8601 UTC with milliseconds, or
microseconds where the value has them. The replay clock (``detected_at``, ``archived_at``) is the newest
``ingested_at`` of the recording.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from coattail_jobs.config import JobConfig
from coattail_jobs.parse import parse_trades
from coattail_jobs.quality import default_checker
from coattail_jobs.replay.runner import valid_rows
from coattail_jobs.replay.summary import ReplaySummary

from .recordings import Rows, at, micros, read_outputs, replay, run_cli, trade

pytestmark = pytest.mark.usefixtures("one_shuffle_partition")


# ---------------------------------------------------------------- whale-detector

WHALE_RECORDING = [
    # Exactly the threshold, 50,000 x 2 = 100,000: not a whale (strictly above).
    trade("binance", "BTC-USDT", "1", 50_000.0, 2.0, "00:05:00.000"),
    # 60,000 x 2.5 = 150,000: a whale, with a microsecond trade time; then re-sent by a reconnect overlap.
    trade("binance", "BTC-USDT", "2", 60_000.0, 2.5, "00:05:01.123456", "00:05:01.200"),
    trade("binance", "BTC-USDT", "2", 60_000.0, 2.5, "00:05:01.123456", "00:05:01.300"),
    trade("coinbase", "ETH-USDT", "3", 3_000.0, 0.1, "00:05:02.000"),  # 300: small
    "not json",
    trade("coinbase", "DOGE-USDT", "9", 0.1, 10.0, "00:05:03.000"),  # not a configured symbol
    # Arrives at 00:05:30, a later trigger interval; the watermark is then 00:05:01.123456 - 2 min =
    # 00:03:01.123456. A whale at 00:01:00 (3,000 x 40 = 120,000) is behind it: dropped, as live.
    trade("coinbase", "ETH-USDT", "4", 3_000.0, 40.0, "00:01:00.000", "00:05:30.000"),
    # Out of order but ahead of the watermark: 200 x 1,000 = 200,000 at 00:04:00, a whale.
    trade("coinbase", "SOL-USDT", "5", 200.0, 1_000.0, "00:04:00.000", "00:05:31.000"),
]
WHALE_AS_OF = at("00:05:31.000")  # the newest arrival


def whale(
    exchange: str,
    symbol: str,
    trade_id: str,
    price: float,
    quantity: float,
    time: str,
    threshold: float,
    multiple: float,
) -> dict[str, object]:
    """The expected whale_trades row; the multiple given by hand."""
    base, quote = symbol.split("-")
    return {
        "alert_id": f"whale:{exchange}:{symbol}:{trade_id}",
        "event_id": f"{exchange}:{symbol}:{trade_id}",
        "exchange": exchange,
        "symbol": symbol,
        "base_asset": base,
        "quote_asset": quote,
        "trade_id": trade_id,
        "price": price,
        "quantity": quantity,
        "quote_volume": price * quantity,
        "side": "buy",
        "trade_time": at(time),
        "threshold": threshold,
        "threshold_multiple": multiple,
        "detected_at": WHALE_AS_OF,
    }


@pytest.fixture(scope="module")
def whales_replayed(
    spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, ReplaySummary, dict[str, Rows]]:
    folder = tmp_path_factory.mktemp("whales")
    summary, outputs = replay(spark, folder, "whale-detector", WHALE_RECORDING)
    return folder / "out", summary, outputs


def test_whale_detector_replay_writes_the_whales_their_alerts_and_the_dead_letters(
    whales_replayed: tuple[Path, ReplaySummary, dict[str, Rows]],
) -> None:
    _, summary, outputs = whales_replayed
    sol = whale("coinbase", "SOL-USDT", "5", 200.0, 1_000.0, "00:04:00.000", 100_000.0, 2.0)  # 200k / 100k
    btc = whale("binance", "BTC-USDT", "2", 60_000.0, 2.5, "00:05:01.123456", 100_000.0, 1.5)  # 150k / 100k
    assert outputs["whale_trades.jsonl"] == [sol, btc]  # by trade time; the re-sent one once
    alerts = outputs["alerts.jsonl"]
    # The details are the whale as JSON text (timestamps with six digits).
    assert [json.loads(str(alert.pop("details"))) for alert in alerts] == [
        micros(sol, "trade_time", "detected_at"),
        micros(btc, "detected_at"),
    ]
    assert alerts == [
        {
            "alert_id": "whale:coinbase:SOL-USDT:5",
            "alert_type": "whale",
            "symbol": "SOL-USDT",
            "exchange": "coinbase",
            "alert_time": at("00:04:00.000"),
            "detected_at": WHALE_AS_OF,
            "headline": "WHALE coinbase SOL-USDT buy 1,000 SOL @ 200.00 = 200,000 USDT (2x)",
        },
        {
            "alert_id": "whale:binance:BTC-USDT:2",
            "alert_type": "whale",
            "symbol": "BTC-USDT",
            "exchange": "binance",
            "alert_time": at("00:05:01.123456"),
            "detected_at": WHALE_AS_OF,
            "headline": "WHALE binance BTC-USDT buy 2.5 BTC @ 60,000.00 = 150,000 USDT (1.5x)",
        },
    ]
    # The dead letters: the unreadable line first (no trade time), then the DOGE trade.
    assert outputs["dlq.jsonl"] == [
        {"reason": "malformed", "checks_failed": ["malformed"], "record": "not json"},
        {
            "reason": "validity_symbol_allowed",
            "checks_failed": ["validity_symbol_allowed"],
            "record": WHALE_RECORDING[5],
        },
    ]
    assert (summary.records, summary.micro_batches, summary.passed, summary.dead_lettered, summary.malformed) == (
        8, 2, 6, 2, 1,
    )  # fmt: skip
    assert summary.late_dropped == 1  # the ETH whale at 00:01:00
    assert summary.as_of == WHALE_AS_OF


def test_the_command_line_replays_the_same_bytes_and_set_threshold_changes_the_whales(
    whales_replayed: tuple[Path, ReplaySummary, dict[str, Rows]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first_out, _, _ = whales_replayed
    recording = tmp_path / "trades.jsonl"
    recording.write_text("\n".join(WHALE_RECORDING) + "\n")

    # The same recording again: byte for byte the same files.
    assert run_cli(["whale-detector", "--input", str(recording), "--out", str(tmp_path / "again")]) == 0
    for name in ("whale_trades.jsonl", "alerts.jsonl", "dlq.jsonl"):
        assert (tmp_path / "again" / name).read_bytes() == (first_out / name).read_bytes()
    # (The quality step may log WARN-check counts to stderr too.)
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("replay ")]
    assert err[1:] == [
        f"replay whale-detector: 2 rows in {tmp_path / 'again' / 'whale_trades.jsonl'}",
        f"replay whale-detector: 2 rows in {tmp_path / 'again' / 'alerts.jsonl'}",
        f"replay whale-detector: 2 rows in {tmp_path / 'again' / 'dlq.jsonl'}",
    ]
    assert "1 late row dropped behind the 2 minutes watermark" in err[0]

    # Threshold 50,000: the trade of exactly 100,000 is now a whale (2x), BTC 150k is 3x, SOL 200k is 4x;
    # the late ETH whale is still late.
    out = tmp_path / "50k"
    argv = ["whale-detector", "--input", str(recording), "--out", str(out), "--set", "threshold=50000", "--json"]
    assert run_cli(argv) == 0
    assert read_outputs(out)["whale_trades.jsonl"] == [
        whale("coinbase", "SOL-USDT", "5", 200.0, 1_000.0, "00:04:00.000", 50_000.0, 4.0),
        whale("binance", "BTC-USDT", "1", 50_000.0, 2.0, "00:05:00.000", 50_000.0, 2.0),
        whale("binance", "BTC-USDT", "2", 60_000.0, 2.5, "00:05:01.123456", 50_000.0, 3.0),
    ]
    summary = json.loads(capsys.readouterr().out)
    assert summary["settings"]["whale_threshold"] == 50_000.0
    assert summary["outputs"] == {"whale_trades.jsonl": 3, "alerts.jsonl": 3, "dlq.jsonl": 2}
    assert summary["late_dropped"] == 1


# ---------------------------------------------------------------- raw-archiver


def test_raw_archiver_replay_archives_valid_trades_once_late_ones_included(spark: SparkSession, tmp_path: Path) -> None:
    no_price = json.loads(trade("binance", "BTC-USDT", "7", 100.0, 1.0, "00:03:00.000"))
    del no_price["price"]
    no_price_line = json.dumps(no_price)
    recording = [
        trade("binance", "BTC-USDT", "1", 100.0, 2.0, "00:02:00.000"),
        trade("binance", "BTC-USDT", "1", 100.0, 2.0, "00:02:00.000", "00:02:01.000"),  # re-sent: archived once
        "{not json",
        no_price_line,
        # Twelve minutes behind the others: raw-archiver has no watermark and archives it.
        trade("coinbase", "ETH-USDT", "5", 3_000.0, 0.5, "2023-12-31T23:50:00.000Z", "00:02:30.000"),
    ]
    summary, outputs = replay(spark, tmp_path, "raw-archiver", recording)
    as_of = at("00:03:00.100")

    def raw(
        exchange: str, symbol: str, trade_id: str, price: float, quantity: float, time: str, arrived: str
    ) -> object:
        return {
            "event_id": f"{exchange}:{symbol}:{trade_id}", "exchange": exchange, "symbol": symbol,
            "trade_id": trade_id, "price": price, "quantity": quantity, "quote_volume": price * quantity,
            "side": "buy", "trade_time": time, "ingested_at": arrived, "schema_version": 1,
            "kinesis_sequence_number": None, "archived_at": as_of,
        }  # fmt: skip

    assert outputs["raw_trades.jsonl"] == [
        raw("coinbase", "ETH-USDT", "5", 3_000.0, 0.5, "2023-12-31T23:50:00.000Z", at("00:02:30.000")),
        raw("binance", "BTC-USDT", "1", 100.0, 2.0, at("00:02:00.000"), at("00:02:00.100")),
    ]
    assert outputs["dlq.jsonl"] == [
        {"reason": "malformed", "checks_failed": ["malformed"], "record": "{not json"},
        # No price: completeness and validity fail (NULL is a failure), and the WARN consistency check too.
        {
            "reason": "completeness_price",
            "checks_failed": ["completeness_price", "validity_price_positive", "consistency_quote_volume"],
            "record": no_price_line,
        },
    ]
    assert (summary.records, summary.micro_batches, summary.passed, summary.dead_lettered) == (5, 1, 3, 2)
    assert summary.watermark is None
    assert "late trades are archived too" in summary.lines()[0]


# ---------------------------------------------------------------- the quality step on a stream


def test_the_stream_filter_keeps_exactly_the_rows_validate_keeps(spark: SparkSession) -> None:
    now = datetime(2024, 1, 1, 0, 10, tzinfo=UTC)
    checker = default_checker(spark, JobConfig(job="replay-test"), clock=lambda: now)
    texts = [
        trade("binance", "BTC-USDT", "1", 100.0, 1.0, "00:09:00.000"),  # valid
        trade("binance", "BTC-USDT", "2", 100.0, 1.0, "00:01:00.000"),  # late: a WARN, still valid
        trade("binance", "BTC-USDT", "3", 100.0, 1.0, "00:09:00.000", quote_volume=200.0),  # WARN only
        trade("binance", "BTC-USDT", "4", -1.0, 1.0, "00:09:00.000"),  # ERROR
        trade("kraken", "BTC-USDT", "5", 100.0, 1.0, "00:09:00.000"),  # ERROR
        "[1, 2]",  # malformed
    ]
    parsed = parse_trades(spark.createDataFrame([(t,) for t in texts], "data string"))
    with checker.validated(parsed) as (valid, _, _):
        assertDataFrameEqual(valid_rows(parsed, checker, now), valid)
        assert valid.count() == 3
