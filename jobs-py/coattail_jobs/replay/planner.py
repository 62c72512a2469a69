"""The micro-batches of a replay: the recording cut where live would have cut it (see the package doc).

Only the batch boundaries decide which trades are late: Spark moves the watermark between micro-batches,
never inside one. The recording, in arrival order, is cut into slots of the trigger by ``ingested_at``; a
slot starts a micro-batch of its own only when one of its trades could be late there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from .outputs import EPOCH

_UNREADABLE = -(2**63)
"""The planner's trade time for a timestamp it cannot read: before any real one, so never the newest."""


def iso_micros(text: object) -> int | None:
    """ISO-8601 with a zone -> epoch microseconds; None when absent or unreadable (no zone included)."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return (parsed - EPOCH) // timedelta(microseconds=1)


@dataclass
class Slot:
    """Consecutive recording lines that arrived within one trigger interval."""

    lines: list[bytes]
    starts_batch: bool


@dataclass
class BatchPlanner:
    """Cuts a recording into micro-batches (see the module doc); counts what it saw.

    ``watermark_us`` None: the job has no watermark, so nothing is late and the recording is one batch.
    """

    trigger_us: int
    watermark_us: int | None
    records: int = 0
    batches: int = 0
    newest_arrival_us: int | None = None
    newest_trade_us: int | None = None

    def slots(self, lines: Iterable[bytes]) -> Iterator[Slot]:
        slot: list[bytes] = []
        slot_times: list[int | None] = []
        slot_index: int | None = None
        for raw in lines:
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue  # a blank line is no record
            self.records += 1
            arrival, trade_time = self._times(line)
            index = None if arrival is None else arrival // self.trigger_us
            if index is not None and slot_index is not None and index > slot_index and slot:
                yield self._close(slot, slot_times)
                slot, slot_times = [], []
            if index is not None and (slot_index is None or index > slot_index):
                slot_index = index  # a line that arrived "earlier" than its predecessor stays in their slot
            slot.append(line)
            slot_times.append(trade_time)
            if arrival is not None:
                self.newest_arrival_us = max(arrival, self.newest_arrival_us or arrival)
        if slot:
            yield self._close(slot, slot_times)

    @property
    def clock(self) -> datetime:
        """The replay clock: the newest arrival, else the newest trade time, else the epoch."""
        newest = self.newest_arrival_us if self.newest_arrival_us is not None else self.newest_trade_us
        return EPOCH + timedelta(microseconds=newest or 0)

    def _times(self, line: bytes) -> tuple[int | None, int | None]:
        """(arrival, trade time) in epoch microseconds; the trade time ``_UNREADABLE`` when present but unread."""
        try:
            record = json.loads(line)
        except ValueError:
            return None, None  # malformed: it never reaches a watermark
        if not isinstance(record, dict):
            return None, None
        timestamp = record.get("timestamp")
        trade_time = iso_micros(timestamp)
        if trade_time is None and timestamp is not None:
            trade_time = _UNREADABLE  # treated as possibly late, which only costs a cut
        return iso_micros(record.get("ingested_at")), trade_time

    def _close(self, lines: list[bytes], times: list[int | None]) -> Slot:
        starts_batch = self.batches == 0
        if not starts_batch and self.watermark_us is not None and self.newest_trade_us is not None:
            watermark = self.newest_trade_us - self.watermark_us
            starts_batch = any(t is not None and t <= watermark for t in times)
        if starts_batch:
            self.batches += 1
        readable = [t for t in times if t is not None and t != _UNREADABLE]
        if self.newest_trade_us is not None:
            readable.append(self.newest_trade_us)
        if readable:
            self.newest_trade_us = max(readable)
        return Slot(lines, starts_batch)
