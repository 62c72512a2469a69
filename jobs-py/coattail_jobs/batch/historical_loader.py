"""historical-loader: one symbol's trades of a time range from Binance's or Coinbase's REST API into Iceberg raw_trades.

``python -m coattail_jobs historical-loader --symbol BTC-USDT --start 2024-01-01 --end 2024-01-02``
``python -m coattail_jobs historical-loader --exchange coinbase --symbol BTC-USD --start 2024-01-01 --end 2024-01-02``

The REST facts and how each exchange's trades become unified trades: ``binance_rest.py`` (historicalTrades by
id, the weight budget, 429 and 418), ``coinbase_rest.py`` (trades by trade-id cursor, 429). How they land:
``lake.py`` — the archive's own parsing, then a MERGE on ``event_id`` into ``raw_trades`` (partitioned by day
and symbol), so a re-run adds nothing twice and a trade already archived live is not duplicated.

Trades are committed every ``--commit-rows`` trades (one Iceberg snapshot each): a load that stops half way
keeps what it committed, and running it again adds only the rest. Progress (pages, trades, request weight)
goes to stderr; the summary too, and with ``--json`` as one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from pyspark.sql import SparkSession

from ..config import ConfigError, JobConfig
from ..schemas import TABLES_BY_NAME
from ..writers import ensure_tables
from . import binance_rest, coinbase_rest
from .binance_rest import (
    BINANCE_REST_URL,
    DEFAULT_MAX_WEIGHT,
    HISTORICAL_TRADES_WEIGHT,
    TIME_UNITS,
    WEIGHT_LIMIT,
    BinanceRest,
    LoaderError,
    RestStats,
)
from .coinbase_rest import COINBASE_REST_URL, CoinbaseRest
from .common import batch_session, epoch_micros, iso_from_epoch_millis, parse_instant
from .lake import current_snapshot, merge_trades

log = logging.getLogger(__name__)

JOB = "historical-loader"
HELP = "load one symbol's Binance or Coinbase trades of a time range from the REST API into Iceberg raw_trades"
EXCHANGES = ("binance", "coinbase")
COMMIT_ROWS = 200_000
"""Trades per MERGE (one snapshot each): a day of BTC-USDT (1 to 3 million trades) is 5 to 15 commits."""
PROGRESS_PAGES = 10
_SYMBOL = re.compile(r"^[A-Z0-9]+-[A-Z0-9]+$")

RawPages = Iterator[tuple[list[dict[str, object]], int]]


@dataclass
class Source:
    """One exchange's REST trades of a symbol: raw pages, how one becomes a unified trade, the client's numbers."""

    exchange: str
    symbol: str
    pages: Callable[[int, int, Callable[[], float]], RawPages]
    """(start µs, end µs, clock) -> pages of raw trades in the range, each with the epoch ms it arrived at."""
    unify: Callable[[Mapping[str, object], str], dict[str, object]]
    """(raw trade, ingested_at) -> the unified trade; ValueError when it is not one."""
    stats: RestStats
    budget: Callable[[], str]
    """The request budget as it stands, for the progress lines."""


def binance_source(rest: BinanceRest, symbol: str, listed_as: str | None = None) -> Source:
    """``listed_as``: Binance's own name for ``symbol`` (``--exchange-symbol``); without it, guessed from the symbol."""

    def pages(start_us: int, end_us: int, now: Callable[[], float]) -> RawPages:
        return binance_rest.trade_pages(rest, symbol, start_us // 1000, -(-end_us // 1000), now, listed_as)

    return Source(
        "binance",
        symbol,
        pages,
        lambda raw, at: binance_rest.to_unified(raw, symbol, at, rest.time_unit),
        rest.stats,
        lambda: f"weight {rest.used_weight}/{rest.max_weight} this minute, {rest.stats.weight_spent} in all",
    )


def coinbase_source(rest: CoinbaseRest, symbol: str, listed_as: str | None = None) -> Source:
    """``listed_as``: Coinbase's product id for ``symbol`` (``--exchange-symbol``); without it, the symbol itself."""

    def pages(start_us: int, end_us: int, now: Callable[[], float]) -> RawPages:
        return coinbase_rest.trade_pages(rest, listed_as or symbol, start_us, end_us, now)

    return Source(
        "coinbase",
        symbol,
        pages,
        lambda raw, at: coinbase_rest.to_unified(raw, symbol, at),
        rest.stats,
        lambda: f"{rest.stats.requests} requests",
    )


@dataclass
class LoadSummary:
    job: str
    exchange: str
    symbol: str
    start: str
    end: str
    table: str
    pages: int = 0
    trades: int = 0
    """Trades fetched in the range (the rejected ones not counted)."""
    rejected: int = 0
    inserted: int = 0
    already_present: int = 0
    commits: int = 0
    first_trade_id: str | None = None
    last_trade_id: str | None = None
    snapshot_id: str | None = None
    """raw_trades' snapshot after the load: ``coattail reprocess --as-of <it>`` sees the loaded trades."""
    rest: dict[str, object] = field(default_factory=dict)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def load(
    spark: SparkSession,
    source: Source,
    table: str,
    start: datetime,
    end: datetime,
    *,
    commit_rows: int = COMMIT_ROWS,
    now: Callable[[], float] = time.time,
) -> LoadSummary:
    """Loads ``source``'s trades in ``[start, end)`` into ``table``; returns what it did. LoaderError when the
    exchange stops it (what was committed before stays)."""
    summary = LoadSummary(JOB, source.exchange, source.symbol, _iso(start), _iso(end), table)
    ensure_tables(spark, [TABLES_BY_NAME["raw_trades"]], lambda _: table)
    pending: list[dict[str, object]] = []
    ids: list[int] = []

    def commit() -> None:
        if pending:
            done = merge_trades(spark, pending, table, datetime.fromtimestamp(now(), UTC))
            summary.inserted += done.inserted
            summary.already_present += done.already_present
            summary.rejected += done.malformed
            summary.commits += 1
            log.info(
                "%s %s: committed %d trades to %s (%d new, %d already there)",
                source.exchange, source.symbol, done.rows, table, done.inserted, done.already_present,
            )  # fmt: skip
            pending.clear()

    try:
        for page, received_ms in source.pages(epoch_micros(start), epoch_micros(end), now):
            summary.pages += 1
            ingested_at = iso_from_epoch_millis(received_ms)
            for raw in page:
                try:
                    trade = source.unify(raw, ingested_at)
                except ValueError as err:
                    summary.rejected += 1
                    log.warning("rejected a trade %s sent (%s): %s", source.exchange, err, raw)
                    continue
                pending.append(trade)
                ids.append(int(str(trade["trade_id"])))
                summary.trades += 1
            if summary.pages % PROGRESS_PAGES == 0:
                newest = pending[-1]["timestamp"] if pending else "-"
                log.info(
                    "%s %s: %d pages, %d trades, at %s; %s",
                    source.exchange, source.symbol, summary.pages, summary.trades, newest, source.budget(),
                )  # fmt: skip
            if len(pending) >= commit_rows:
                commit()
        commit()
    finally:
        summary.rest = asdict(source.stats)
        if ids:
            summary.first_trade_id, summary.last_trade_id = str(min(ids)), str(max(ids))
    summary.snapshot_id = current_snapshot(spark, table)
    return summary


# ---------------------------------------------------------------- command line

_EXAMPLES = """examples:
  python -m coattail_jobs historical-loader --symbol BTC-USDT --start 2024-01-01 --end 2024-01-02
  python -m coattail_jobs historical-loader --exchange coinbase --symbol ETH-USD --start 2024-05-01T12:00:00Z \\
      --end 2024-05-01T13:00:00Z --json
  python -m coattail_jobs historical-loader --mode emr --symbol BTC-USDT --start 2024-01-01 --end 2024-01-08"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    env = os.environ.get
    p = subparsers.add_parser(
        JOB,
        help=HELP,
        description=(__doc__ or "").split("\n\n", 1)[0],
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--exchange", choices=EXCHANGES, default=env("COATTAIL_EXCHANGE", "binance"))
    p.add_argument("--symbol", required=True, help="BASE-QUOTE, e.g. BTC-USDT (Coinbase: its product, e.g. BTC-USD)")
    p.add_argument(
        "--exchange-symbol",
        help="the exchange's own name for --symbol, from its listing (coattail backfill resolves it: Binance's "
        "ARBUSD is AR-BUSD); without it Binance's is guessed by dropping the dash, Coinbase's is --symbol",
    )
    p.add_argument("--start", required=True, help="range start, inclusive: 2024-01-01 (UTC) or an ISO time with zone")
    p.add_argument("--end", required=True, help="range end, exclusive: same forms")
    p.add_argument("--mode", choices=("local", "emr"), default=env("COATTAIL_MODE", "local"))
    p.add_argument(
        "--warehouse", default=env("COATTAIL_WAREHOUSE", ".coattail/warehouse"), help="local Iceberg warehouse"
    )
    p.add_argument(
        "--base-url", help="the exchange's REST API (default: COATTAIL_BINANCE_REST_URL or ..._COINBASE_...)"
    )
    p.add_argument(
        "--binance-time-unit",
        choices=TIME_UNITS,
        default=env("COATTAIL_BINANCE_TIME_UNIT", "ms"),
        help="ask Binance for ms or us times: as ingest's --binance-time-unit, so loaded trades match live ones",
    )
    p.add_argument(
        "--max-weight",
        type=int,
        default=int(env("COATTAIL_BINANCE_MAX_WEIGHT", str(DEFAULT_MAX_WEIGHT))),
        help=f"request weight a minute the loader allows itself (Binance allows {WEIGHT_LIMIT} per IP)",
    )
    p.add_argument("--commit-rows", type=int, default=COMMIT_ROWS, help="trades per MERGE into raw_trades")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")


def _base_url(exchange: str, given: str | None) -> str:
    if given:
        return given
    if exchange == "binance":
        return os.environ.get("COATTAIL_BINANCE_REST_URL") or BINANCE_REST_URL
    return os.environ.get("COATTAIL_COINBASE_REST_URL") or COINBASE_REST_URL


def check_args(args: argparse.Namespace) -> tuple[str, datetime, datetime]:
    """The symbol and the range, checked; ConfigError (one line, exit 2) for anything the load cannot run with."""
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
    if args.commit_rows < 1:
        raise ConfigError(f"--commit-rows {args.commit_rows} is not a positive number of trades")
    return symbol, start, end


def run_from_args(args: argparse.Namespace) -> int:
    """Checks the arguments (ConfigError: exit 2), loads, prints the summary; 1 when the exchange stops the load."""
    symbol, start, end = check_args(args)
    base_url = _base_url(args.exchange, args.base_url)
    source = (
        binance_source(
            BinanceRest(base_url=base_url, max_weight=args.max_weight, time_unit=args.binance_time_unit),
            symbol,
            args.exchange_symbol,
        )
        if args.exchange == "binance"
        else coinbase_source(CoinbaseRest(base_url=base_url), symbol, args.exchange_symbol)
    )
    config = JobConfig(job=JOB, mode=args.mode, warehouse=args.warehouse)
    spark, owned = batch_session(config, f"coattail-{JOB}")
    try:
        summary = load(spark, source, config.table("raw_trades"), start, end, commit_rows=args.commit_rows)
    except LoaderError as err:
        print(
            f"coattail_jobs: {JOB}: {err} (what was committed before stays: run the same load again to finish it)",
            file=sys.stderr,
        )
        return 1
    finally:
        if owned:
            spark.stop()
    print(summary_line(summary), file=sys.stderr)
    if args.json:
        print(json.dumps(asdict(summary)))
    return 0


def summary_line(s: LoadSummary) -> str:
    weight = f", weight {s.rest.get('weight_spent', 0)}" if s.exchange == "binance" else ""
    return (
        f"{JOB}: {s.trades} {s.exchange} {s.symbol} trades from {s.start} to {s.end} in {s.pages} pages; "
        f"{s.inserted} inserted into {s.table}, {s.already_present} already there, {s.rejected} rejected "
        f"({s.rest.get('requests', 0)} requests{weight}); snapshot {s.snapshot_id or '-'}"
    )
