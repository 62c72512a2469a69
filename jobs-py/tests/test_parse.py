"""parse_trades: unified-trade text to columns, Kinesis metadata kept, malformed records flagged not dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pyspark.sql import Row, SparkSession
from pyspark.sql.types import (
    BooleanType,
    DoubleType,
    IntegerType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)
from pyspark.testing import assertDataFrameEqual

from coattail_jobs.parse import parse_trades, to_trades
from coattail_jobs.schemas import RAW_KINESIS_RECORD, TRADE

ARRIVED = datetime(2024, 5, 1, 12, 0, 2, tzinfo=UTC)

BTC = {
    "schema_version": 1,
    "event_id": "binance:BTC-USDT:101",
    "exchange": "binance",
    "symbol": "BTC-USDT",
    "trade_id": "101",
    "price": 64000.5,
    "quantity": 0.25,
    "quote_volume": 16000.125,
    "side": "sell",
    "timestamp": "2024-05-01T12:00:00.123456Z",
    "ingested_at": "2024-05-01T12:00:00.200Z",
}
ETH = {
    "schema_version": 1,
    "event_id": "coinbase:ETH-USDT:7",
    "exchange": "coinbase",
    "symbol": "ETH-USDT",
    "trade_id": "7",
    "price": 3000,  # a JSON integer for a double field is fine
    "quantity": 2.0,
    "quote_volume": 6000.0,
    "side": "buy",
    "timestamp": "2024-05-01T12:00:01.500Z",
    "ingested_at": "2024-05-01T12:00:01.999999Z",
}

PARSED = StructType(
    [
        StructField("record", StringType()),
        StructField("partition_key", StringType()),
        StructField("sequence_number", StringType()),
        StructField("arrival_time", TimestampType()),
        StructField("schema_version", IntegerType()),
        StructField("event_id", StringType()),
        StructField("exchange", StringType()),
        StructField("symbol", StringType()),
        StructField("trade_id", StringType()),
        StructField("price", DoubleType()),
        StructField("quantity", DoubleType()),
        StructField("quote_volume", DoubleType()),
        StructField("side", StringType()),
        StructField("trade_time", TimestampType()),
        StructField("ingested_at", TimestampType()),
        StructField("is_malformed", BooleanType()),
    ]
)


def rows(columns: str, *values: tuple[object, ...]) -> list[Row]:
    """Expected rows, named like the actual ones (assertDataFrameEqual sorts both by their text)."""
    names = columns.split()
    return [Row(**dict(zip(names, v, strict=True))) for v in values]


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int, micros: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, micros, tzinfo=UTC)


def test_fields_become_columns_times_become_microsecond_timestamps_and_kinesis_metadata_stays(
    spark: SparkSession,
) -> None:
    btc, eth = json.dumps(BTC), json.dumps(ETH)
    raw = spark.createDataFrame([(btc, "BTC-USDT", "1", ARRIVED), (eth, "ETH-USDT", "2", ARRIVED)], RAW_KINESIS_RECORD)

    actual = parse_trades(raw)

    # Microseconds as written (123456, 999999), milliseconds as microseconds (200 -> 200000).
    expected = spark.createDataFrame(
        [
            (btc, "BTC-USDT", "1", ARRIVED, 1, "binance:BTC-USDT:101", "binance", "BTC-USDT", "101",
             64000.5, 0.25, 16000.125, "sell", utc(2024, 5, 1, 12, 0, 0, 123456), utc(2024, 5, 1, 12, 0, 0, 200000),
             False),
            (eth, "ETH-USDT", "2", ARRIVED, 1, "coinbase:ETH-USDT:7", "coinbase", "ETH-USDT", "7",
             3000.0, 2.0, 6000.0, "buy", utc(2024, 5, 1, 12, 0, 1, 500000), utc(2024, 5, 1, 12, 0, 1, 999999),
             False),
        ],
        PARSED,
    )  # fmt: skip
    assertDataFrameEqual(actual, expected)


def test_malformed_records_are_flagged_with_no_trade_and_their_text_kept(spark: SparkSession) -> None:
    malformed = [
        "not json",
        "",
        "[1, 2]",
        "42",
        "null",
        json.dumps([BTC]),  # an array holding a trade is still not a trade
        json.dumps({**BTC, "price": "64000.5"}),  # a number sent as a string
        json.dumps({**BTC, "schema_version": 1.5}),
        '{"price": NaN}',
        '{"quantity": 1e400}',  # beyond a float64
        json.dumps({**BTC, "timestamp": "2024-05-01 12:00:00"}),  # not ISO-8601 with a zone
        json.dumps({**BTC, "timestamp": "2024-05-01T12:00:00.123456789Z"}),  # nanoseconds: not the schema
        json.dumps({**BTC, "ingested_at": "yesterday"}),
    ]
    incomplete = [
        "{}",  # an object with nothing in it: not malformed, every field missing (the checks' business)
        json.dumps({"symbol": "SOL-USDT", "price": None}),
    ]
    raw = spark.createDataFrame([(t,) for t in [*malformed, *incomplete]] + [(None,)], "data string")

    actual = parse_trades(raw).select("record", "is_malformed", "event_id", "symbol", "price", "trade_time")

    expected = rows(
        "record is_malformed event_id symbol price trade_time",
        *[(t, True, None, None, None, None) for t in malformed],
        ("{}", False, None, None, None, None),
        (incomplete[1], False, None, "SOL-USDT", None, None),
        (None, True, None, None, None, None),
    )
    assertDataFrameEqual(actual, expected)


def test_to_trades_gives_the_trade_shape(spark: SparkSession) -> None:
    raw = spark.createDataFrame([(json.dumps(BTC),)], "data string")

    trades = to_trades(parse_trades(raw))

    assert [(f.name, f.dataType) for f in trades.schema.fields] == [(f.name, f.dataType) for f in TRADE.fields]
    expected = spark.createDataFrame(
        [("binance:BTC-USDT:101", "binance", "BTC-USDT", "101", 64000.5, 0.25, 16000.125, "sell",
          utc(2024, 5, 1, 12, 0, 0, 123456), utc(2024, 5, 1, 12, 0, 0, 200000))],
        TRADE,
    )  # fmt: skip
    assertDataFrameEqual(trades, expected)


def test_a_custom_text_column_of_bytes_and_clashing_columns(spark: SparkSession) -> None:
    raw = spark.createDataFrame([(bytearray(json.dumps(ETH).encode()), "x")], "value binary, symbol string")

    with pytest.raises(ValueError, match="no column 'data'"):
        parse_trades(raw)
    with pytest.raises(ValueError, match=r"\['symbol'\] would clash"):
        parse_trades(raw, data_col="value")
    parsed = parse_trades(raw.drop("symbol"), data_col="value")
    assert parsed.dtypes[0] == ("record", "string")
    assert parsed.select("record", "event_id").first() == (json.dumps(ETH), "coinbase:ETH-USDT:7")
