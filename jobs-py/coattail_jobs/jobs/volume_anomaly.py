"""volume-anomaly: 60-second volume windows per (symbol, exchange), and z-score anomalies over the last hour.

Two transforms, chained by a table:

1. ``volume_aggregates``: trades -> one row per 60-second tumbling window on ``trade_time`` (aligned to
   the epoch, start inclusive, end exclusive) and (symbol, exchange). A window is emitted once, when the
   watermark passes its end; later trades are dropped. A minute without trades yields no window.
   Trades are deduplicated by ``event_id`` first: producers re-send trades across reconnects and
   Kinesis delivers at least once, and a counted duplicate would inflate the volume.
2. ``detect_anomalies``: windows -> anomalies. A window's baseline is the windows of its (symbol,
   exchange) whose start lies in ``[start - 60 min, start)``: one starting exactly 60 minutes earlier is
   in, one starting 61 minutes earlier is not, and the window itself is not. Windows, not minutes, are
   counted: a quiet minute has no window, so it neither counts towards ``min_periods`` nor enters the
   mean as a zero. With at least ``min_periods`` baseline windows (and at least two, which a sample
   standard deviation needs), z = (x - mean) / std over ``total_quote_volume`` with the sample standard
   deviation (n - 1); the window is an anomaly when std > 0 and z > threshold (strictly).

Spark refuses ``applyInPandasWithState`` after a streaming aggregation in the same query ("not
supported after aggregation on a streaming DataFrame"), so the job runs two queries: the first writes
the windows to the Iceberg ``volume_aggregates`` table, the second reads that table as a stream and runs
``detect_anomalies``. Both run in append mode.

The stateful detection keeps, per (symbol, exchange), the (start, quote volume) of the windows that
started within the hour before the newest window seen, and prunes older ones after every micro-batch:
at most 61 windows per key, and the keys are the configured symbols times the two exchanges. So the
state stays bounded without a timeout (``GroupStateTimeout.NoTimeout``): an event-time timeout would
also drop idle keys, but it needs a watermark re-declared on the second query's input, and an idle
key costs at most 61 pairs. Windows of a key arrive in start order across micro-batches (the first
query emits a window only after the watermark passes its end and drops anything later), and are
sorted within one; a window not newer than the newest one already seen for its key is a replay and is
skipped, so it cannot raise its alert twice.

``detect_anomalies_batch`` computes the same over a bounded DataFrame with a window frame (reprocessing,
backtests). The stateful version accumulates the mean and the variance in start order the way Spark's
``avg`` and ``stddev_samp`` do, so both give the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.streaming.state import GroupState, GroupStateTimeout
from pyspark.sql.types import ArrayType, DoubleType, IntegerType, LongType, StringType, StructField, StructType

from ..alerts import VOLUME_ANOMALY, iso_utc_millis
from ..config import JobConfig
from ..schemas import ANOMALY_ALERT, VOLUME_AGGREGATE
from .common import unique_trades

JOB = "volume-anomaly"
WINDOW = "60 seconds"
BASELINE_MICROS = 3_600 * 1_000_000
"""How far back a baseline reaches: windows starting in [start - BASELINE_MICROS, start) count."""

# What the stateful function emits per anomalous window; times as epoch microseconds, so no session
# time zone is involved on the way through pandas.
_SCORED = StructType(
    [
        StructField("symbol", StringType(), False),
        StructField("exchange", StringType(), False),
        StructField("window_start_us", LongType(), False),
        StructField("window_end_us", LongType(), False),
        StructField("total_quote_volume", DoubleType(), False),
        StructField("trade_count", LongType(), False),
        StructField("baseline_mean", DoubleType(), False),
        StructField("baseline_std", DoubleType(), False),
        StructField("baseline_windows", IntegerType(), False),
        StructField("z_score", DoubleType(), False),
    ]
)

# The state per (symbol, exchange): the recent windows' starts and quote volumes, in start order.
_HISTORY = StructType(
    [
        StructField("starts_us", ArrayType(LongType(), False), False),
        StructField("quote_volumes", ArrayType(DoubleType(), False), False),
    ]
)

_INPUT_COLUMNS = ["symbol", "exchange", "window_start_us", "window_end_us", "total_quote_volume", "trade_count"]

_Scored = tuple[str, str, int, int, float, int, float, float, int, float]
"""One row of ``_SCORED``."""


def volume_aggregates(config: JobConfig) -> Callable[[DataFrame], DataFrame]:
    """Build the transform: schemas.TRADE rows -> schemas.VOLUME_AGGREGATE rows (one per window with trades)."""

    def transform(trades: DataFrame) -> DataFrame:
        windows = (
            unique_trades(trades, config.watermark)
            .groupBy(F.window("trade_time", WINDOW).alias("window"), "symbol", "exchange")
            .agg(
                F.count(F.lit(1)).alias("trade_count"),
                F.sum("quantity").alias("total_volume"),
                F.sum("quote_volume").alias("total_quote_volume"),
                F.min("price").alias("min_price"),
                F.max("price").alias("max_price"),
            )
        )
        aggregates = windows.select(
            F.col("window.start").alias("window_start"),
            F.col("window.end").alias("window_end"),
            "symbol",
            "exchange",
            "trade_count",
            "total_volume",
            "total_quote_volume",
            # Quantities are positive (the quality checks reject others), so the division is defined.
            (F.col("total_quote_volume") / F.col("total_volume")).alias("vwap"),
            "min_price",
            "max_price",
        )
        return aggregates.select([F.col(f.name).cast(f.dataType) for f in VOLUME_AGGREGATE.fields])

    return transform


def detect_anomalies(config: JobConfig, detected_at: datetime | None = None) -> Callable[[DataFrame], DataFrame]:
    """Build the stateful transform: schemas.VOLUME_AGGREGATE rows -> schemas.ANOMALY_ALERT rows.

    On a stream it keeps the last hour of windows per (symbol, exchange) in Spark state; the query must
    run in append mode. Spark runs ``applyInPandasWithState`` on streams only, so on a bounded DataFrame
    this is ``detect_anomalies_batch``. ``detected_at`` fixes the detection time (tests, replays); by
    default it is the micro-batch's timestamp.
    """
    batch = detect_anomalies_batch(config, detected_at)
    detect_in_group = _stateful_detector(config.anomaly_min_periods, float(config.anomaly_threshold))

    def transform(aggregates: DataFrame) -> DataFrame:
        if not aggregates.isStreaming:
            return batch(aggregates)
        scored = (
            aggregates.select(
                "symbol",
                "exchange",
                F.unix_micros("window_start").alias("window_start_us"),
                F.unix_micros("window_end").alias("window_end_us"),
                "total_quote_volume",
                "trade_count",
            )
            .groupBy("symbol", "exchange")
            .applyInPandasWithState(detect_in_group, _SCORED, _HISTORY, "append", GroupStateTimeout.NoTimeout)
        )
        windows = scored.withColumns(
            {
                "window_start": F.timestamp_micros("window_start_us"),
                "window_end": F.timestamp_micros("window_end_us"),
            }
        )
        return _as_anomaly_alerts(windows, config, detected_at)

    return transform


def detect_anomalies_batch(config: JobConfig, detected_at: datetime | None = None) -> Callable[[DataFrame], DataFrame]:
    """Build the bounded-data transform: schemas.VOLUME_AGGREGATE rows -> schemas.ANOMALY_ALERT rows.

    The baseline is a range frame over the window start in microseconds, ``[start - 1 h, start - 1 us]``,
    which is ``[start - 1 h, start)``. ``detected_at`` as in ``detect_anomalies``.
    """
    min_periods = config.anomaly_min_periods
    threshold = float(config.anomaly_threshold)

    def transform(aggregates: DataFrame) -> DataFrame:
        baseline = (
            Window.partitionBy("symbol", "exchange")
            .orderBy(F.unix_micros("window_start"))
            .rangeBetween(-BASELINE_MICROS, -1)
        )
        quote_volume = F.col("total_quote_volume")
        scored = aggregates.withColumns(
            {
                "baseline_windows": F.count(quote_volume).over(baseline),
                "baseline_mean": F.avg(quote_volume).over(baseline),
                # null for fewer than two windows (Spark's stddev_samp), and such a baseline never qualifies.
                "baseline_std": F.stddev_samp(quote_volume).over(baseline),
            }
        ).withColumn("z_score", (quote_volume - F.col("baseline_mean")) / F.col("baseline_std"))
        anomalies = scored.where(
            (F.col("baseline_windows") >= F.lit(min_periods))
            & (F.col("baseline_std") > F.lit(0.0))
            & (F.col("z_score") > F.lit(threshold))
        )
        return _as_anomaly_alerts(anomalies, config, detected_at)

    return transform


def _as_anomaly_alerts(windows: DataFrame, config: JobConfig, detected_at: datetime | None) -> DataFrame:
    """Scored anomalous windows -> schemas.ANOMALY_ALERT rows: the id, threshold and detection time added."""
    detected: Column = F.current_timestamp() if detected_at is None else F.lit(detected_at)
    alerts = windows.select(
        # volume_anomaly:binance:BTC-USDT:2024-01-01T00:10:00.000Z, the same for a replayed window.
        F.concat_ws(
            ":", F.lit(VOLUME_ANOMALY), F.col("exchange"), F.col("symbol"), iso_utc_millis(F.col("window_start"))
        ).alias("alert_id"),
        "window_start",
        "window_end",
        "symbol",
        "exchange",
        "total_quote_volume",
        "trade_count",
        "baseline_mean",
        "baseline_std",
        "baseline_windows",
        "z_score",
        F.lit(float(config.anomaly_threshold)).alias("threshold"),
        detected.alias("detected_at"),
    )
    return alerts.select([F.col(f.name).cast(f.dataType) for f in ANOMALY_ALERT.fields])


def _baseline(history: list[tuple[int, float]], start_us: int) -> tuple[int, float, float]:
    """Count, mean and sample standard deviation of the windows starting in [start - 1 h, start).

    Accumulated in start order exactly as Spark's ``avg`` (a running sum) and ``stddev_samp`` (Welford's
    running mean and squared deviations) do over a window frame, so the stateful and the batch versions
    agree to the last bit, also on a z that lands exactly on the threshold. The standard deviation is
    NaN below two windows.
    """
    count = 0
    total = 0.0
    running_mean = 0.0
    squared_deviations = 0.0
    for window_start_us, quote_volume in history:
        if start_us - BASELINE_MICROS <= window_start_us < start_us:
            count += 1
            total += quote_volume
            delta = quote_volume - running_mean
            delta_n = delta / count
            running_mean += delta_n
            squared_deviations += delta * (delta - delta_n)
    mean = total / count if count else math.nan
    std = math.sqrt(squared_deviations / (count - 1)) if count >= 2 else math.nan
    return count, mean, std


def _score_windows(
    history: list[tuple[int, float]],
    windows: list[tuple[str, str, int, int, float, int]],
    min_periods: int,
    threshold: float,
) -> tuple[list[_Scored], list[tuple[int, float]]]:
    """Score one key's new windows against its history; return the anomalies and the pruned new history.

    ``history`` is (start_us, quote volume) in start order; ``windows`` are ``_INPUT_COLUMNS`` tuples in
    any order. Each window is scored against the windows before it (the history and the earlier new
    ones), then joins the history. A window not newer than the newest one seen is a replay: skipped.
    """
    recent = list(history)
    anomalies: list[_Scored] = []
    for symbol, exchange, start_us, end_us, quote_volume, trade_count in sorted(windows, key=lambda w: w[2]):
        if recent and start_us <= recent[-1][0]:
            continue
        count, mean, std = _baseline(recent, start_us)
        if count >= min_periods and count >= 2 and std > 0.0:
            z = (quote_volume - mean) / std
            if z > threshold:
                anomalies.append((symbol, exchange, start_us, end_us, quote_volume, trade_count, mean, std, count, z))
        recent.append((start_us, quote_volume))
    # A later window starts after the newest one, so it never looks further back than this.
    newest = recent[-1][0] if recent else 0
    return anomalies, [(s, v) for s, v in recent if s >= newest - BASELINE_MICROS]


def _stateful_detector(
    min_periods: int, threshold: float
) -> Callable[[tuple[str, str], Iterable[pd.DataFrame], GroupState], Iterator[pd.DataFrame]]:
    """The ``applyInPandasWithState`` function: one call per (symbol, exchange) with windows in a micro-batch."""

    def detect_in_group(
        key: tuple[str, str], batches: Iterable[pd.DataFrame], state: GroupState
    ) -> Iterator[pd.DataFrame]:
        history: list[tuple[int, float]] = []
        if state.exists:
            starts_us, quote_volumes = state.get
            history = [(int(s), float(v)) for s, v in zip(starts_us, quote_volumes, strict=True)]
        windows = [
            (str(symbol), str(exchange), int(start), int(end), float(volume), int(count))
            for frame in batches
            for symbol, exchange, start, end, volume, count in zip(
                *(frame[column].tolist() for column in _INPUT_COLUMNS), strict=True
            )
        ]
        anomalies, recent = _score_windows(history, windows, min_periods, threshold)
        state.update(([s for s, _ in recent], [v for _, v in recent]))
        if anomalies:
            yield pd.DataFrame(anomalies, columns=_SCORED.names)

    return detect_in_group
