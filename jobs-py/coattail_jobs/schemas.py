"""Every shape the jobs read or write, as Spark StructTypes: the single source of truth.

The Athena DDL in ``ddl/`` is rendered from these (``python -m coattail_jobs ddl``) and a test keeps the
files equal to the rendering, so the tables and the jobs cannot drift apart. The unified trade mirrors
``src/trade.ts`` (and ``docs/unified-trade.schema.json``) in the TypeScript producer; a test holds those
two together too.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)


def _s(name: str, dtype: DataType, nullable: bool = True, doc: str = "") -> StructField:
    return StructField(name, dtype, nullable, {"comment": doc} if doc else {})


# What a Kinesis source yields (aws-kinesis on EMR and the local connector share these columns).
RAW_KINESIS_RECORD = StructType(
    [
        _s("data", StringType(), False, "the record bytes as UTF-8 text"),
        _s("partition_key", StringType(), True, "Kinesis partition key (the symbol)"),
        _s("sequence_number", StringType(), True, "Kinesis sequence number"),
        _s("arrival_time", TimestampType(), True, "approximate arrival time in Kinesis"),
    ]
)

# The unified trade, schema version 1, as the producer writes it (one JSON object per record).
UNIFIED_TRADE = StructType(
    [
        _s("schema_version", IntegerType(), True, "schema version of the record: 1"),
        _s("event_id", StringType(), True, "{exchange}:{symbol}:{trade_id}"),
        _s("exchange", StringType(), True, "binance or coinbase"),
        _s("symbol", StringType(), True, "BASE-QUOTE, upper case"),
        _s("trade_id", StringType(), True, "trade id on the exchange"),
        _s("price", DoubleType(), True, "price in quote currency"),
        _s("quantity", DoubleType(), True, "size in base currency"),
        _s("quote_volume", DoubleType(), True, "price x quantity, computed in decimal"),
        _s("side", StringType(), True, "side of the taker (the aggressor): buy or sell"),
        _s("timestamp", StringType(), True, "trade time, ISO-8601 UTC"),
        _s("ingested_at", StringType(), True, "when the producer received it, ISO-8601 UTC"),
    ]
)

# A parsed, checked trade as the jobs carry it: the unified trade with its times as timestamps.
TRADE = StructType(
    [
        _s("event_id", StringType(), False, "{exchange}:{symbol}:{trade_id}: unique per trade"),
        _s("exchange", StringType(), False, "binance or coinbase"),
        _s("symbol", StringType(), False, "BASE-QUOTE"),
        _s("trade_id", StringType(), False, "trade id on the exchange"),
        _s("price", DoubleType(), False, "price in quote currency"),
        _s("quantity", DoubleType(), False, "size in base currency"),
        _s("quote_volume", DoubleType(), False, "price x quantity"),
        _s("side", StringType(), False, "side of the taker (the aggressor): buy or sell"),
        _s("trade_time", TimestampType(), False, "trade time (UTC), microseconds kept"),
        _s("ingested_at", TimestampType(), True, "when the producer received it"),
    ]
)

RAW_TRADES = StructType(
    [
        *TRADE.fields,
        _s("schema_version", IntegerType(), True, "unified trade schema version"),
        _s("kinesis_sequence_number", StringType(), True, "where the record sat in Kinesis"),
        _s("archived_at", TimestampType(), False, "when raw-archiver wrote the row"),
    ]
)

VOLUME_AGGREGATE = StructType(
    [
        _s("window_start", TimestampType(), False, "start of the 60-second window"),
        _s("window_end", TimestampType(), False, "end of the window (exclusive)"),
        _s("symbol", StringType(), False, "BASE-QUOTE"),
        _s("exchange", StringType(), False, "binance or coinbase"),
        _s("trade_count", LongType(), False, "trades in the window"),
        _s("total_volume", DoubleType(), False, "sum of quantity"),
        _s("total_quote_volume", DoubleType(), False, "sum of quote_volume"),
        _s("vwap", DoubleType(), False, "total_quote_volume / total_volume"),
        _s("min_price", DoubleType(), False, "lowest price"),
        _s("max_price", DoubleType(), False, "highest price"),
    ]
)

ANOMALY_ALERT = StructType(
    [
        _s("alert_id", StringType(), False, "volume_anomaly:{exchange}:{symbol}:{window_start}"),
        _s("window_start", TimestampType(), False, "the anomalous window"),
        _s("window_end", TimestampType(), False, "its end"),
        _s("symbol", StringType(), False, "BASE-QUOTE"),
        _s("exchange", StringType(), False, "binance or coinbase"),
        _s("total_quote_volume", DoubleType(), False, "quote volume in the window"),
        _s("trade_count", LongType(), False, "trades in the window"),
        _s("baseline_mean", DoubleType(), False, "mean quote volume of the baseline windows"),
        _s("baseline_std", DoubleType(), False, "sample standard deviation (n-1) of the baseline"),
        _s("baseline_windows", IntegerType(), False, "windows in the preceding 60 minutes"),
        _s("z_score", DoubleType(), False, "(x - mean) / std"),
        _s("threshold", DoubleType(), False, "z above which the window is an anomaly"),
        _s("detected_at", TimestampType(), False, "when the job raised it"),
    ]
)

ANOMALY_REPROCESSED = StructType(
    [
        *ANOMALY_ALERT.fields,
        _s("as_of", StringType(), False, "the snapshot id or timestamp raw_trades was read at"),
        _s("reprocessed_at", TimestampType(), False, "when the reprocessing ran"),
    ]
)

WHALE_ALERT = StructType(
    [
        _s("alert_id", StringType(), False, "whale:{event_id}"),
        _s("event_id", StringType(), False, "the trade"),
        _s("exchange", StringType(), False, "binance or coinbase"),
        _s("symbol", StringType(), False, "BASE-QUOTE"),
        _s("base_asset", StringType(), False, "BASE of the symbol"),
        _s("quote_asset", StringType(), False, "QUOTE of the symbol"),
        _s("trade_id", StringType(), False, "trade id on the exchange"),
        _s("price", DoubleType(), False, "price in quote currency"),
        _s("quantity", DoubleType(), False, "size in base currency"),
        _s("quote_volume", DoubleType(), False, "notional in quote currency"),
        _s("side", StringType(), False, "side of the taker (the aggressor)"),
        _s("trade_time", TimestampType(), False, "trade time (UTC)"),
        _s("threshold", DoubleType(), False, "the whale threshold in quote currency"),
        _s("threshold_multiple", DoubleType(), False, "quote_volume / threshold"),
        _s("detected_at", TimestampType(), False, "when the job raised it"),
    ]
)

SPREAD_RECORD = StructType(
    [
        _s("window_start", TimestampType(), False, "start of the 30-second window"),
        _s("window_end", TimestampType(), False, "end of the window (exclusive)"),
        _s("symbol", StringType(), False, "BASE-QUOTE"),
        _s("high_exchange", StringType(), False, "the exchange with the higher VWAP"),
        _s("low_exchange", StringType(), False, "the exchange with the lower VWAP"),
        _s("high_vwap", DoubleType(), False, "the higher VWAP"),
        _s("low_vwap", DoubleType(), False, "the lower VWAP"),
        _s("spread_pct", DoubleType(), False, "|a - b| / ((a + b) / 2) x 100"),
        _s("binance_trades", LongType(), False, "trades on Binance in the window"),
        _s("coinbase_trades", LongType(), False, "trades on Coinbase in the window"),
        _s("is_alert", BooleanType(), False, "spread_pct above the threshold"),
        _s("threshold_pct", DoubleType(), False, "the alert threshold in percent"),
    ]
)

ALERT = StructType(
    [
        _s("alert_id", StringType(), False, "unique per alert; the DynamoDB key"),
        _s("alert_type", StringType(), False, "whale, volume_anomaly or spread"),
        _s("symbol", StringType(), False, "BASE-QUOTE"),
        _s("exchange", StringType(), True, "the exchange (for spreads: the high one)"),
        _s("alert_time", TimestampType(), False, "when it happened: the trade time or the window end"),
        _s("detected_at", TimestampType(), False, "when the job raised it"),
        _s("headline", StringType(), False, "one line for people"),
        _s("details", StringType(), False, "the alert record as JSON"),
    ]
)

DLQ_RECORD = StructType(
    [
        _s("reason", StringType(), False, "malformed, or the first failed ERROR check"),
        _s("checks_failed", ArrayType(StringType(), False), False, "every failed check"),
        _s("record", StringType(), True, "the record as received"),
        _s("job", StringType(), False, "the job that rejected it"),
        _s("query_id", StringType(), False, "the streaming query (its id, kept in its checkpoint)"),
        _s("batch_id", LongType(), False, "the micro-batch"),
        _s("failed_at", TimestampType(), False, "when"),
    ]
)


@dataclass(frozen=True)
class TableSpec:
    """An Iceberg table: its name, columns and partition transforms (Athena syntax)."""

    name: str
    schema: StructType
    partitioning: tuple[str, ...]
    comment: str


TABLES: tuple[TableSpec, ...] = (
    TableSpec("raw_trades", RAW_TRADES, ("day(trade_time)", "symbol"), "every valid trade, as received"),
    TableSpec(
        "volume_aggregates",
        VOLUME_AGGREGATE,
        ("day(window_start)", "symbol"),
        "60-second windows per symbol and exchange",
    ),
    TableSpec(
        "anomalies", ANOMALY_ALERT, ("day(window_start)", "symbol"), "volume anomalies (z-score over the last hour)"
    ),
    TableSpec("whale_trades", WHALE_ALERT, ("day(trade_time)", "symbol"), "trades above the whale threshold"),
    TableSpec("spreads", SPREAD_RECORD, ("day(window_start)", "symbol"), "30-second cross-exchange VWAP spreads"),
    TableSpec("alerts", ALERT, ("day(alert_time)", "alert_type"), "every alert sent, of every type"),
    TableSpec(
        "anomalies_reprocessed",
        ANOMALY_REPROCESSED,
        ("day(window_start)", "symbol"),
        "volume anomalies recomputed over a time-travel view of raw_trades",
    ),
)

TABLES_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}
