"""Replay (backtesting): one job's streaming logic over a recording of unified trades, written as NDJSON.

``python -m coattail_jobs replay <job> --input trades.jsonl --out DIR [--set NAME=VALUE ...] [--json]``

The recording runs through the live pipeline as a bounded stream: a file stream (``sources.file_source``)
-> ``parse_trades`` -> the data-quality checks (valid rows by the checks' own conditions; dead letters
through ``foreachBatch`` and ``DataQualityChecker.validate``) -> the job's transform, built by the same
factories the live jobs use -> one NDJSON file per output in DIR. Each output is deduplicated on its
table's natural key (``writers.NATURAL_KEYS``, what the live Iceberg MERGE does) and sorted by time, then
key, so two runs of the same recording write identical files.

Micro-batches. Only the batch boundaries decide which trades are late: Spark moves the watermark between
micro-batches, never inside one. Live, a micro-batch holds what arrived in one trigger interval. So the
recording (in its line order, which is arrival order) is cut into slots of ``config.trigger`` by each
line's ``ingested_at``; a slot becomes a micro-batch of its own only when one of its trades is at or
behind the watermark that the trades before it set (the newest trade time seen minus ``watermark``).
Otherwise it joins the current micro-batch: none of its trades can be late there, and apart from lateness
the outputs do not depend on where batches end (windows are emitted once, deduplication spans batches,
and the anomaly detector orders windows itself). That estimate counts every trade, also those the quality
checks or the job's filter later drop, so it can only overestimate the watermark: it may cut where no
cut was needed, never merge where live would have dropped a trade. A clean recording is one micro-batch.

End of input. A streaming window is emitted only once the watermark passes its end, and a bounded
input never moves the watermark past its last windows. After the recording, one synthetic trade, far in
the future on the private symbol and exchange ``replay-flush``, enters the trades stream in a micro-batch
of its own (a second file stream, unioned after the quality step: it must not be dead-lettered nor
counted). Its batch moves the watermark past every real window, and the no-data micro-batch Spark runs
next emits them all; ``processAllAvailable`` waits for that batch too. Every output drops the synthetic
symbol, and the synthetic trade's own window is never emitted (the watermark stays behind it).

volume-anomaly runs two queries, as live (``applyInPandasWithState`` cannot follow a streaming
aggregation): the aggregates first, then the stateful ``detect_anomalies`` as a stream over them.

The replay clock: ``detected_at``, ``archived_at`` and the quality checks' processing time are the
newest ``ingested_at`` of the recording (its newest trade time when it has none), not the wall clock, so
reruns agree. ``timeliness_recent`` (a WARN check: it never dead-letters a trade) is judged against it.
"""
