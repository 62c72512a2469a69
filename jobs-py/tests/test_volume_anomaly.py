"""volume-anomaly: the window aggregates, the one-hour baseline rule, and the stateful and batch detectors.

Most baselines are the ten quote volumes BASELINE, in this order:
    115, 85, 115, 85, 100, 100, 100, 100, 100, 100
    mean = 1,000 / 10 = 100; deviations +15, -15, +15, -15 and six 0; squared deviations 4 x 225 = 900;
    sample variance 900 / (10 - 1) = 100; std = 10.
So a window of 130 has z = (130 - 100) / 10 = 3.0 > 2.5, and one of 125 has z = 2.5, not above 2.5.
(In this order every running mean is a whole number, so the floating-point result is exact too.)
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming.query import StreamingQuery
from pyspark.testing import assertDataFrameEqual

from coattail_jobs.config import JobConfig
from coattail_jobs.jobs.volume_anomaly import detect_anomalies, detect_anomalies_batch, volume_aggregates
from coattail_jobs.schemas import ANOMALY_ALERT, TRADE, VOLUME_AGGREGATE

from .streams import TradeRow, drop_json_file

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DETECTED = datetime(2024, 1, 2, tzinfo=UTC)
CONFIG = JobConfig(job="volume-anomaly")
BASELINE = [115.0, 85.0, 115.0, 85.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0]

AggregateRow = tuple[datetime, datetime, str, str, int, float, float, float, float, float]
AlertRow = tuple[str, datetime, datetime, str, str, float, int, float, float, int, float, float, datetime]


def minute(m: int) -> datetime:
    return T0 + timedelta(minutes=m)


def window(symbol: str, exchange: str, m: int, quote_volume: float, trade_count: int = 1) -> AggregateRow:
    """A VOLUME_AGGREGATE row for the window starting at minute ``m``, every trade at price 100."""
    return (
        minute(m), minute(m + 1), symbol, exchange, trade_count, quote_volume / 100.0, quote_volume, 100.0,
        100.0, 100.0,
    )  # fmt: skip


def windows(symbol: str, exchange: str, volumes: dict[int, float]) -> list[AggregateRow]:
    return [window(symbol, exchange, m, v) for m, v in volumes.items()]


def alert(
    symbol: str, exchange: str, m: int, quote_volume: float, mean: float, std: float, n: int, z: float
) -> AlertRow:
    """The expected ANOMALY_ALERT row for the one-trade window at minute ``m``; the statistics given by hand."""
    start = minute(m).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return (
        f"volume_anomaly:{exchange}:{symbol}:{start}", minute(m), minute(m + 1), symbol, exchange, quote_volume, 1,
        mean, std, n, z, 2.5, DETECTED,
    )  # fmt: skip


def following_baseline(symbol: str, exchange: str, last: float) -> list[AggregateRow]:
    """BASELINE at minutes 0-9, then ``last`` at minute 10."""
    return windows(symbol, exchange, {**dict(enumerate(BASELINE)), 10: last})


# The single-key scenarios, each with its hand-computed alerts.


def spike(symbol: str, exchange: str) -> tuple[list[AggregateRow], list[AlertRow]]:
    # z = (130 - 100) / 10 = 3.0 > 2.5. Minutes 0-9 have fewer than 10 windows before them: no alert.
    return following_baseline(symbol, exchange, 130.0), [alert(symbol, exchange, 10, 130.0, 100.0, 10.0, 10, 3.0)]


def on_the_threshold(symbol: str, exchange: str) -> tuple[list[AggregateRow], list[AlertRow]]:
    # z = (125 - 100) / 10 = 2.5, not strictly above 2.5.
    return following_baseline(symbol, exchange, 125.0), []


def too_few(symbol: str, exchange: str) -> tuple[list[AggregateRow], list[AlertRow]]:
    # Minutes 0-8 hold the first 9 of BASELINE: 9 < 10 windows before minute 9, however large it is.
    return windows(symbol, exchange, {**dict(enumerate(BASELINE[:9])), 9: 1_000.0}), []


def flat(symbol: str, exchange: str) -> tuple[list[AggregateRow], list[AlertRow]]:
    # Ten windows of 100: std = 0, so no z and no alert even for 1,000,000.
    return windows(symbol, exchange, {**{m: 100.0 for m in range(10)}, 10: 1_000_000.0}), []


def quiet_minute(symbol: str, exchange: str) -> tuple[list[AggregateRow], list[AlertRow]]:
    # No trades at minute 5, so no window: BASELINE sits at minutes 0-4 and 6-10, 130 at minute 11.
    # Minute 11's baseline is those 10 windows (not 11 minutes with a zero): mean 100, std 10, z = 3.0.
    # Minute 10 has only 9 windows before it: no alert.
    minutes = [0, 1, 2, 3, 4, 6, 7, 8, 9, 10]
    rows = windows(symbol, exchange, {**dict(zip(minutes, BASELINE, strict=True)), 11: 130.0})
    return rows, [alert(symbol, exchange, 11, 130.0, 100.0, 10.0, 10, 3.0)]


def sixty_minutes_back(symbol: str, exchange: str) -> tuple[list[AggregateRow], list[AlertRow]]:
    # The rule: the baseline of the window starting at t is the windows starting in [t - 60 min, t).
    # Minute 61 (130) looks back to minute 1 inclusive: minute 1 (60 minutes before, 115) and minutes
    # 52-60 (the other 9 of BASELINE) are in; minute 0 (61 minutes before, 10,000) is out.
    # So: 10 windows, mean 100, std 10, z = 3.0. (Without minute 1: 9 windows, no alert; with minute 0:
    # 11 windows, mean 11,000 / 11 = 1,000, no alert.)
    # Minute 60 (100) looks back to minute 0: 10 windows, mean (10,000 + 900) / 10 = 1,090, z < 0.
    volumes = {0: 10_000.0, 1: BASELINE[0], **dict(zip(range(52, 61), BASELINE[1:], strict=True)), 61: 130.0}
    return windows(symbol, exchange, volumes), [alert(symbol, exchange, 61, 130.0, 100.0, 10.0, 10, 3.0)]


def every_scenario() -> tuple[list[AggregateRow], list[AlertRow]]:
    """Every scenario on its own (symbol, exchange), one symbol on both exchanges with opposite outcomes."""
    rows: list[AggregateRow] = []
    alerts: list[AlertRow] = []
    for scenario, (symbol, exchange) in [
        (spike, ("BTC-USDT", "binance")),
        (flat, ("BTC-USDT", "coinbase")),
        (on_the_threshold, ("ETH-USDT", "binance")),
        (quiet_minute, ("ETH-USDT", "coinbase")),
        (too_few, ("SOL-USDT", "binance")),
        (sixty_minutes_back, ("SOL-USDT", "coinbase")),
    ]:
        scenario_rows, scenario_alerts = scenario(symbol, exchange)
        rows += scenario_rows
        alerts += scenario_alerts
    return rows, alerts


def detect_batch(spark: SparkSession, rows: list[AggregateRow], config: JobConfig = CONFIG) -> DataFrame:
    return spark.createDataFrame(rows, VOLUME_AGGREGATE).transform(detect_anomalies_batch(config, DETECTED))


def expect(spark: SparkSession, alerts: list[AlertRow]) -> DataFrame:
    return spark.createDataFrame(alerts, ANOMALY_ALERT)


def test_a_spike_above_the_threshold_is_an_anomaly(spark: SparkSession) -> None:
    rows, alerts = spike("BTC-USDT", "binance")
    assert alerts[0][0] == "volume_anomaly:binance:BTC-USDT:2024-01-01T00:10:00.000Z"  # the id, spelled out once
    assertDataFrameEqual(detect_batch(spark, rows), expect(spark, alerts), rtol=0, atol=1e-12)


def test_a_z_of_exactly_the_threshold_is_not_an_anomaly(spark: SparkSession) -> None:
    rows, alerts = on_the_threshold("BTC-USDT", "binance")
    assertDataFrameEqual(detect_batch(spark, rows), expect(spark, alerts))


def test_fewer_than_min_periods_windows_raise_nothing_and_min_periods_comes_from_the_config(
    spark: SparkSession,
) -> None:
    rows, alerts = too_few("BTC-USDT", "binance")
    assertDataFrameEqual(detect_batch(spark, rows), expect(spark, alerts))

    # With min_periods 9 the same 9 windows qualify: 115, 85, 115, 85, 100 x 5, mean 900 / 9 = 100,
    # squared deviations 900, sample variance 900 / 8 = 112.5; z = (1,000 - 100) / sqrt(112.5).
    nine = JobConfig(job="volume-anomaly", anomaly_min_periods=9)
    std = math.sqrt(112.5)
    expected = [alert("BTC-USDT", "binance", 9, 1_000.0, 100.0, std, 9, 900.0 / std)]
    assertDataFrameEqual(detect_batch(spark, rows, nine), expect(spark, expected), rtol=0, atol=1e-9)


def test_zero_variance_raises_nothing_even_for_a_huge_spike(spark: SparkSession) -> None:
    rows, alerts = flat("BTC-USDT", "binance")
    assertDataFrameEqual(detect_batch(spark, rows), expect(spark, alerts))


def test_a_quiet_minute_has_no_window_and_is_not_part_of_the_baseline(spark: SparkSession) -> None:
    rows, alerts = quiet_minute("BTC-USDT", "binance")
    assertDataFrameEqual(detect_batch(spark, rows), expect(spark, alerts), rtol=0, atol=1e-12)


def test_the_baseline_reaches_back_exactly_60_minutes(spark: SparkSession) -> None:
    rows, alerts = sixty_minutes_back("BTC-USDT", "binance")
    assertDataFrameEqual(detect_batch(spark, rows), expect(spark, alerts), rtol=0, atol=1e-12)


def test_each_symbol_and_exchange_has_its_own_baseline(spark: SparkSession) -> None:
    # Mixed together, BTC-USDT's binance spike would be measured against coinbase's flat 100s too
    # (20 windows, another std), and coinbase's 1,000,000 would count as a spike.
    rows, alerts = every_scenario()
    # On a bounded DataFrame detect_anomalies is the batch version (Spark runs applyInPandasWithState on
    # streams only).
    actual = spark.createDataFrame(rows, VOLUME_AGGREGATE).transform(detect_anomalies(CONFIG, DETECTED))
    assertDataFrameEqual(actual, expect(spark, alerts), rtol=0, atol=1e-12)


@contextmanager
def one_shuffle_partition(spark: SparkSession) -> Iterator[None]:
    """Streaming queries fix their state partitions when they start: one keeps the tests light on 2 cores."""
    before = str(spark.conf.get("spark.sql.shuffle.partitions"))
    spark.conf.set("spark.sql.shuffle.partitions", "1")
    try:
        yield
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)


def generated(symbols: list[str]) -> list[AggregateRow]:
    """Three hours per symbol on binance: about 1,000 per window, quiet minutes, and a few spikes."""
    rng = random.Random(42)
    rows: list[AggregateRow] = []
    for symbol in symbols:
        for m in range(180):
            if rng.random() < 0.15:
                continue  # a quiet minute
            spike = rng.choice([2.0, 3.0, 4.0]) if rng.random() < 0.05 else 1.0
            volume = round(rng.gauss(1_000.0, 100.0) * spike, 2)
            rows.append(window(symbol, "binance", m, volume, trade_count=rng.randint(1, 50)))
    return rows


@pytest.fixture(scope="module")
def on_a_stream(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[AggregateRow], DataFrame]:
    """The stateful detect_anomalies, run once over every scenario and generated windows on other symbols.

    A file stream of aggregates, one micro-batch per hour of windows, each file's windows shuffled. The
    last one also replays the spike's window (BTC-USDT on binance at minute 10): it must not alert twice.
    Returns the windows (without the replay) and the alerts.
    """
    rows = every_scenario()[0] + generated(["XRP-USDT", "ADA-USDT", "DOGE-USDT"])
    random.Random(1).shuffle(rows)
    replayed = [r for r in rows if (r[0], r[2], r[3]) == (minute(10), "BTC-USDT", "binance")]
    assert len(replayed) == 1
    tmp_path = tmp_path_factory.mktemp("stateful")
    source = tmp_path / "aggregates"
    source.mkdir()
    for h in range(3):
        name = f"{h}.json"
        hour = [r for r in rows if minute(60 * h) <= r[0] < minute(60 * (h + 1))]
        drop_json_file(source, name, VOLUME_AGGREGATE, hour + replayed if h == 2 else hour)
        # The file source takes the oldest files first: make the order explicit.
        os.utime(source / name, (1_700_000_000 + h, 1_700_000_000 + h))
    with one_shuffle_partition(spark):
        query = (
            spark.readStream.schema(VOLUME_AGGREGATE)
            .option("maxFilesPerTrigger", 1)
            .json(str(source))
            .transform(detect_anomalies(CONFIG, DETECTED))
            .writeStream.format("memory")
            .queryName("volume_anomalies_stateful_test")
            .outputMode("append")
            .option("checkpointLocation", str(tmp_path / "checkpoint"))
            .trigger(availableNow=True)
            .start()
        )
    query.awaitTermination()
    assert query.exception() is None
    assert len(query.recentProgress) == 3  # one micro-batch per file: the state carried across
    return rows, spark.table("volume_anomalies_stateful_test")


def test_the_stateful_version_raises_the_hand_computed_alerts(
    spark: SparkSession, on_a_stream: tuple[list[AggregateRow], DataFrame]
) -> None:
    _, stateful = on_a_stream
    scenario_symbols = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    actual = stateful.where(stateful.symbol.isin(scenario_symbols))
    assertDataFrameEqual(actual, expect(spark, every_scenario()[1]), rtol=0, atol=1e-12)


def test_the_stateful_and_the_batch_versions_agree(
    spark: SparkSession, on_a_stream: tuple[list[AggregateRow], DataFrame]
) -> None:
    rows, stateful = on_a_stream
    batch = detect_batch(spark, rows)
    assert batch.where(~batch.symbol.isin("BTC-USDT", "ETH-USDT", "SOL-USDT")).count() >= 3  # not only scenarios
    # The same accumulation order as Spark's avg and stddev_samp: equal to the bit.
    assertDataFrameEqual(stateful, batch, rtol=0, atol=0)


def trade(exchange: str, symbol: str, trade_id: str, price: float, quantity: float, seconds: float) -> TradeRow:
    return (
        f"{exchange}:{symbol}:{trade_id}", exchange, symbol, trade_id, price, quantity, price * quantity, "buy",
        T0 + timedelta(seconds=seconds), T0 + timedelta(seconds=seconds + 1),
    )  # fmt: skip


def test_volume_aggregates_per_window_symbol_and_exchange(spark: SparkSession) -> None:
    trades = [
        # binance BTC-USDT, window 00:00: 100 x 1, 110 x 3, 90 x 1 (the last just inside, at 59.999 s),
        # and the first one again (a reconnect overlap re-sent it: counted once).
        trade("binance", "BTC-USDT", "1", 100.0, 1.0, 5),
        trade("binance", "BTC-USDT", "2", 110.0, 3.0, 30),
        trade("binance", "BTC-USDT", "3", 90.0, 1.0, 59.999),
        trade("binance", "BTC-USDT", "1", 100.0, 1.0, 5),
        # 60 s opens the next window; nothing at 00:02 (no window), one trade at 00:03.
        trade("binance", "BTC-USDT", "4", 120.0, 0.5, 60),
        trade("binance", "BTC-USDT", "5", 130.0, 2.0, 200),
        # The same symbol on coinbase is its own window.
        trade("coinbase", "BTC-USDT", "1", 101.0, 2.0, 10),
    ]
    actual = spark.createDataFrame(trades, TRADE).transform(volume_aggregates(CONFIG))
    expected = spark.createDataFrame(
        [
            # 3 trades; volume 1 + 3 + 1 = 5; quote 100 + 330 + 90 = 520; vwap 520 / 5 = 104; 90..110
            (minute(0), minute(1), "BTC-USDT", "binance", 3, 5.0, 520.0, 104.0, 90.0, 110.0),
            # 0.5 at 120: quote 60, vwap 60 / 0.5 = 120
            (minute(1), minute(2), "BTC-USDT", "binance", 1, 0.5, 60.0, 120.0, 120.0, 120.0),
            # 2 at 130: quote 260, vwap 130
            (minute(3), minute(4), "BTC-USDT", "binance", 1, 2.0, 260.0, 130.0, 130.0, 130.0),
            # 2 at 101: quote 202, vwap 101
            (minute(0), minute(1), "BTC-USDT", "coinbase", 1, 2.0, 202.0, 101.0, 101.0, 101.0),
        ],
        VOLUME_AGGREGATE,
    )
    assertDataFrameEqual(actual, expected, rtol=0, atol=1e-9)


def test_on_a_stream_trades_become_windows_and_the_spike_is_raised_once(spark: SparkSession, tmp_path: Path) -> None:
    # One trade per minute at 10 s past, price 100: BASELINE at minutes 0-9, 130 at minute 10, 100 at
    # minutes 13 and 20. The watermark is 2 minutes behind the latest trade.
    def at_minute(m: int, quote_volume: float) -> TradeRow:
        return trade("binance", "BTC-USDT", str(m), 100.0, quote_volume / 100.0, 60 * m + 10)

    trades_dir, aggregates_dir = tmp_path / "trades", tmp_path / "aggregates"
    trades_dir.mkdir()
    aggregates_dir.mkdir()
    queries: list[StreamingQuery] = []
    try:
        with one_shuffle_partition(spark):
            aggregates = (
                spark.readStream.schema(TRADE)
                .json(str(trades_dir))
                .transform(volume_aggregates(CONFIG))
                .writeStream.format("parquet")
                .option("path", str(aggregates_dir))
                .option("checkpointLocation", str(tmp_path / "checkpoint-aggregates"))
                .outputMode("append")
                .start()
            )
            queries.append(aggregates)
            # The second query reads the first one's output, as the job reads the volume_aggregates table.
            anomalies = (
                spark.readStream.schema(VOLUME_AGGREGATE)
                .parquet(str(aggregates_dir))
                .transform(detect_anomalies(CONFIG, DETECTED))
                .writeStream.format("memory")
                .queryName("volume_anomalies_stream_test")
                .outputMode("append")
                .option("checkpointLocation", str(tmp_path / "checkpoint-anomalies"))
                .start()
            )
            queries.append(anomalies)

        def step(name: str, trades: list[TradeRow]) -> DataFrame:
            drop_json_file(trades_dir, name, TRADE, trades)
            aggregates.processAllAvailable()
            anomalies.processAllAvailable()
            return spark.table("volume_anomalies_stream_test")

        raised = expect(spark, [alert("BTC-USDT", "binance", 10, 130.0, 100.0, 10.0, 10, 3.0)])
        # Watermark 00:09:10 - 2 min = 00:07:10: windows 00:00-00:06 are final, none has 10 before it.
        assert step("0.json", [at_minute(m, BASELINE[m]) for m in range(10)]).count() == 0
        # The spike, and a trade at 00:13:10 that moves the watermark to 00:11:10: windows 00:07-00:10 are
        # final, and 00:10 has BASELINE before it: z = 3.0.
        assertDataFrameEqual(step("1.json", [at_minute(10, 130.0), at_minute(13, 100.0)]), raised)
        # The spike re-sent (same event id, behind the watermark) and a trade at 00:20:10 closing window
        # 00:13, whose baseline is minutes 0-10, mean 1,130 / 11 > 100: nothing new.
        assertDataFrameEqual(step("2.json", [at_minute(10, 130.0), at_minute(20, 100.0)]), raised)
        # Windows 00:00-00:10 and 00:13 were written once each; 00:20 is still open.
        assert spark.read.parquet(str(aggregates_dir)).count() == 12
    finally:
        for query in queries:
            query.stop()
