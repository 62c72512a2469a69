"""What a replay reports: for people on stderr, and as one JSON object with ``--json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ReplaySummary:
    job: str
    input: str
    out: str
    as_of: str
    settings: dict[str, object]
    records: int
    micro_batches: int
    passed: int
    dead_lettered: int
    malformed: int
    late_dropped: int
    watermark: str | None
    outputs: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """For people, on stderr: what ran, then one line per file written."""
        late = (
            f"{_count(self.late_dropped, 'late row')} dropped behind the {self.watermark} watermark, as live would"
            if self.watermark is not None
            else "no watermark: late trades are archived too"
        )
        head = (
            f"replay {self.job}: {_count(self.records, 'record')} in {_count(self.micro_batches, 'micro-batch')} "
            f"as of {self.as_of}; {self.passed} passed the quality checks, {self.dead_lettered} to the dead-letter "
            f"queue ({self.malformed} malformed); {late}"
        )
        files = [
            f"replay {self.job}: {_count(n, 'row')} in {Path(self.out) / name}" for name, n in self.outputs.items()
        ]
        return [head, *files]

    def as_json(self) -> str:
        return json.dumps(
            {
                "job": self.job,
                "input": self.input,
                "out": self.out,
                "as_of": self.as_of,
                "settings": self.settings,
                "records": self.records,
                "micro_batches": self.micro_batches,
                "passed": self.passed,
                "dead_lettered": self.dead_lettered,
                "malformed": self.malformed,
                "late_dropped": self.late_dropped,
                "watermark": self.watermark,
                "outputs": self.outputs,
            }
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}es" if noun.endswith("batch") else f"{n} {noun}s"
