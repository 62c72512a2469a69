"""What the windowed jobs share."""

from __future__ import annotations

from pyspark.sql import DataFrame


def unique_trades(trades: DataFrame, watermark: str) -> DataFrame:
    """Trades on event time with the watermark, each event_id once: a reconnect overlap or a replayed
    Kinesis record must not count twice in a window's volume or VWAP."""
    watermarked = trades.withWatermark("trade_time", watermark)
    # Spark refuses dropDuplicatesWithinWatermark on batch DataFrames: there the whole batch is the scope.
    if watermarked.isStreaming:
        return watermarked.dropDuplicatesWithinWatermark(["event_id"])
    return watermarked.dropDuplicates(["event_id"])
