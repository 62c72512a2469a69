"""replay: each job over a small recording, every output row computed by hand; settings, batches, the flush.

Recorded trades are written as the producer writes them (``trade``); a replay's files are read back as
lists of dicts and compared whole. Timestamps in the files are ISO-8601 UTC with milliseconds, or
microseconds where the value has them. The replay clock (``detected_at``, ``archived_at``) is the newest
``ingested_at`` of the recording.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from coattail_jobs.config import JobConfig, interval_micros
from coattail_jobs.parse import parse_trades
from coattail_jobs.quality import default_checker
from coattail_jobs.replay import outputs as replay_outputs
from coattail_jobs.replay.cli import add_replay_parser
from coattail_jobs.replay.planner import BatchPlanner
from coattail_jobs.replay.runner import FLUSH_SYMBOL, replay_config, run_replay, valid_rows
from coattail_jobs.replay.summary import ReplaySummary

Rows = list[dict[str, object]]


def at(clock: str) -> str:
    """A time on 2024-01-01 as the producer writes it: ``at("00:05:01.123")``; a full ISO time stays as is."""
    return clock if "T" in clock else f"2024-01-01T{clock}Z"


def trade(
    exchange: str,
    symbol: str,
    trade_id: str,
    price: float,
    quantity: float,
    time: str,
    arrived: str | None = None,
    quote_volume: float | None = None,
) -> str:
    """One recorded unified trade (a line of the recording); it arrives 100 ms after it happened unless told."""
    if arrived is None:
        assert time.endswith(".000"), "give the arrival of a trade with a fraction of a second"
        arrived = time[: -len(".000")] + ".100"
    return json.dumps(
        {
            "schema_version": 1,
            "event_id": f"{exchange}:{symbol}:{trade_id}",
            "exchange": exchange,
            "symbol": symbol,
            "trade_id": trade_id,
            "price": price,
            "quantity": quantity,
            "quote_volume": price * quantity if quote_volume is None else quote_volume,
            "side": "buy",
            "timestamp": at(time),
            "ingested_at": at(arrived),
        }
    )


def read_outputs(out: Path) -> dict[str, Rows]:
    return {
        path.name: [json.loads(line) for line in path.read_text().splitlines()] for path in sorted(out.glob("*.jsonl"))
    }


def replay(
    spark: SparkSession, folder: Path, job: str, lines: list[str], *settings: str
) -> tuple[ReplaySummary, dict[str, Rows]]:
    recording = folder / "trades.jsonl"
    recording.write_text("\n".join(lines) + "\n")
    out = folder / "out"
    summary = run_replay(spark, replay_config(job, settings), recording, out)
    outputs = read_outputs(out)
    for name, rows in outputs.items():
        assert FLUSH_SYMBOL not in (out / name).read_text(), f"the end-of-input trade leaked into {name}"
        assert len(rows) == summary.outputs[name]
    return summary, outputs


@pytest.fixture(scope="module", autouse=True)
def one_shuffle_partition(spark: SparkSession) -> Iterator[None]:
    """Streaming queries fix their state partitions when they start: one keeps the replays light on 2 cores."""
    before = str(spark.conf.get("spark.sql.shuffle.partitions"))
    spark.conf.set("spark.sql.shuffle.partitions", "1")
    yield
    spark.conf.set("spark.sql.shuffle.partitions", before)


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


def micros(row: dict[str, object], *names: str) -> dict[str, object]:
    """``row`` with the named timestamps in six-digit form, as alert details carry them."""
    return {k: f"{v[:-1]}000Z" if k in names and isinstance(v, str) and len(v) == 24 else v for k, v in row.items()}


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


def run_cli(argv: list[str]) -> int:
    """``python -m coattail_jobs replay ...`` in-process, through the parser the package entry point adds."""
    parser = argparse.ArgumentParser(prog="coattail_jobs")
    add_replay_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["replay", *argv])
    result = args.handler(args)
    assert isinstance(result, int)
    return result


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


# ---------------------------------------------------------------- volume-anomaly

# One binance BTC-USDT trade per minute, at 10 s past, quantity 1 (so a window's quote volume is its
# price). Minutes 0-9: 115, 85, 115, 85, 100 x 6: mean 1,000 / 10 = 100, squared deviations 4 x 225 =
# 900, sample variance 900 / 9 = 100, std 10. Minute 10: 130, z = (130 - 100) / 10 = 3.0 > 2.5.
BASELINE = [115.0, 85.0, 115.0, 85.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0]
VOLUME_RECORDING = [
    *(trade("binance", "BTC-USDT", str(m), price, 1.0, f"00:{m:02d}:10.000") for m, price in enumerate(BASELINE)),
    '{"schema_version": 1, "price": "abc"}',  # a price as text: malformed
    trade("binance", "BTC-USDT", "10", 130.0, 1.0, "00:10:10.000"),
]
VOLUME_AS_OF = at("00:10:10.100")


def window(m: int, price: float) -> dict[str, object]:
    """The expected volume_aggregates row of the one-trade window at minute ``m``."""
    return {
        "window_start": at(f"00:{m:02d}:00.000"),
        "window_end": at(f"00:{m + 1:02d}:00.000"),
        "symbol": "BTC-USDT",
        "exchange": "binance",
        "trade_count": 1,
        "total_volume": 1.0,
        "total_quote_volume": price,
        "vwap": price,
        "min_price": price,
        "max_price": price,
    }


def test_volume_anomaly_replay_flushes_the_last_window_and_raises_the_spike(
    spark: SparkSession, tmp_path: Path
) -> None:
    summary, outputs = replay(spark, tmp_path, "volume-anomaly", VOLUME_RECORDING)
    # Every window, minute 10 included: the input ends at 00:10:10, so its own watermark (00:08:10)
    # would leave minutes 8, 9 and 10 open; the end-of-input trade closes them.
    assert outputs["volume_aggregates.jsonl"] == [
        *(window(m, price) for m, price in enumerate(BASELINE)),
        window(10, 130.0),
    ]
    anomaly = {
        "alert_id": "volume_anomaly:binance:BTC-USDT:2024-01-01T00:10:00.000Z",
        "window_start": at("00:10:00.000"),
        "window_end": at("00:11:00.000"),
        "symbol": "BTC-USDT",
        "exchange": "binance",
        "total_quote_volume": 130.0,
        "trade_count": 1,
        "baseline_mean": 100.0,
        "baseline_std": 10.0,
        "baseline_windows": 10,
        "z_score": 3.0,
        "threshold": 2.5,
        "detected_at": VOLUME_AS_OF,
    }
    assert outputs["anomalies.jsonl"] == [anomaly]
    [alert] = outputs["alerts.jsonl"]
    assert json.loads(str(alert.pop("details"))) == micros(anomaly, "window_start", "window_end", "detected_at")
    assert alert == {
        "alert_id": anomaly["alert_id"],
        "alert_type": "volume_anomaly",
        "symbol": "BTC-USDT",
        "exchange": "binance",
        "alert_time": at("00:11:00.000"),
        "detected_at": VOLUME_AS_OF,
        "headline": (
            "VOLUME_ANOMALY binance BTC-USDT 130 USDT in 60s (1 trades), z=3 > 2.5, baseline 100 over 10 windows"
        ),
    }
    assert outputs["dlq.jsonl"] == [
        {"reason": "malformed", "checks_failed": ["malformed"], "record": '{"schema_version": 1, "price": "abc"}'}
    ]
    assert (summary.micro_batches, summary.late_dropped) == (1, 0)  # in order: one batch, nothing late


def test_volume_anomaly_threshold_3_makes_a_z_of_3_no_anomaly(spark: SparkSession, tmp_path: Path) -> None:
    # z = 3.0 is not strictly above 3.0; min_periods 10 is the default, and all ten windows count.
    summary, outputs = replay(spark, tmp_path, "volume-anomaly", VOLUME_RECORDING, "threshold=3.0")
    assert len(outputs["volume_aggregates.jsonl"]) == 11
    assert outputs["anomalies.jsonl"] == []
    assert outputs["alerts.jsonl"] == []
    assert summary.settings["anomaly_threshold"] == 3.0


# ---------------------------------------------------------------- spread-calculator


def test_spread_calculator_replay_writes_every_window_and_alerts_above_half_a_percent(
    spark: SparkSession, tmp_path: Path
) -> None:
    recording = [
        # Window 00:00:00-00:00:30: binance 100.5, coinbase 99.5: (100.5 - 99.5) / 100 x 100 = 1.0 % > 0.5.
        trade("binance", "BTC-USDT", "1", 100.5, 1.0, "00:00:05.000"),
        trade("coinbase", "BTC-USDT", "1", 99.5, 1.0, "00:00:06.000"),
        # ETH only on binance: no spread.
        trade("binance", "ETH-USDT", "1", 3_000.0, 1.0, "00:00:07.000"),
        # The last window, 00:00:30-00:01:00: binance (100 x 1 + 100.4 x 1) / 2 = 100.2, coinbase 99.8:
        # 0.4 / 100 x 100 = 0.4 %, no alert.
        trade("binance", "BTC-USDT", "2", 100.0, 1.0, "00:00:35.000"),
        trade("binance", "BTC-USDT", "3", 100.4, 1.0, "00:00:36.000"),
        trade("coinbase", "BTC-USDT", "2", 99.8, 1.0, "00:00:40.000"),
    ]
    summary, outputs = replay(spark, tmp_path, "spread-calculator", recording)
    as_of = at("00:00:40.100")

    def spread(start: str, end: str, high: float, low: float, pct: float, binance: int, alert: bool) -> object:
        return pytest.approx(
            {
                "window_start": at(start),
                "window_end": at(end),
                "symbol": "BTC-USDT",
                "high_exchange": "binance",
                "low_exchange": "coinbase",
                "high_vwap": high,
                "low_vwap": low,
                "spread_pct": pct,
                "binance_trades": binance,
                "coinbase_trades": 1,
                "is_alert": alert,
                "threshold_pct": 0.5,
            },
            rel=1e-12,
        )

    first = spread("00:00:00.000", "00:00:30.000", 100.5, 99.5, 1.0, 1, True)
    assert outputs["spreads.jsonl"] == [first, spread("00:00:30.000", "00:01:00.000", 100.2, 99.8, 0.4, 2, False)]
    [alert] = outputs["alerts.jsonl"]
    assert json.loads(str(alert.pop("details"))) == micros(outputs["spreads.jsonl"][0], "window_start", "window_end")
    assert alert == {
        "alert_id": "spread:BTC-USDT:2024-01-01T00:00:00.000Z",
        "alert_type": "spread",
        "symbol": "BTC-USDT",
        "exchange": "binance",
        "alert_time": at("00:00:30.000"),
        "detected_at": as_of,
        "headline": "SPREAD BTC-USDT 1%: binance 100.50 > coinbase 99.50 USDT (threshold 0.5%)",
    }
    assert outputs["dlq.jsonl"] == []
    assert summary.outputs == {"spreads.jsonl": 2, "alerts.jsonl": 1, "dlq.jsonl": 0}


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


# ---------------------------------------------------------------- pieces


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


def planner_line(time: str | None, arrived: str | None) -> bytes:
    fields = {"timestamp": at(time) if time else None, "ingested_at": at(arrived) if arrived else None}
    return json.dumps({k: v for k, v in fields.items() if v}).encode()


def test_the_recording_is_cut_only_where_a_trade_could_be_late() -> None:
    # Trigger 5 s, watermark 2 min.
    lines = [
        planner_line("00:05:00", "00:05:01"),
        planner_line("00:04:00", "00:05:02"),  # same trigger interval: same batch, whatever its time
        planner_line("00:04:30", "00:05:10"),  # next interval; watermark 00:03:00, 00:04:30 is ahead: merged
        b"garbage",  # no times: stays where it arrived
        planner_line("00:01:00", "00:05:20"),  # behind 00:03:00: a micro-batch of its own starts here
        planner_line("00:06:00", "00:06:00"),  # ahead of the watermark: merged
        planner_line("00:03:45", None),  # arrival unknown: in the interval of the line before it
        # Behind 00:06:00 - 2 min, but in the same interval as 00:06:00: live would not drop it either.
        planner_line("00:03:30", "00:06:01"),
        planner_line("00:04:00", "00:07:00"),  # watermark now 00:04:00; a trade at it is late (<=): cut
        b"   ",  # blank: no record
    ]
    planner = BatchPlanner(interval_micros("5 seconds"), interval_micros("2 minutes"))
    slots = list(planner.slots(lines))
    assert [(len(s.lines), s.starts_batch) for s in slots] == [(2, True), (2, False), (1, True), (3, False), (1, True)]
    assert (planner.records, planner.batches) == (9, 3)
    assert planner.clock == datetime(2024, 1, 1, 0, 7, tzinfo=UTC)  # the newest arrival
    # Without a watermark (raw-archiver) nothing is late: one batch.
    assert sum(s.starts_batch for s in BatchPlanner(interval_micros("5 seconds"), None).slots(lines)) == 1


def test_timestamps_keep_microseconds_only_where_there_are_any() -> None:
    assert replay_outputs.format_timestamp(1_704_067_200_000_000) == "2024-01-01T00:00:00.000Z"
    assert replay_outputs.format_timestamp(1_704_067_200_123_000) == "2024-01-01T00:00:00.123Z"
    assert replay_outputs.format_timestamp(1_704_067_200_123_456) == "2024-01-01T00:00:00.123456Z"


def test_intervals_read_as_spark_reads_them() -> None:
    assert interval_micros("2 minutes") == 120_000_000
    assert interval_micros("1 minute 30 seconds") == 90_000_000
    assert interval_micros("500 milliseconds") == 500_000
    for bad in ("2", "two minutes", "2 fortnights", "", "-1 second"):
        with pytest.raises(ValueError):
            interval_micros(bad)


def test_settings_map_threshold_to_each_jobs_own() -> None:
    assert replay_config("whale-detector", ["threshold=250000"]).whale_threshold == 250_000.0
    assert replay_config("volume-anomaly", ["threshold=3", "min_periods=20"]).anomaly_threshold == 3.0
    assert replay_config("volume-anomaly", ["min_periods=20"]).anomaly_min_periods == 20
    assert replay_config("spread-calculator", ["threshold=0.25"]).spread_threshold_pct == 0.25
    config = replay_config("spread-calculator", ["watermark= 5  minutes", "symbols=btc-usdt, XRP-USDT"])
    assert (config.watermark, config.symbols) == ("5 minutes", ("BTC-USDT", "XRP-USDT"))


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["whale-detector", "--set", "treshold=3"],
            "replay: unknown setting 'treshold' for whale-detector: it takes threshold, whale_threshold, "
            "watermark, symbols, trigger, history_trigger",
        ),
        (
            ["raw-archiver", "--set", "threshold=3"],
            "replay: unknown setting 'threshold' for raw-archiver: it takes symbols, trigger",
        ),
        (
            ["volume-anomaly", "--set", "threshold=high"],
            "replay: bad value for threshold: 'high' is not a number: write it like --set threshold=3.0",
        ),
        (
            ["whale-detector", "--set", "threshold=0"],
            "replay: bad value for threshold: '0' is not above 0: write it like --set threshold=250000",
        ),
        (
            ["volume-anomaly", "--set", "min_periods=2.5"],
            "replay: bad value for min_periods: '2.5' is not a whole number of at least 1: "
            "write it like --set min_periods=10",
        ),
        (
            ["spread-calculator", "--set", "watermark=soon"],
            "replay: bad value for watermark: 'soon' is not an interval like '2 minutes': "
            "write it like --set watermark='5 minutes'",
        ),
        (
            ["spread-calculator", "--set", "symbols=BTCUSDT"],
            "replay: bad value for symbols: 'BTCUSDT' is not BASE-QUOTE: write it like --set symbols=BTC-USDT,ETH-USDT",
        ),
        (["whale-detector", "--set", "threshold"], None),
        (["whale-detektor"], None),
    ],
)
def test_bad_settings_and_jobs_are_one_line_and_exit_2(
    argv: list[str], line: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "trades.jsonl"
    recording.write_text("")
    assert run_cli([*argv, "--input", str(recording), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    if line is not None:
        assert err == [line]
    assert not (tmp_path / "out").exists()


def test_bad_paths_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.jsonl"
    assert run_cli(["whale-detector", "--input", str(missing), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"replay: --input {missing}: no such file: pass a recording of unified trades (NDJSON)"
    ]
    recording = tmp_path / "trades.jsonl"
    recording.write_text("")
    assert run_cli(["whale-detector", "--input", str(recording), "--out", str(recording)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"replay: --out {recording}: is a file, not a folder: pass a folder for the outputs"
    ]


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
