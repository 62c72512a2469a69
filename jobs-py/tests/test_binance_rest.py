"""historical-loader's Binance REST client against the fake exchange (fake_binance.py): the first-trade probe,
retries of server and connection errors, and the mapping of a Binance trade to the unified trade. No Spark."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from coattail_jobs.batch.binance_rest import LoaderError, first_trade_id, to_unified, trade_pages

from .fake_binance import FakeBinance, FakeTime, Fault, ms, rest_client, running_exchange


@pytest.fixture
def exchange() -> Iterator[tuple[FakeBinance, str]]:
    yield from running_exchange()


def test_the_listing_name_given_is_asked_for_and_the_dash_dropped_only_without_one(
    exchange: tuple[FakeBinance, str],
) -> None:
    state, url = exchange
    start = datetime(2024, 1, 1, 23, 59, tzinfo=UTC)
    end = start + timedelta(minutes=1)
    # AR-BUSD is Binance's ARBUSD (its exchangeInfo says so; coattail backfill passes --exchange-symbol ARBUSD).
    list(trade_pages(rest_client(url, FakeTime()), "AR-BUSD", ms(start), ms(end), listed_as="ARBUSD"))
    assert {p["symbol"] for _, p in state.requests} == {"ARBUSD"}
    # Without a name the old guess stays: the dash dropped.
    state.requests.clear()
    first_trade_id(rest_client(url, FakeTime()), "BTC-USDT", ms(start), ms(end))
    assert {p["symbol"] for _, p in state.requests} == {"BTCUSDT"}


def test_the_first_trade_probe_walks_empty_hours_with_windows_under_an_hour(exchange: tuple[FakeBinance, str]) -> None:
    state, url = exchange
    start = datetime(2024, 1, 1, 20, 30, tzinfo=UTC)  # trades begin at 22:00: 20:30..21:29:59.999 is empty
    assert first_trade_id(rest_client(url, FakeTime()), "BTC-USDT", ms(start), ms(start + timedelta(hours=5))) == 1000
    hour = 3_600_000
    first = ms(start)
    assert [p for _, p in state.requests] == [
        {"symbol": "BTCUSDT", "startTime": str(first), "endTime": str(first + hour - 1), "limit": "1"},
        {"symbol": "BTCUSDT", "startTime": str(first + hour), "endTime": str(first + 2 * hour - 1), "limit": "1"},
    ]
    # A range with no trades at all: every hour probed, then nothing.
    state.requests.clear()
    empty = datetime(2024, 1, 1, 19, tzinfo=UTC)
    assert first_trade_id(rest_client(url, FakeTime()), "BTC-USDT", ms(empty), ms(empty) + 90 * 60_000) is None
    assert [(p["startTime"], p["endTime"]) for _, p in state.requests] == [
        (str(ms(empty)), str(ms(empty) + hour - 1)),
        (str(ms(empty) + hour), str(ms(empty) + 90 * 60_000 - 1)),
    ]


def test_5xx_is_retried_with_growing_backoff_then_given_up(exchange: tuple[FakeBinance, str]) -> None:
    state, url = exchange
    state.faults["/api/v3/aggTrades"] = [Fault(502) for _ in range(3)]
    clock = FakeTime()
    with pytest.raises(LoaderError, match="failed 3 times, the last with HTTP 502"):
        rest_client(url, clock, max_attempts=3).get("/api/v3/aggTrades", {"symbol": "BTCUSDT", "limit": 1}, 4)
    assert clock.sleeps == [0.25, 0.5]  # 0.5 (jitter) x 0.5 s x 2^0, 2^1; none after the last attempt


def test_connection_errors_are_retried() -> None:
    clock = FakeTime()
    rest = rest_client("http://127.0.0.1:9", clock, max_attempts=2)  # the discard port: nothing listens
    with pytest.raises(LoaderError, match="failed 2 times"):
        rest.get("/api/v3/aggTrades", {"symbol": "BTCUSDT"}, 4)
    assert (rest.stats.retried_errors, clock.sleeps) == (2, [0.25])


def test_normalization_matches_the_producer() -> None:
    # The producer's own sample frame (EXCHANGES.md): p 0.00426990, q 33.82000000, T 1554076800940, m false.
    raw = {"id": 40756030, "price": "0.00426990", "qty": "33.82000000", "time": 1554076800940, "isBuyerMaker": False}
    assert to_unified(raw, "BNB-BTC", "2019-04-01T00:00:01.000Z") == {
        "schema_version": 1,
        "event_id": "binance:BNB-BTC:40756030",
        "exchange": "binance",
        "symbol": "BNB-BTC",
        "trade_id": "40756030",
        "price": 0.0042699,
        "quantity": 33.82,
        "quote_volume": 0.144408018,  # the decimal product; float multiplication gives 0.14440801799999998
        "side": "buy",
        "timestamp": "2019-04-01T00:00:00.940Z",
        "ingested_at": "2019-04-01T00:00:01.000Z",
    }
    # With X-MBX-TIME-UNIT: MICROSECOND the time is µs, written with 6 digits as the producer writes a µs time.
    micros = to_unified({**raw, "time": 1554076800940123}, "BNB-BTC", "2019-04-01T00:00:01.000Z", "us")
    assert micros["timestamp"] == "2019-04-01T00:00:00.940123Z"
    for bad in ({**raw, "price": "-1"}, {**raw, "qty": "1e5"}, {**raw, "isBuyerMaker": "no"}, {**raw, "time": "x"}):
        with pytest.raises(ValueError):
            to_unified(bad, "BNB-BTC", "2019-04-01T00:00:01.000Z")
