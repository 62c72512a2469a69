"""whale-detector: trades whose notional is strictly above the whale threshold, with their context.

A whale is ``quote_volume > config.whale_threshold`` (strictly: a trade of exactly the threshold is not
one). Each whale carries its base and quote assets, the threshold and its multiple, and the id
``whale:{event_id}``, so a replayed trade yields the same alert id and the DynamoDB conditional put
writes it once.

Late data and duplicates. Structured Streaming drops rows behind the watermark only in a stateful
operator, so the deduplication by ``event_id`` within the watermark is what makes the job's watermark
real: a whale that arrives later than the watermark is dropped, like late data in every job. It also
keeps a trade that reached Kinesis twice (a reconnect overlap, Coinbase's ``last_match``, an
at-least-once redelivery) to one row before the sinks, which key on ``alert_id`` anyway (an Iceberg
MERGE and a conditional put), so a replayed batch writes nothing twice either way.

The watermark follows whale trades only: Spark pushes the threshold filter below the watermark (a filter
that does not read the event time moves down), so the watermark is the newest *whale* time minus the
delay. That keeps small trades out of the state and errs on the safe side: a whale is dropped only when
it is more than the watermark behind the newest whale, never for being behind ordinary trades.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ..config import JobConfig
from ..schemas import WHALE_ALERT

JOB = "whale-detector"


def whale_trades(config: JobConfig, detected_at: datetime | None = None) -> Callable[[DataFrame], DataFrame]:
    """Build the transform: schemas.TRADE rows -> schemas.WHALE_ALERT rows.

    ``detected_at`` fixes the detection time (tests, replays; give it a time zone, as Spark reads a naive
    datetime as local time); by default it is the processing time of the micro-batch.
    """
    threshold = float(config.whale_threshold)
    detected: Column = F.current_timestamp() if detected_at is None else F.lit(detected_at)

    def transform(trades: DataFrame) -> DataFrame:
        # Written in the order Spark runs it (see the module docstring): the watermark follows whales only.
        whales = trades.where(F.col("quote_volume") > F.lit(threshold)).withWatermark("trade_time", config.watermark)
        # Spark refuses dropDuplicatesWithinWatermark on batch DataFrames (replays, tests): there the whole
        # batch is the scope.
        whales = (
            whales.dropDuplicatesWithinWatermark(["event_id"])
            if whales.isStreaming
            else whales.dropDuplicates(["event_id"])
        )
        enriched = whales.select(
            F.concat(F.lit("whale:"), F.col("event_id")).alias("alert_id"),
            "event_id",
            "exchange",
            "symbol",
            # Symbols are BASE-QUOTE by the unified trade's contract.
            F.substring_index("symbol", "-", 1).alias("base_asset"),
            F.substring_index("symbol", "-", -1).alias("quote_asset"),
            "trade_id",
            "price",
            "quantity",
            "quote_volume",
            "side",
            "trade_time",
            F.lit(threshold).alias("threshold"),
            (F.col("quote_volume") / F.lit(threshold)).alias("threshold_multiple"),
            detected.alias("detected_at"),
        )
        return enriched.select([F.col(f.name).cast(f.dataType) for f in WHALE_ALERT.fields])

    return transform
