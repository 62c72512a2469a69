"""Recordings of unified trades for the replay tests, and what a replay makes of them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pyspark.sql import SparkSession

from coattail_jobs.replay.cli import add_replay_parser
from coattail_jobs.replay.runner import FLUSH_SYMBOL, replay_config, run_replay
from coattail_jobs.replay.summary import ReplaySummary

Rows = list[dict[str, object]]


def at(clock: str) -> str:
    """A time on 2024-01-01 as the producer writes it: ``at("00:05:01.123")``; a full ISO time stays as is."""
    return clock if "T" in clock else f"2024-01-01T{clock}Z"


def trade(
    exchange: str,
    symbol: str,
    trade_id: str,
    price: float,
    quantity: float,
    time: str,
    arrived: str | None = None,
    quote_volume: float | None = None,
) -> str:
    """One recorded unified trade (a line of the recording); it arrives 100 ms after it happened unless told."""
    if arrived is None:
        assert time.endswith(".000"), "give the arrival of a trade with a fraction of a second"
        arrived = time[: -len(".000")] + ".100"
    return json.dumps(
        {
            "schema_version": 1,
            "event_id": f"{exchange}:{symbol}:{trade_id}",
            "exchange": exchange,
            "symbol": symbol,
            "trade_id": trade_id,
            "price": price,
            "quantity": quantity,
            "quote_volume": price * quantity if quote_volume is None else quote_volume,
            "side": "buy",
            "timestamp": at(time),
            "ingested_at": at(arrived),
        }
    )


def read_outputs(out: Path) -> dict[str, Rows]:
    """A replay's files, each as its rows."""
    return {
        path.name: [json.loads(line) for line in path.read_text().splitlines()] for path in sorted(out.glob("*.jsonl"))
    }


def replay(
    spark: SparkSession, folder: Path, job: str, lines: list[str], *settings: str
) -> tuple[ReplaySummary, dict[str, Rows]]:
    """Replays ``lines`` (a recording) through ``job``; its summary and its files, the end-of-input trade in none."""
    recording = folder / "trades.jsonl"
    recording.write_text("\n".join(lines) + "\n")
    out = folder / "out"
    summary = run_replay(spark, replay_config(job, settings), recording, out)
    outputs = read_outputs(out)
    for name, rows in outputs.items():
        assert FLUSH_SYMBOL not in (out / name).read_text(), f"the end-of-input trade leaked into {name}"
        assert len(rows) == summary.outputs[name]
    return summary, outputs


def micros(row: dict[str, object], *names: str) -> dict[str, object]:
    """``row`` with the named timestamps in six-digit form, as alert details carry them."""
    return {k: f"{v[:-1]}000Z" if k in names and isinstance(v, str) and len(v) == 24 else v for k, v in row.items()}


def run_cli(argv: list[str]) -> int:
    """``python -m coattail_jobs replay ...`` in-process, through the parser the package entry point adds."""
    parser = argparse.ArgumentParser(prog="coattail_jobs")
    add_replay_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["replay", *argv])
    result = args.handler(args)
    assert isinstance(result, int)
    return result
