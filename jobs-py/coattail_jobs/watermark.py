"""Rows the watermarks dropped, as Spark counts them: a metric and a log line per micro-batch that dropped any.

A stateful operator (the deduplication on ``event_id`` within the watermark, an event-time window) drops a
row whose event time is behind the watermark the earlier micro-batches set, and reports how many in the
micro-batch's progress (``stateOperators[].numRowsDroppedByWatermark``). In the jobs the deduplication is
the first stateful operator after the watermark, so a late trade is dropped, and counted, there once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pyspark.sql.streaming.query import StreamingQuery

from .metrics import MetricsSink

METRIC = "RecordsDroppedByWatermark"

log = logging.getLogger(__name__)


def rows_dropped(progress: Mapping[str, Any]) -> int:
    """The rows one micro-batch's stateful operators dropped behind the watermark (a progress as JSON)."""
    operators = progress.get("stateOperators") or []
    return sum(int(operator.get("numRowsDroppedByWatermark", 0)) for operator in operators)


def dropped_by_batch(progresses: Iterable[Mapping[str, Any]]) -> dict[int, int]:
    """Batch id -> rows dropped behind the watermark, over a query's progress reports.

    A trigger that ran no batch reports the next batch's id with nothing dropped: the larger count wins.
    """
    dropped: dict[int, int] = {}
    for progress in progresses:
        batch_id = int(progress["batchId"])
        dropped[batch_id] = max(dropped.get(batch_id, 0), rows_dropped(progress))
    return dropped


class WatermarkDrops:
    """Reports the late rows of one job's queries: per micro-batch that dropped any, a WARN line (job, query,
    batch id, rows) and the metric ``RecordsDroppedByWatermark`` (Count; dimensions Job and Query).

    ``report`` reads a query's recent progress (Spark keeps its last 100 micro-batches) and reports each
    batch once; call it more often than 100 triggers pass. A batch that dropped nothing publishes nothing. A
    metrics service that refuses the data is logged as an ERROR and the rows are added to the next publish.
    """

    def __init__(self, job: str, namespace: str, sink: MetricsSink) -> None:
        self.job = job
        self.namespace = namespace
        self._sink = sink
        self._reported: dict[str, int] = {}
        """Run id -> the newest batch reported."""
        self._unpublished: dict[str, int] = {}
        """Query name -> rows logged but not yet accepted by the metrics service."""

    def report(self, query: StreamingQuery) -> int:
        """Logs and publishes what ``query`` dropped in the batches not reported yet; returns those rows."""
        run = str(query.runId)
        name = query.name or str(query.id)
        last = self._reported.get(run, -1)
        fresh = {b: n for b, n in dropped_by_batch(query.recentProgress).items() if b > last and n > 0}
        for batch_id, rows in sorted(fresh.items()):
            log.warning("%s: query %s dropped %d rows behind its watermark in batch %d", self.job, name, rows, batch_id)
        if fresh:
            self._reported[run] = max(fresh)
        dropped = sum(fresh.values())
        pending = self._unpublished.pop(name, 0) + dropped
        if pending:
            try:
                self._sink.publish(self.namespace, {METRIC: float(pending)}, {"Job": self.job, "Query": name})
            except (ClientError, BotoCoreError) as err:
                log.error(
                    "%s: %s (%d rows of %s) not published, retried next time: %s", self.job, METRIC, pending, name, err
                )
                self._unpublished[name] = pending
        return dropped
