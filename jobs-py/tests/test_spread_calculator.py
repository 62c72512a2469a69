"""spread-calculator: VWAPs per exchange, the spread and its threshold, window bounds, and the stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from coattail_jobs.config import JobConfig
from coattail_jobs.jobs.spread_calculator import spread_records
from coattail_jobs.schemas import SPREAD_RECORD, TRADE

from .streams import TradeRow, drop_json_file

T0 = datetime(2024, 1, 1, tzinfo=UTC)
CONFIG = JobConfig(job="spread-calculator")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def trade(exchange: str, symbol: str, trade_id: str, price: float, quantity: float, seconds: float) -> TradeRow:
    # quote_volume is price x quantity; every pair below is chosen so that the product is exact.
    return (
        f"{exchange}:{symbol}:{trade_id}", exchange, symbol, trade_id, price, quantity, price * quantity, "buy",
        at(seconds), at(seconds + 1),
    )  # fmt: skip


def spread(
    start: float,
    symbol: str,
    high: tuple[str, float],
    low: tuple[str, float],
    spread_pct: float,
    binance_trades: int,
    coinbase_trades: int,
    is_alert: bool,
    threshold_pct: float = 0.5,
) -> tuple[object, ...]:
    """The expected SPREAD_RECORD row of the 30-second window starting ``start`` seconds after T0."""
    return (
        at(start), at(start + 30), symbol, high[0], low[0], high[1], low[1], spread_pct,
        binance_trades, coinbase_trades, is_alert, threshold_pct,
    )  # fmt: skip


def spreads(spark: SparkSession, rows: list[TradeRow], config: JobConfig = CONFIG) -> DataFrame:
    return spark.createDataFrame(rows, TRADE).transform(spread_records(config))


def test_vwaps_weigh_trades_by_quantity_and_only_spreads_above_the_threshold_alert(spark: SparkSession) -> None:
    trades = [
        # BTC: binance (60,000 x 1 + 60,300 x 3) / 4 = 240,900 / 4 = 60,225 (the plain mean would be 60,150);
        # coinbase (60,000 x 0.5 + 59,900 x 1.5) / 2 = 119,850 / 2 = 59,925.
        # spread 300 / ((60,225 + 59,925) / 2) = 300 / 60,075 = 0.49938 %: just under 0.5.
        trade("binance", "BTC-USDT", "1", 60_000.0, 1.0, 1),
        trade("binance", "BTC-USDT", "2", 60_300.0, 3.0, 2),
        trade("coinbase", "BTC-USDT", "1", 60_000.0, 0.5, 3),
        trade("coinbase", "BTC-USDT", "2", 59_900.0, 1.5, 4),
        # ETH: coinbase 3,015.25 above binance 3,000: 15.25 / 3,007.625 = 0.50704 %: just over.
        trade("binance", "ETH-USDT", "1", 3_000.0, 2.0, 5),
        trade("coinbase", "ETH-USDT", "1", 3_015.25, 1.0, 6),
        # SOL: 0.5 / ((100.25 + 99.75) / 2) = 0.5 / 100 = exactly 0.5 %: not above, so no alert.
        trade("binance", "SOL-USDT", "1", 100.25, 4.0, 7),
        trade("coinbase", "SOL-USDT", "1", 99.75, 4.0, 8),
    ]

    actual = spreads(spark, trades)

    expected = [
        spread(0, "BTC-USDT", ("binance", 60_225.0), ("coinbase", 59_925.0), 300 / 60_075 * 100, 2, 2, False),
        spread(0, "ETH-USDT", ("coinbase", 3_015.25), ("binance", 3_000.0), 15.25 / 3_007.625 * 100, 1, 1, True),
        spread(0, "SOL-USDT", ("binance", 100.25), ("coinbase", 99.75), 0.5, 1, 1, False),
    ]
    assertDataFrameEqual(actual, spark.createDataFrame(expected, SPREAD_RECORD))


def test_a_window_needs_both_exchanges_and_equal_vwaps_put_binance_high(spark: SparkSession) -> None:
    trades = [
        # BTC: 60,000 on both (different sizes): spread 0, no alert; the tie reports binance as high.
        trade("coinbase", "BTC-USDT", "1", 60_000.0, 2.0, 10),
        trade("binance", "BTC-USDT", "1", 60_000.0, 1.0, 11),
        # ETH traded only on binance: no spread.
        trade("binance", "ETH-USDT", "1", 3_000.0, 1.0, 12),
        trade("binance", "ETH-USDT", "2", 3_100.0, 1.0, 13),
    ]

    actual = spreads(spark, trades)

    expected = [spread(0, "BTC-USDT", ("binance", 60_000.0), ("coinbase", 60_000.0), 0.0, 1, 1, False)]
    assertDataFrameEqual(actual, spark.createDataFrame(expected, SPREAD_RECORD))


def test_windows_are_30_seconds_and_a_trade_at_30_opens_the_next(spark: SparkSession) -> None:
    trades = [
        trade("binance", "BTC-USDT", "1", 100.0, 1.0, 10),
        trade("coinbase", "BTC-USDT", "1", 100.0, 1.0, 29.999),
        # At exactly :30: the second window. Were it in the first, coinbase's VWAP there would be 150.
        trade("coinbase", "BTC-USDT", "2", 200.0, 1.0, 30),
        trade("binance", "BTC-USDT", "2", 202.0, 1.0, 45),
    ]

    actual = spreads(spark, trades)

    expected = [
        spread(0, "BTC-USDT", ("binance", 100.0), ("coinbase", 100.0), 0.0, 1, 1, False),
        # 2 / ((202 + 200) / 2) = 2 / 201 = 0.995 %
        spread(30, "BTC-USDT", ("binance", 202.0), ("coinbase", 200.0), 2 / 201 * 100, 1, 1, True),
    ]
    assertDataFrameEqual(actual, spark.createDataFrame(expected, SPREAD_RECORD))


def test_a_trade_delivered_twice_counts_once(spark: SparkSession) -> None:
    # binance 101 x 1, delivered twice (a reconnect overlap); coinbase 100 x 1.
    # Counted once: VWAPs 101 and 100, spread = 1 / 100.5 x 100 = 0.995 % (twice would not change the VWAP
    # here, but the trade count would read 2).
    twice = trade("binance", "SOL-USDT", "7", 101.0, 1.0, 3)
    actual = spreads(spark, [twice, twice, trade("coinbase", "SOL-USDT", "9", 100.0, 1.0, 4)])

    expected = [spread(0, "SOL-USDT", ("binance", 101.0), ("coinbase", 100.0), 1 / 100.5 * 100, 1, 1, True)]
    assertDataFrameEqual(actual, spark.createDataFrame(expected, SPREAD_RECORD))


def test_the_threshold_comes_from_the_config(spark: SparkSession) -> None:
    config = JobConfig(job="spread-calculator", spread_threshold_pct=1.0)
    trades = [
        # 2 / 201 = 0.995 %: an alert at 0.5, not at 1.0.
        trade("coinbase", "BTC-USDT", "1", 200.0, 1.0, 1),
        trade("binance", "BTC-USDT", "1", 202.0, 1.0, 2),
    ]

    actual = spreads(spark, trades, config)

    expected = [spread(0, "BTC-USDT", ("binance", 202.0), ("coinbase", 200.0), 2 / 201 * 100, 1, 1, False, 1.0)]
    assertDataFrameEqual(actual, spark.createDataFrame(expected, SPREAD_RECORD))


def test_on_a_stream_each_window_is_emitted_once_after_the_watermark(spark: SparkSession, tmp_path: Path) -> None:
    source = tmp_path / "trades"
    source.mkdir()
    query = (
        spark.readStream.schema(TRADE)
        .json(str(source))
        .transform(spread_records(CONFIG))
        .writeStream.format("memory")
        .queryName("spreads_stream_test")
        .outputMode("append")
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .start()
    )
    # 1 / ((101 + 100) / 2) = 1 / 100.5 = 0.995 %
    first = spread(0, "BTC-USDT", ("coinbase", 101.0), ("binance", 100.0), 1 / 100.5 * 100, 1, 1, True)
    # binance 100 x 1, coinbase (100 x 1 + 100 x 1) / 2 = 100: equal, binance high.
    second = spread(30, "BTC-USDT", ("binance", 100.0), ("coinbase", 100.0), 0.0, 1, 2, False)
    try:
        drop_json_file(
            source,
            "1.json",
            TRADE,
            [
                trade("binance", "BTC-USDT", "1", 100.0, 1.0, 5),
                trade("coinbase", "BTC-USDT", "1", 101.0, 1.0, 10),
                trade("binance", "BTC-USDT", "2", 100.0, 1.0, 40),
                trade("coinbase", "BTC-USDT", "2", 100.0, 1.0, 50),
            ],
        )
        query.processAllAvailable()
        # The watermark (latest 00:00:50 minus 2 minutes) has passed no window end yet.
        assert spark.table("spreads_stream_test").count() == 0

        # 00:02:45 moves the watermark to 00:00:45: past the first window's end (:30), not the second's (1:00).
        drop_json_file(source, "2.json", TRADE, [trade("binance", "BTC-USDT", "3", 100.0, 1.0, 165)])
        query.processAllAvailable()
        assertDataFrameEqual(spark.table("spreads_stream_test"), spark.createDataFrame([first], SPREAD_RECORD))

        # A trade for the closed first window (00:00:20, behind the watermark) is dropped: had it counted,
        # coinbase's VWAP there would be 125.5. One at 00:00:55 is out of order but on time, so it counts.
        # 00:03:10 moves the watermark to 00:01:10, closing the second window.
        drop_json_file(
            source,
            "3.json",
            TRADE,
            [
                trade("coinbase", "BTC-USDT", "3", 150.0, 1.0, 20),
                trade("coinbase", "BTC-USDT", "4", 100.0, 1.0, 55),
                trade("binance", "BTC-USDT", "4", 100.0, 1.0, 190),
            ],
        )
        query.processAllAvailable()
        assertDataFrameEqual(spark.table("spreads_stream_test"), spark.createDataFrame([first, second], SPREAD_RECORD))
    finally:
        query.stop()
