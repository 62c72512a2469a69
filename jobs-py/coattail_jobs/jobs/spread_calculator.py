"""spread-calculator: the cross-exchange VWAP spread per symbol in 30-second tumbling windows.

Per (window, symbol) one aggregation sums quote volume, quantity and trades per exchange with
conditional sums, so both exchanges' VWAPs land on one row without a stream-stream join (and with one
stateful operator, which append mode needs). Windows are event-time windows on ``trade_time``, aligned
to the epoch, start inclusive and end exclusive: a trade at :30 opens the next window. A window is
emitted once, when the watermark passes its end; trades later than that are dropped.

A row is produced only when the window saw trades on both exchanges. On equal VWAPs the spread is 0 and
Binance is reported as the high exchange and Coinbase as the low one, so reruns agree.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ..config import JobConfig
from ..schemas import SPREAD_RECORD
from .common import unique_trades

JOB = "spread-calculator"
WINDOW = "30 seconds"


def _on(exchange: str, value: Column) -> Column:
    """``value`` for the trades of ``exchange``, null for the others (sums skip nulls)."""
    return F.when(F.col("exchange") == F.lit(exchange), value)


def spread_records(config: JobConfig) -> Callable[[DataFrame], DataFrame]:
    """Build the transform: schemas.TRADE rows -> schemas.SPREAD_RECORD rows (every window on both exchanges)."""
    threshold_pct = float(config.spread_threshold_pct)

    def transform(trades: DataFrame) -> DataFrame:
        windows = (
            unique_trades(trades, config.watermark)
            .groupBy(F.window("trade_time", WINDOW).alias("window"), F.col("symbol"))
            .agg(
                F.sum(_on("binance", F.col("quote_volume"))).alias("binance_quote_volume"),
                F.sum(_on("binance", F.col("quantity"))).alias("binance_quantity"),
                F.count(_on("binance", F.lit(1))).alias("binance_trades"),
                F.sum(_on("coinbase", F.col("quote_volume"))).alias("coinbase_quote_volume"),
                F.sum(_on("coinbase", F.col("quantity"))).alias("coinbase_quantity"),
                F.count(_on("coinbase", F.lit(1))).alias("coinbase_trades"),
            )
            .where((F.col("binance_trades") > 0) & (F.col("coinbase_trades") > 0))
        )
        binance_vwap = F.col("binance_quote_volume") / F.col("binance_quantity")
        coinbase_vwap = F.col("coinbase_quote_volume") / F.col("coinbase_quantity")
        binance_high = binance_vwap >= coinbase_vwap
        high_vwap = F.when(binance_high, binance_vwap).otherwise(coinbase_vwap)
        low_vwap = F.when(binance_high, coinbase_vwap).otherwise(binance_vwap)
        spread_pct = (high_vwap - low_vwap) / ((high_vwap + low_vwap) / F.lit(2.0)) * F.lit(100.0)
        records = windows.select(
            F.col("window.start").alias("window_start"),
            F.col("window.end").alias("window_end"),
            "symbol",
            F.when(binance_high, F.lit("binance")).otherwise(F.lit("coinbase")).alias("high_exchange"),
            F.when(binance_high, F.lit("coinbase")).otherwise(F.lit("binance")).alias("low_exchange"),
            high_vwap.alias("high_vwap"),
            low_vwap.alias("low_vwap"),
            spread_pct.alias("spread_pct"),
            "binance_trades",
            "coinbase_trades",
        ).withColumns(
            {
                "is_alert": F.col("spread_pct") > F.lit(threshold_pct),
                "threshold_pct": F.lit(threshold_pct),
            }
        )
        return records.select([F.col(f.name).cast(f.dataType) for f in SPREAD_RECORD.fields])

    return transform
