"""The trace of an answer: for each stage of the pipeline, what it decided, why, and how long it took.

``ask --json``, ``POST /api/ask`` and the evaluation's ``results.jsonl`` carry it, so that a refusal names the rule
that made it and a benchmark reads stage times without reaching into the code.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    """One stage's record: its name, its decision, the rule behind it (if one decided), details and time."""

    stage: str
    decision: str = ""
    rule: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"stage": self.stage, "decision": self.decision, "ms": round(self.ms, 2)}
        if self.rule:
            data["rule"] = self.rule
        if self.details:
            data["details"] = self.details
        return data


@dataclass
class Trace:
    """The steps of one answer, in order."""

    steps: list[Step] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str) -> Iterator[Step]:
        """Time a stage; the caller fills in its decision."""
        step = Step(name)
        started = time.perf_counter()
        try:
            yield step
        finally:
            step.ms = (time.perf_counter() - started) * 1000
            self.steps.append(step)

    def to_list(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.steps]

    def ms(self, stage: str) -> float:
        """Time spent in a stage (0 when it did not run)."""
        return sum(s.ms for s in self.steps if s.stage == stage)
