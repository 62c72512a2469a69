"""replay's micro-batches: the recording cut only where a trade could be late, as live would have cut it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from coattail_jobs.config import interval_micros
from coattail_jobs.replay.planner import BatchPlanner

from .recordings import at


def planner_line(time: str | None, arrived: str | None) -> bytes:
    fields = {"timestamp": at(time) if time else None, "ingested_at": at(arrived) if arrived else None}
    return json.dumps({k: v for k, v in fields.items() if v}).encode()


def test_the_recording_is_cut_only_where_a_trade_could_be_late() -> None:
    # Trigger 5 s, watermark 2 min.
    lines = [
        planner_line("00:05:00", "00:05:01"),
        planner_line("00:04:00", "00:05:02"),  # same trigger interval: same batch, whatever its time
        planner_line("00:04:30", "00:05:10"),  # next interval; watermark 00:03:00, 00:04:30 is ahead: merged
        b"garbage",  # no times: stays where it arrived
        planner_line("00:01:00", "00:05:20"),  # behind 00:03:00: a micro-batch of its own starts here
        planner_line("00:06:00", "00:06:00"),  # ahead of the watermark: merged
        planner_line("00:03:45", None),  # arrival unknown: in the interval of the line before it
        # Behind 00:06:00 - 2 min, but in the same interval as 00:06:00: live would not drop it either.
        planner_line("00:03:30", "00:06:01"),
        planner_line("00:04:00", "00:07:00"),  # watermark now 00:04:00; a trade at it is late (<=): cut
        b"   ",  # blank: no record
    ]
    planner = BatchPlanner(interval_micros("5 seconds"), interval_micros("2 minutes"))
    slots = list(planner.slots(lines))
    assert [(len(s.lines), s.starts_batch) for s in slots] == [(2, True), (2, False), (1, True), (3, False), (1, True)]
    assert (planner.records, planner.batches) == (9, 3)
    assert planner.clock == datetime(2024, 1, 1, 0, 7, tzinfo=UTC)  # the newest arrival
    # Without a watermark (raw-archiver) nothing is late: one batch.
    assert sum(s.starts_batch for s in BatchPlanner(interval_micros("5 seconds"), None).slots(lines)) == 1


def test_intervals_read_as_spark_reads_them() -> None:
    assert interval_micros("2 minutes") == 120_000_000
    assert interval_micros("1 minute 30 seconds") == 90_000_000
    assert interval_micros("500 milliseconds") == 500_000
    for bad in ("2", "two minutes", "2 fortnights", "", "-1 second"):
        with pytest.raises(ValueError):
            interval_micros(bad)
