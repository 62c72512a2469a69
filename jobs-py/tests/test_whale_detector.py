"""whale-detector: the strict threshold, the enrichment, deduplication, and the same transform on a stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from coattail_jobs.config import JobConfig
from coattail_jobs.jobs.whale_detector import whale_trades
from coattail_jobs.schemas import TRADE, WHALE_ALERT

from .streams import TradeRow, drop_json_file

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DETECTED = datetime(2024, 1, 1, 0, 10, tzinfo=UTC)
CONFIG = JobConfig(job="whale-detector")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def trade(
    exchange: str,
    symbol: str,
    trade_id: str,
    price: float,
    quantity: float,
    quote_volume: float,
    seconds: float,
    side: str = "buy",
) -> TradeRow:
    return (
        f"{exchange}:{symbol}:{trade_id}", exchange, symbol, trade_id, price, quantity, quote_volume, side,
        at(seconds), at(seconds + 1),
    )  # fmt: skip


def whale(t: TradeRow, base: str, quote: str, threshold: float, multiple: float) -> tuple[object, ...]:
    """The expected WHALE_ALERT row for trade ``t``: the enrichment is given by hand."""
    event_id, exchange, symbol, trade_id, price, quantity, quote_volume, side, trade_time, _ = t
    return (
        f"whale:{event_id}", event_id, exchange, symbol, base, quote, trade_id, price, quantity, quote_volume,
        side, trade_time, threshold, multiple, DETECTED,
    )  # fmt: skip


def detect(spark: SparkSession, rows: list[TradeRow], config: JobConfig = CONFIG) -> DataFrame:
    return spark.createDataFrame(rows, TRADE).transform(whale_trades(config, detected_at=DETECTED))


def test_exactly_the_threshold_is_not_a_whale_a_cent_more_is(spark: SparkSession) -> None:
    at_threshold = trade("binance", "BTC-USDT", "1", 50_000.0, 2.0, 100_000.0, 5)
    a_cent_over = trade("binance", "BTC-USDT", "2", 50_000.005, 2.0, 100_000.01, 6)
    small = trade("coinbase", "BTC-USDT", "3", 50_000.0, 0.1, 5_000.0, 7)

    actual = detect(spark, [at_threshold, a_cent_over, small])

    # 100,000.01 / 100,000 = 1.0000001
    expected = spark.createDataFrame([whale(a_cent_over, "BTC", "USDT", 100_000.0, 1.0000001)], WHALE_ALERT)
    assertDataFrameEqual(actual, expected, rtol=0, atol=1e-12)


def test_whales_carry_their_assets_and_the_multiple_of_the_threshold_once(spark: SparkSession) -> None:
    eth = trade("coinbase", "ETH-USDT", "77", 3_000.0, 50.0, 150_000.0, 10, side="sell")
    sol = trade("binance", "SOL-USDT", "9", 200.0, 2_000.0, 400_000.0, 11)

    actual = detect(spark, [eth, sol, eth])  # the second eth: a reconnect overlap re-sent it

    expected = spark.createDataFrame(
        [
            whale(eth, "ETH", "USDT", 100_000.0, 1.5),  # 150,000 / 100,000
            whale(sol, "SOL", "USDT", 100_000.0, 4.0),  # 400,000 / 100,000
        ],
        WHALE_ALERT,
    )
    assertDataFrameEqual(actual, expected, rtol=0, atol=1e-12)


def test_the_threshold_comes_from_the_config(spark: SparkSession) -> None:
    config = JobConfig(job="whale-detector", whale_threshold=250_000.0)
    under = trade("binance", "BTC-USDT", "1", 50_000.0, 4.0, 200_000.0, 1)
    over = trade("binance", "BTC-USDT", "2", 60_000.0, 5.0, 300_000.0, 2)

    actual = detect(spark, [under, over], config)

    expected = spark.createDataFrame([whale(over, "BTC", "USDT", 250_000.0, 1.2)], WHALE_ALERT)  # 300k / 250k
    assertDataFrameEqual(actual, expected, rtol=0, atol=1e-12)


def test_on_a_stream_whales_are_emitted_once_and_late_ones_dropped(spark: SparkSession, tmp_path: Path) -> None:
    source = tmp_path / "trades"
    source.mkdir()
    trades = spark.readStream.schema(TRADE).json(str(source))
    query = (
        trades.transform(whale_trades(CONFIG, detected_at=DETECTED))
        .writeStream.format("memory")
        .queryName("whales_stream_test")
        .outputMode("append")
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .start()
    )
    first = trade("binance", "BTC-USDT", "1", 60_000.0, 2.5, 150_000.0, 120)
    newest = trade("binance", "SOL-USDT", "4", 200.0, 1_000.0, 200_000.0, 210)
    late = trade("coinbase", "BTC-USDT", "2", 60_000.0, 3.0, 180_000.0, 60)
    on_time = trade("coinbase", "ETH-USDT", "3", 3_000.0, 40.0, 120_000.0, 105)
    first_whale = whale(first, "BTC", "USDT", 100_000.0, 1.5)  # 150k / 100k
    newest_whale = whale(newest, "SOL", "USDT", 100_000.0, 2.0)  # 200k / 100k
    on_time_whale = whale(on_time, "ETH", "USDT", 100_000.0, 1.2)  # 120k / 100k

    def emitted() -> DataFrame:
        return spark.table("whales_stream_test")

    try:
        # A whale at 00:02:00, its reconnect duplicate, a small trade, and a whale at 00:03:30: the watermark
        # (it follows whales) moves to 00:01:30.
        small = trade("binance", "BTC-USDT", "9", 60_000.0, 0.1, 6_000.0, 130)
        drop_json_file(source, "1.json", TRADE, [first, first, small, newest])
        query.processAllAvailable()
        assertDataFrameEqual(emitted(), spark.createDataFrame([first_whale, newest_whale], WHALE_ALERT))

        # The first whale replayed (on time, so the state recognises it); a whale at 00:01:00, behind the
        # watermark: dropped; one at 00:01:45, out of order but ahead of it: emitted.
        drop_json_file(source, "2.json", TRADE, [first, late, on_time])
        query.processAllAvailable()
        assertDataFrameEqual(emitted(), spark.createDataFrame([first_whale, newest_whale, on_time_whale], WHALE_ALERT))
    finally:
        query.stop()
