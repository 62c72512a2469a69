"""historical-loader: Binance trades of one symbol and time range from the REST API -> Parquet in the raw zone.

``python -m coattail_jobs historical-loader --symbol BTC-USDT --start 2024-01-01 --end 2024-01-02``

Binance's REST facts (the endpoints, the weight budget, 429 and 418) and how its trades become unified
trades: ``binance_rest.py``.

Output: ``{raw_root}/historical/date=YYYY-MM-DD/symbol=BTC-USDT/trades-{start}-{end}.parquet``, the unified
trade's fields (``symbol`` lives in the path, as Hive partitioning has it). One file per day and range,
named by the range: a re-run of the same range replaces exactly its own files (idempotent), and loading
another range of the same day adds a file beside them instead of deleting it. Files are written under a
dot-name (which Spark and pyarrow skip) and renamed when complete, so a failed run leaves no half file.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

import pyarrow as pa  # type: ignore[import-untyped]  # pyarrow ships no type information
import pyarrow.parquet as pq  # type: ignore[import-untyped]  # pyarrow ships no type information

from ..config import ConfigError
from .binance_rest import (
    BINANCE_REST_URL,
    DEFAULT_MAX_WEIGHT,
    HISTORICAL_TRADES_WEIGHT,
    WEIGHT_LIMIT,
    BinanceRest,
    LoaderError,
    to_unified,
    trade_pages,
)
from .common import check_s3, filesystem, iso_from_epoch_millis, parse_instant

log = logging.getLogger(__name__)

JOB = "historical-loader"
HELP = "load Binance trades of a symbol and time range from the REST API into the raw zone (Parquet)"
_SYMBOL = re.compile(r"^[A-Z0-9]+-[A-Z0-9]+$")

SCHEMA = pa.schema(
    [
        pa.field("schema_version", pa.int32(), nullable=False),
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("trade_id", pa.string(), nullable=False),
        pa.field("price", pa.float64(), nullable=False),
        pa.field("quantity", pa.float64(), nullable=False),
        pa.field("quote_volume", pa.float64(), nullable=False),
        pa.field("side", pa.string(), nullable=False),
        pa.field("timestamp", pa.string(), nullable=False),
        pa.field("ingested_at", pa.string(), nullable=False),
    ]
)
"""The unified trade without ``symbol``, which is a partition folder (``symbol=BTC-USDT``)."""


# ---------------------------------------------------------------- Parquet


def range_tag(start: datetime, end: datetime) -> str:
    return f"{start:%Y%m%dT%H%M%S}Z-{end:%Y%m%dT%H%M%S}Z"


class PartitionFiles:
    """One Parquet file per day of the range under ``{root}/historical/date=.../symbol=...``, renamed into
    place on ``close``. Trades arrive in id order, which is time order, so a day's file is finished once a
    later day starts."""

    def __init__(self, raw_root: str, symbol: str, tag: str) -> None:
        self._fs, base = filesystem(raw_root)
        self._base = f"{base.rstrip('/')}/historical"
        self._symbol = symbol
        self._name = f"trades-{tag}.parquet"
        self._open: dict[str, tuple[pq.ParquetWriter, str, str]] = {}
        self._finished: set[str] = set()
        self.written: dict[str, tuple[str, int]] = {}
        """date -> (final path, trades)."""

    def write(self, trades: list[dict[str, object]]) -> None:
        by_date: dict[str, list[dict[str, object]]] = {}
        for t in trades:
            by_date.setdefault(str(t["timestamp"])[:10], []).append(t)
        for date, rows in by_date.items():
            if date in self._finished:
                # Its file is closed and renamed; reopening it would replace it with the later rows only.
                raise LoaderError(f"Binance sent a trade of {date} after later days' trades: ids out of time order")
            for earlier in [d for d in self._open if d < date]:
                self._finish(earlier)
            writer = self._writer(date)
            writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))
            path, count = self.written.get(date, (self._open[date][2], 0))
            self.written[date] = (path, count + len(rows))

    def close(self) -> None:
        for date in list(self._open):
            self._finish(date)

    def abort(self) -> None:
        """Closes the drafts without renaming them: the files of an earlier complete run stay as they were."""
        for writer, _draft, _final in self._open.values():
            writer.close()
        self._open.clear()

    def _writer(self, date: str) -> pq.ParquetWriter:
        if date not in self._open:
            folder = f"{self._base}/date={date}/symbol={self._symbol}"
            self._fs.create_dir(folder, recursive=True)
            draft, final = f"{folder}/.{self._name}.partial", f"{folder}/{self._name}"
            self._open[date] = (pq.ParquetWriter(draft, SCHEMA, filesystem=self._fs), draft, final)
        return self._open[date][0]

    def _finish(self, date: str) -> None:
        writer, draft, final = self._open.pop(date)
        writer.close()
        self._finished.add(date)
        self._fs.move(draft, final)  # replaces the same range's file from an earlier run


# ---------------------------------------------------------------- the load


@dataclass
class LoadSummary:
    job: str
    symbol: str
    start: str
    end: str
    trades: int = 0
    rejected: int = 0
    first_trade_id: str | None = None
    last_trade_id: str | None = None
    files: list[dict[str, object]] = field(default_factory=list)
    rest: dict[str, object] = field(default_factory=dict)


def load(
    rest: BinanceRest,
    symbol: str,
    start: datetime,
    end: datetime,
    raw_root: str,
    now: Callable[[], float] = time.time,
) -> LoadSummary:
    """Loads the trades of ``symbol`` in ``[start, end)`` into the raw zone; returns what it did."""
    summary = LoadSummary(JOB, symbol, start.isoformat().replace("+00:00", "Z"), end.isoformat().replace("+00:00", "Z"))
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    files = PartitionFiles(raw_root, symbol, range_tag(start, end))
    pages = 0
    try:
        for page, received_ms in trade_pages(rest, symbol, start_ms, end_ms, now):
            ingested_at = iso_from_epoch_millis(received_ms)
            unified: list[dict[str, object]] = []
            for raw in page:
                try:
                    unified.append(to_unified(raw, symbol, ingested_at))
                except ValueError as err:
                    summary.rejected += 1
                    log.warning("rejected a trade Binance sent (%s): %s", err, raw)
            files.write(unified)
            summary.trades += len(unified)
            if unified:
                summary.first_trade_id = summary.first_trade_id or str(unified[0]["trade_id"])
                summary.last_trade_id = str(unified[-1]["trade_id"])
            pages += 1
            if pages % 10 == 0:
                log.info(
                    "%s: %d trades so far, up to %s",
                    symbol,
                    summary.trades,
                    unified[-1]["timestamp"] if unified else "-",
                )
    except BaseException:
        files.abort()
        raise
    files.close()
    summary.files = [{"date": d, "path": p, "trades": n} for d, (p, n) in sorted(files.written.items())]
    summary.rest = asdict(rest.stats)
    return summary


# ---------------------------------------------------------------- command line

_EXAMPLES = """examples:
  python -m coattail_jobs historical-loader --symbol BTC-USDT --start 2024-01-01 --end 2024-01-02
  python -m coattail_jobs historical-loader --symbol ETH-USDT --start 2024-05-01T12:00:00Z \\
      --end 2024-05-01T13:00:00Z --json
  python -m coattail_jobs historical-loader --mode emr --raw-root s3://my-coattail/coattail/raw --symbol BTC-USDT \\
      --start 2024-01-01 --end 2024-01-08"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    env = os.environ.get
    p = subparsers.add_parser(
        JOB,
        help=HELP,
        description=(__doc__ or "").split("\n\n", 1)[0],
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--symbol", required=True, help="BASE-QUOTE, e.g. BTC-USDT")
    p.add_argument("--start", required=True, help="range start, inclusive: 2024-01-01 (UTC) or an ISO time with zone")
    p.add_argument("--end", required=True, help="range end, exclusive: same forms")
    p.add_argument("--mode", choices=("local", "emr"), default=env("COATTAIL_MODE", "local"))
    p.add_argument(
        "--raw-root", default=env("COATTAIL_RAW_ROOT", ".coattail/raw"), help="the raw zone (folder or s3://)"
    )
    p.add_argument("--base-url", default=env("COATTAIL_BINANCE_REST_URL", BINANCE_REST_URL), help="Binance REST API")
    p.add_argument(
        "--max-weight",
        type=int,
        default=int(env("COATTAIL_BINANCE_MAX_WEIGHT", str(DEFAULT_MAX_WEIGHT))),
        help=f"request weight a minute the loader allows itself (Binance allows {WEIGHT_LIMIT} per IP)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")


def run_from_args(args: argparse.Namespace) -> int:
    """Checks the arguments (ConfigError: exit 2), loads, prints the summary; 1 when Binance stops the load."""
    symbol = str(args.symbol).upper()
    if not _SYMBOL.match(symbol):
        raise ConfigError(f"--symbol {args.symbol!r} is not BASE-QUOTE: write it like BTC-USDT")
    start = parse_instant(args.start, "--start", dates=True)
    end = parse_instant(args.end, "--end", dates=True)
    if end <= start:
        raise ConfigError(f"--end {args.end} is not after --start {args.start}: the range is [start, end)")
    if not HISTORICAL_TRADES_WEIGHT <= args.max_weight <= WEIGHT_LIMIT:
        raise ConfigError(
            f"--max-weight {args.max_weight} is not between {HISTORICAL_TRADES_WEIGHT} and {WEIGHT_LIMIT}"
        )
    check_s3(args.mode, "--raw-root", args.raw_root)
    rest = BinanceRest(base_url=args.base_url, max_weight=args.max_weight)
    try:
        summary = load(rest, symbol, start, end, args.raw_root)
    except LoaderError as err:
        print(f"coattail_jobs: {JOB}: {err}", file=sys.stderr)
        return 1
    print(
        f"{JOB}: {summary.trades} {symbol} trades from {summary.start} to {summary.end} in {len(summary.files)} "
        f"file(s) under {args.raw_root}/historical ({rest.stats.requests} requests, {rest.stats.weight_waits} "
        f"weight waits, {summary.rejected} rejected)",
        file=sys.stderr,
    )
    if args.json:
        print(json.dumps(asdict(summary)))
    return 0
