"""Alerts: job outputs as schemas.ALERT rows (ids, times, headlines, details) and as DynamoDB items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from coattail_jobs.alerts import (
    alert_to_dynamo_item,
    anomaly_alerts_to_alerts,
    spread_alerts_to_alerts,
    whale_alerts_to_alerts,
)
from coattail_jobs.schemas import ALERT, ANOMALY_ALERT, SPREAD_RECORD, WHALE_ALERT


def utc(minute: int, second: int, microsecond: int = 0) -> datetime:
    return datetime(2024, 1, 1, 0, minute, second, microsecond, tzinfo=UTC)


DETECTED = utc(2, 3, 456_789)

WHALE_BTC = (
    "whale:binance:BTC-USDT:42", "binance:BTC-USDT:42", "binance", "BTC-USDT", "BTC", "USDT", "42",
    60_000.0, 2.5, 150_000.0, "buy", utc(0, 5, 123_456), 100_000.0, 1.5, DETECTED,
)  # fmt: skip
WHALE_SOL = (
    "whale:coinbase:SOL-USDT:7", "coinbase:SOL-USDT:7", "coinbase", "SOL-USDT", "SOL", "USDT", "7",
    200.0, 1_000.125, 200_025.0, "sell", utc(0, 6), 100_000.0, 2.00025, DETECTED,
)  # fmt: skip

# 64,200 vs 63,800: 400 / 64,000 = 0.625 %.
SPREAD_ALERT = (
    utc(0, 30), utc(1, 0), "BTC-USDT", "coinbase", "binance", 64_200.0, 63_800.0, 0.625, 3, 2, True, 0.5,
)  # fmt: skip
SPREAD_QUIET = (
    utc(0, 30), utc(1, 0), "ETH-USDT", "binance", "coinbase", 3_001.0, 3_000.0, 0.0333, 1, 1, False, 0.5,
)  # fmt: skip

SPREAD_ALERT_ID = "spread:BTC-USDT:2024-01-01T00:00:30.000Z"
SPREAD_DETAILS = (
    '{"window_start":"2024-01-01T00:00:30.000000Z","window_end":"2024-01-01T00:01:00.000000Z",'
    '"symbol":"BTC-USDT","high_exchange":"coinbase","low_exchange":"binance","high_vwap":64200.0,'
    '"low_vwap":63800.0,"spread_pct":0.625,"binance_trades":3,"coinbase_trades":2,"is_alert":true,'
    '"threshold_pct":0.5}'
)
SPREAD_HEADLINE = "SPREAD BTC-USDT 0.625%: coinbase 64,200.00 > binance 63,800.00 USDT (threshold 0.5%)"


def test_whales_become_alerts_at_their_trade_time(spark: SparkSession) -> None:
    whales = spark.createDataFrame([WHALE_BTC, WHALE_SOL], WHALE_ALERT)

    actual = whale_alerts_to_alerts(whales)

    expected = [
        (
            "whale:binance:BTC-USDT:42", "whale", "BTC-USDT", "binance", utc(0, 5, 123_456), DETECTED,
            "WHALE binance BTC-USDT buy 2.5 BTC @ 60,000.00 = 150,000 USDT (1.5x)",
            '{"alert_id":"whale:binance:BTC-USDT:42","event_id":"binance:BTC-USDT:42","exchange":"binance",'
            '"symbol":"BTC-USDT","base_asset":"BTC","quote_asset":"USDT","trade_id":"42","price":60000.0,'
            '"quantity":2.5,"quote_volume":150000.0,"side":"buy","trade_time":"2024-01-01T00:00:05.123456Z",'
            '"threshold":100000.0,"threshold_multiple":1.5,"detected_at":"2024-01-01T00:02:03.456789Z"}',
        ),
        (
            # 2.00025 shown with two decimals at most: 2.
            "whale:coinbase:SOL-USDT:7", "whale", "SOL-USDT", "coinbase", utc(0, 6), DETECTED,
            "WHALE coinbase SOL-USDT sell 1,000.125 SOL @ 200.00 = 200,025 USDT (2x)",
            '{"alert_id":"whale:coinbase:SOL-USDT:7","event_id":"coinbase:SOL-USDT:7","exchange":"coinbase",'
            '"symbol":"SOL-USDT","base_asset":"SOL","quote_asset":"USDT","trade_id":"7","price":200.0,'
            '"quantity":1000.125,"quote_volume":200025.0,"side":"sell","trade_time":"2024-01-01T00:00:06.000000Z",'
            '"threshold":100000.0,"threshold_multiple":2.00025,"detected_at":"2024-01-01T00:02:03.456789Z"}',
        ),
    ]  # fmt: skip
    assertDataFrameEqual(actual, spark.createDataFrame(expected, ALERT))


def test_spread_alerts_are_the_alerting_windows_at_their_end(spark: SparkSession) -> None:
    spreads = spark.createDataFrame([SPREAD_ALERT, SPREAD_QUIET], SPREAD_RECORD)

    actual = spread_alerts_to_alerts(spreads, detected_at=DETECTED)

    expected = [
        (SPREAD_ALERT_ID, "spread", "BTC-USDT", "coinbase", utc(1, 0), DETECTED, SPREAD_HEADLINE, SPREAD_DETAILS)
    ]
    assertDataFrameEqual(actual, spark.createDataFrame(expected, ALERT))


def test_alert_ids_and_details_are_utc_whatever_the_session_time_zone(spark: SparkSession) -> None:
    spreads = spark.createDataFrame([SPREAD_ALERT], SPREAD_RECORD)
    zone = spark.conf.get("spark.sql.session.timeZone")
    assert zone is not None
    spark.conf.set("spark.sql.session.timeZone", "Asia/Kolkata")  # UTC+05:30
    try:
        [row] = spread_alerts_to_alerts(spreads, detected_at=DETECTED).select("alert_id", "details").collect()
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
    assert (row.alert_id, row.details) == (SPREAD_ALERT_ID, SPREAD_DETAILS)


def test_volume_anomalies_keep_their_id_and_alert_at_the_window_end(spark: SparkSession) -> None:
    # z = (1,500,000 - 400,000) / 250,000 = 4.4
    anomaly = (
        "volume_anomaly:binance:ETH-USDT:2024-01-01T00:05:00.000Z", utc(5, 0), utc(6, 0), "ETH-USDT", "binance",
        1_500_000.0, 42, 400_000.0, 250_000.0, 12, 4.4, 2.5, DETECTED,
    )  # fmt: skip

    actual = anomaly_alerts_to_alerts(spark.createDataFrame([anomaly], ANOMALY_ALERT))

    expected = [
        (
            "volume_anomaly:binance:ETH-USDT:2024-01-01T00:05:00.000Z", "volume_anomaly", "ETH-USDT", "binance",
            utc(6, 0), DETECTED,
            "VOLUME_ANOMALY binance ETH-USDT 1,500,000 USDT in 60s (42 trades), z=4.4 > 2.5, "
            "baseline 400,000 over 12 windows",
            '{"alert_id":"volume_anomaly:binance:ETH-USDT:2024-01-01T00:05:00.000Z",'
            '"window_start":"2024-01-01T00:05:00.000000Z","window_end":"2024-01-01T00:06:00.000000Z",'
            '"symbol":"ETH-USDT","exchange":"binance","total_quote_volume":1500000.0,"trade_count":42,'
            '"baseline_mean":400000.0,"baseline_std":250000.0,"baseline_windows":12,"z_score":4.4,'
            '"threshold":2.5,"detected_at":"2024-01-01T00:02:03.456789Z"}',
        )
    ]  # fmt: skip
    assertDataFrameEqual(actual, spark.createDataFrame(expected, ALERT))


SPREAD_ITEM = {
    "alert_id": SPREAD_ALERT_ID,
    "alert_type": "spread",
    "alert_time": "2024-01-01T00:01:00.000Z",
    "detected_at": "2024-01-01T00:02:03.456Z",  # milliseconds, truncated
    "symbol": "BTC-USDT",
    "exchange": "coinbase",
    "headline": SPREAD_HEADLINE,
    "window_start": "2024-01-01T00:00:30.000000Z",
    "window_end": "2024-01-01T00:01:00.000000Z",
    "high_exchange": "coinbase",
    "low_exchange": "binance",
    "high_vwap": Decimal("64200.0"),
    "low_vwap": Decimal("63800.0"),
    "spread_pct": Decimal("0.625"),
    "binance_trades": 3,
    "coinbase_trades": 2,
    "is_alert": True,
    "threshold_pct": Decimal("0.5"),
}


def spread_alert_row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "alert_id": SPREAD_ALERT_ID,
        "alert_type": "spread",
        "symbol": "BTC-USDT",
        "exchange": "coinbase",
        "alert_time": utc(1, 0),
        "detected_at": DETECTED,
        "headline": SPREAD_HEADLINE,
        "details": SPREAD_DETAILS,
    }
    return {**row, **changes}


def test_a_dynamo_item_holds_the_keys_and_the_alerts_own_fields() -> None:
    item = alert_to_dynamo_item(spread_alert_row())

    assert item == SPREAD_ITEM
    assert all(not isinstance(value, float) for value in item.values())  # DynamoDB refuses floats


def test_dynamo_times_are_utc_and_a_null_exchange_is_left_out() -> None:
    paris = timezone(timedelta(hours=1))
    item = alert_to_dynamo_item(spread_alert_row(exchange=None, alert_time=datetime(2024, 1, 1, 1, 1, tzinfo=paris)))

    assert item["alert_time"] == "2024-01-01T00:01:00.000Z"
    assert "exchange" not in item


def test_a_collected_spark_row_becomes_the_same_item(spark: SparkSession) -> None:
    # collect() gives naive local datetimes; the item must still carry UTC.
    spreads = spark.createDataFrame([SPREAD_ALERT], SPREAD_RECORD)
    [row] = spread_alerts_to_alerts(spreads, detected_at=DETECTED).collect()

    assert alert_to_dynamo_item(row.asDict()) == SPREAD_ITEM


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"details": '{"spread_pct": NaN}'}, ValueError),
        ({"details": "[1, 2]"}, ValueError),
        ({"details": '{"nested": {"a": 1}}'}, ValueError),
        ({"alert_type": "rumour"}, ValueError),
        ({"alert_time": "2024-01-01T00:01:00Z"}, TypeError),
        ({"alert_id": None}, TypeError),
    ],
)
def test_a_malformed_alert_row_is_refused(changes: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        alert_to_dynamo_item(spread_alert_row(**changes))
