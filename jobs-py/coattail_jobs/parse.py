"""Kinesis record text -> unified-trade columns, flagging what cannot be a trade instead of dropping it.

``parse_trades`` keeps every input row (and every other input column, such as the Kinesis metadata) so the
data-quality step can send malformed records to the dead-letter queue with their original text;
``to_trades`` then gives the ``schemas.TRADE`` view of the rows that passed.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from coattail_jobs.schemas import TRADE, UNIFIED_TRADE

RECORD_COL = "record"
"""The record's text as received."""
MALFORMED_COL = "is_malformed"
"""True when the text is not a unified trade at all (see ``parse_trades``)."""
TRADE_TIME_COL = "trade_time"
INGESTED_AT_COL = "ingested_at"

# ISO-8601 with a zone: fractions of 1 to 6 digits (the producer writes 3 or 6), `Z` or an offset.
# More than 6 digits does not parse: Spark keeps microseconds, and the schema never has more.
ISO_8601_PATTERN = "yyyy-MM-dd'T'HH:mm:ss[.SSSSSS]XXX"

_CORRUPT_COL = "_corrupt"
_PARSED_COL = "_trade"
_JSON_SCHEMA = StructType([*UNIFIED_TRADE.fields, StructField(_CORRUPT_COL, StringType(), True)])
_JSON_OPTIONS = {
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": _CORRUPT_COL,
    # JSON has no NaN or Infinity; Spark would otherwise accept them, and NaN > 0 is true in Spark.
    "allowNonNumericNumbers": "false",
}
_TIME_FIELDS = {"timestamp": TRADE_TIME_COL, "ingested_at": INGESTED_AT_COL}
_NUMBER_FIELDS = ("price", "quantity", "quote_volume")

PARSED_COLUMNS: tuple[str, ...] = tuple(
    [_TIME_FIELDS.get(f.name, f.name) for f in UNIFIED_TRADE.fields] + [MALFORMED_COL]
)
"""The columns ``parse_trades`` adds (besides ``record``), in order."""


def literal_col(name: str) -> Column:
    """The column named ``name``, taken literally: a name with a dot does not read as a struct field."""
    return F.col("`" + name.replace("`", "``") + "`")


def _iso_timestamp(text: Column) -> Column:
    # try_: NULL for text that does not parse, even with ANSI mode on.
    return F.try_to_timestamp(text, F.lit(ISO_8601_PATTERN))


def _is_finite(number: Column) -> Column:
    return ~F.isnan(number) & (F.abs(number) != F.lit(float("inf")))


def parse_trades(raw: DataFrame, data_col: str = "data") -> DataFrame:
    """Parse each row's unified-trade JSON text in ``data_col``; one output row per input row.

    The output has the input's columns with ``data_col`` (text, or UTF-8 bytes) as the string ``record``
    (kept for the dead-letter queue), then the unified trade's fields with ``timestamp`` as the
    TimestampType ``trade_time`` and ``ingested_at`` as a TimestampType (microseconds kept), then
    ``is_malformed``.

    A record is malformed when its text is not a JSON object, a field has the wrong JSON type (a price
    given as a string), a number does not fit a float64, or a present ``timestamp``/``ingested_at`` is not
    ISO-8601 with a zone. Missing fields are not malformed: they are NULL, for the completeness checks.
    A malformed row's trade fields are NULL.
    """
    if data_col not in raw.columns:
        raise ValueError(f"parse_trades: no column {data_col!r} in {raw.columns}")
    kept = [c for c in raw.columns if c != data_col]
    clashes = sorted(set(kept) & {RECORD_COL, _PARSED_COL, *PARSED_COLUMNS})
    if clashes:
        raise ValueError(f"parse_trades: input columns {clashes} would clash with the parsed trade's columns")

    originals = [literal_col(RECORD_COL if c == data_col else c) for c in raw.columns]
    parsed = F.col(_PARSED_COL)
    # As text: a connector that hands over the record's bytes gets them decoded as UTF-8.
    record_text = literal_col(data_col).cast("string")
    # Staged selects so the JSON and the timestamps are parsed once per row, not once per use.
    with_json = raw.select(
        *[record_text.alias(RECORD_COL) if c == data_col else literal_col(c) for c in raw.columns],
        F.from_json(record_text, _JSON_SCHEMA, _JSON_OPTIONS).alias(_PARSED_COL),
    )
    with_times = with_json.select(
        *originals, parsed, *[_iso_timestamp(parsed[name]).alias(column) for name, column in _TIME_FIELDS.items()]
    )
    # An empty or NULL text parses to a NULL struct rather than a corrupt record.
    malformed = parsed.isNull() | parsed[_CORRUPT_COL].isNotNull()
    for field_name, column in _TIME_FIELDS.items():
        malformed = malformed | (parsed[field_name].isNotNull() & F.col(column).isNull())
    for number in _NUMBER_FIELDS:
        malformed = malformed | (parsed[number].isNotNull() & ~_is_finite(parsed[number]))
    flagged = with_times.select("*", malformed.alias(MALFORMED_COL))

    def field(name: str) -> Column:
        column = _TIME_FIELDS.get(name)
        value = F.col(column) if column else parsed[name]
        # A malformed row carries no trade: a half-parsed record must not look like one.
        return F.when(~F.col(MALFORMED_COL), value).alias(column or name)

    return flagged.select(*originals, *[field(f.name) for f in UNIFIED_TRADE.fields], MALFORMED_COL)


def to_trades(valid: DataFrame) -> DataFrame:
    """The ``schemas.TRADE`` columns, in order and with their types, of rows that passed validation.

    Takes the valid rows of ``DataQualityChecker.validate`` over ``parse_trades`` output; it filters
    nothing itself. Column nullability is Spark's own: the quality checks, not this projection, are
    what keep the key fields non-NULL.
    """
    missing = [f.name for f in TRADE.fields if f.name not in valid.columns]
    if missing:
        raise ValueError(f"to_trades: missing columns {missing}")
    return valid.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in TRADE.fields])
