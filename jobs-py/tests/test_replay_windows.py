"""replay: the windowed jobs (volume-anomaly, spread-calculator) over small recordings, every output row
computed by hand: the windows, the flush of the last ones at the end of the input, the alerts.

Recorded trades and outputs as in test_replay.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from .recordings import at, micros, replay, trade

pytestmark = pytest.mark.usefixtures("one_shuffle_partition")


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
