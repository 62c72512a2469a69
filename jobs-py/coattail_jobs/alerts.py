"""Alerts of every type in one shape (schemas.ALERT), and their DynamoDB items.

Each job's output becomes ALERT rows here: a deterministic ``alert_id`` (the DynamoDB key, so a replayed
batch writes nothing twice), the type, symbol and exchange, ``alert_time`` (when it happened: the trade
time for a whale, the window end for window alerts), ``detected_at``, a one-line ``headline`` for people
and ``details``, the source row as JSON. The same rows go to the Iceberg ``alerts`` table.

Times in ids and items are ISO-8601 UTC with milliseconds and ``Z`` (``2024-01-01T00:00:30.000Z``):
fixed width, so they sort as text, and rendered in UTC whatever the session time zone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from .schemas import ALERT, ANOMALY_ALERT, SPREAD_RECORD, WHALE_ALERT

WHALE = "whale"
SPREAD = "spread"
VOLUME_ANOMALY = "volume_anomaly"
ALERT_TYPES = (WHALE, SPREAD, VOLUME_ANOMALY)

_ISO_MILLIS = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
# details keep the microseconds trades carry; XXX renders UTC as Z.
_DETAILS_JSON_OPTIONS = {"timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", "timeZone": "UTC"}

DynamoValue = str | int | bool | Decimal
"""An attribute value as the boto3 DynamoDB *resource* (``Table.put_item``) takes it."""


def iso_utc_millis(ts: Column) -> Column:
    """A timestamp column as ISO-8601 UTC text with milliseconds and Z, independent of the session time zone."""
    # date_format renders in the session zone; shifting by that zone first makes it render UTC.
    return F.date_format(F.to_utc_timestamp(ts, F.current_timezone()), _ISO_MILLIS)


def _amount(value: Column, decimals: int) -> Column:
    """A number with thousands separators and at most ``decimals`` decimals, trailing zeros dropped."""
    text = F.format_number(value, decimals)
    return F.regexp_replace(F.regexp_replace(text, r"(\.\d*?)0+$", "$1"), r"\.$", "")


def _quote_asset(symbol: Column) -> Column:
    return F.substring_index(symbol, "-", -1)


def _details(schema: StructType) -> Column:
    return F.to_json(F.struct(*[F.col(f.name) for f in schema.fields]), _DETAILS_JSON_OPTIONS)


def _as_alerts(
    df: DataFrame,
    *,
    alert_id: Column,
    alert_type: str,
    exchange: Column,
    alert_time: Column,
    detected_at: Column,
    headline: Column,
    source: StructType,
) -> DataFrame:
    alerts = df.select(
        alert_id.alias("alert_id"),
        F.lit(alert_type).alias("alert_type"),
        F.col("symbol").alias("symbol"),
        exchange.alias("exchange"),
        alert_time.alias("alert_time"),
        detected_at.alias("detected_at"),
        headline.alias("headline"),
        _details(source).alias("details"),
    )
    return alerts.select([F.col(f.name).cast(f.dataType) for f in ALERT.fields])


def whale_alerts_to_alerts(whales: DataFrame) -> DataFrame:
    """schemas.WHALE_ALERT rows -> schemas.ALERT rows (id ``whale:{event_id}``, at the trade time).

    Headline: ``WHALE binance BTC-USDT buy 2.5 BTC @ 60,000.00 = 150,000 USDT (1.5x)``.
    """
    headline = F.format_string(
        "WHALE %s %s %s %s %s @ %s = %s %s (%sx)",
        F.col("exchange"),
        F.col("symbol"),
        F.col("side"),
        _amount(F.col("quantity"), 8),
        F.col("base_asset"),
        F.format_number(F.col("price"), 2),
        F.format_number(F.col("quote_volume"), 0),
        F.col("quote_asset"),
        _amount(F.col("threshold_multiple"), 2),
    )
    return _as_alerts(
        whales,
        alert_id=F.col("alert_id"),
        alert_type=WHALE,
        exchange=F.col("exchange"),
        alert_time=F.col("trade_time"),
        detected_at=F.col("detected_at"),
        headline=headline,
        source=WHALE_ALERT,
    )


def spread_alerts_to_alerts(spreads: DataFrame, detected_at: datetime | None = None) -> DataFrame:
    """schemas.SPREAD_RECORD rows with ``is_alert`` -> schemas.ALERT rows; other rows are dropped.

    Id ``spread:{symbol}:{window_start}``, exchange the high one, at the window end. Spread records carry
    no detection time: ``detected_at`` fixes it (tests, replays; time-zone aware), by default the
    processing time.
    Headline: ``SPREAD BTC-USDT 0.6%: binance 60,360.00 > coinbase 60,000.00 USDT (threshold 0.5%)``.
    """
    headline = F.format_string(
        "SPREAD %s %s%%: %s %s > %s %s %s (threshold %s%%)",
        F.col("symbol"),
        _amount(F.col("spread_pct"), 3),
        F.col("high_exchange"),
        F.format_number(F.col("high_vwap"), 2),
        F.col("low_exchange"),
        F.format_number(F.col("low_vwap"), 2),
        _quote_asset(F.col("symbol")),
        _amount(F.col("threshold_pct"), 3),
    )
    return _as_alerts(
        spreads.where(F.col("is_alert")),
        alert_id=F.concat_ws(":", F.lit(SPREAD), F.col("symbol"), iso_utc_millis(F.col("window_start"))),
        alert_type=SPREAD,
        exchange=F.col("high_exchange"),
        alert_time=F.col("window_end"),
        detected_at=F.current_timestamp() if detected_at is None else F.lit(detected_at),
        headline=headline,
        source=SPREAD_RECORD,
    )


def anomaly_alerts_to_alerts(anomalies: DataFrame) -> DataFrame:
    """schemas.ANOMALY_ALERT rows (their ``alert_id`` already set) -> schemas.ALERT rows, at the window end.

    Headline: ``VOLUME_ANOMALY binance BTC-USDT 1,500,000 USDT in 60s (42 trades), z=3.2 > 2.5,
    baseline 400,000 over 12 windows``.
    """
    headline = F.format_string(
        "VOLUME_ANOMALY %s %s %s %s in 60s (%s trades), z=%s > %s, baseline %s over %s windows",
        F.col("exchange"),
        F.col("symbol"),
        F.format_number(F.col("total_quote_volume"), 0),
        _quote_asset(F.col("symbol")),
        F.col("trade_count"),
        _amount(F.col("z_score"), 2),
        _amount(F.col("threshold"), 2),
        F.format_number(F.col("baseline_mean"), 0),
        F.col("baseline_windows"),
    )
    return _as_alerts(
        anomalies,
        alert_id=F.col("alert_id"),
        alert_type=VOLUME_ANOMALY,
        exchange=F.col("exchange"),
        alert_time=F.col("window_end"),
        detected_at=F.col("detected_at"),
        headline=headline,
        source=ANOMALY_ALERT,
    )


def _iso_millis(value: object, name: str) -> str:
    """A collected timestamp as ISO-8601 UTC with milliseconds and Z.

    Naive datetimes are local time, which is what PySpark's ``collect()`` returns for timestamps.
    """
    if not isinstance(value, datetime):
        raise TypeError(f"alert field {name!r} must be a datetime, got {type(value).__name__}")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _reject_constant(token: str) -> object:
    # DynamoDB numbers cannot hold NaN or infinities; an alert carrying one is a bug upstream.
    raise ValueError(f"alert details hold a non-finite number: {token}")


def _text(row: Mapping[str, object], name: str) -> str:
    value = row.get(name)
    if not isinstance(value, str):
        raise TypeError(f"alert field {name!r} must be a string, got {type(value).__name__}")
    return value


def alert_to_dynamo_item(row: Mapping[str, object]) -> dict[str, DynamoValue]:
    """One collected schemas.ALERT row (``Row.asDict()``) -> its DynamoDB item, for the boto3 *resource*.

    Values are plain Python (str, int, bool, Decimal for fractional numbers), as ``Table.put_item`` takes
    them; ``boto3.dynamodb.types.TypeSerializer`` turns each into the client's typed form (``{"S": ...}``)
    if a writer needs that. Keys: ``alert_id`` (S, the table key), ``alert_type`` and ``alert_time`` (S,
    ISO-8601 UTC with ms: the GSI ``by_type_time``), then ``symbol``, ``exchange`` (absent when null),
    ``detected_at``, ``headline`` and the type's own fields from ``details`` (their timestamps as
    ISO-8601 UTC text with microseconds). ``written_at`` is left for the writer to stamp.
    """
    details = json.loads(_text(row, "details"), parse_float=Decimal, parse_constant=_reject_constant)
    if not isinstance(details, dict):
        raise ValueError(f"alert details must be a JSON object, got {type(details).__name__}")
    item: dict[str, DynamoValue] = {}
    for name, value in details.items():
        if value is None:
            continue  # DynamoDB items leave absent attributes out rather than storing NULL
        if not isinstance(value, str | int | bool | Decimal):
            raise ValueError(f"alert detail {name!r} is not a scalar: {value!r}")
        item[name] = value
    # The envelope wins over same-named details (detected_at in ms, like alert_time).
    item["alert_id"] = _text(row, "alert_id")
    item["alert_type"] = _text(row, "alert_type")
    if item["alert_type"] not in ALERT_TYPES:
        raise ValueError(f"unknown alert_type {item['alert_type']!r}; expected one of {', '.join(ALERT_TYPES)}")
    item["alert_time"] = _iso_millis(row.get("alert_time"), "alert_time")
    item["detected_at"] = _iso_millis(row.get("detected_at"), "detected_at")
    item["symbol"] = _text(row, "symbol")
    item["headline"] = _text(row, "headline")
    if row.get("exchange") is not None:
        item["exchange"] = _text(row, "exchange")
    return item
