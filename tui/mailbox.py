"""Reports waiting for the UI, coalesced so that they never pile up faster than it takes them.

The report thread puts every report from the training process here; the UI is told once
(a message) that something waits, and takes the whole lot when it gets to it. Meanwhile:

- a newer `ModelView`, `GraphView`, `NeuronView` or `DataEdited` replaces the waiting one
  (the app only ever shows the latest);
- `Progress` batches merge into one (all their steps, the newest state, rate, lr and serial),
  holding at most MAX_STEPS steps (the loss plot keeps no more than that either);
- a `DatasetView` (a new run) drops what waits about the old run;
- events (`Notice`, `LrChanged`, `GradCheckView`) are kept in order, at most MAX_EVENTS of
  them (the oldest go first); `Stopped` is always kept.

So what waits is bounded whatever the user presses: one of each view, MAX_STEPS step reports
and MAX_EVENTS events. This module imports no UI code.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from tui.protocol import (
    ArrayReport,
    DataEdited,
    DatasetView,
    EnginesReport,
    FiltersReport,
    GradCheckView,
    GraphView,
    ModelView,
    NeuronView,
    Progress,
    Report,
    Stopped,
    TensorModel,
)

MAX_STEPS = 8192
MAX_EVENTS = 50
LATEST_ONLY = (ModelView, GraphView, NeuronView, DataEdited)
LATEST_ONLY += (TensorModel, ArrayReport, FiltersReport, EnginesReport)  # a tensor run's
OF_THE_RUN = (*LATEST_ONLY, Progress, DatasetView, GradCheckView)  # dropped by a new run
NOT_EVENTS = (*LATEST_ONLY, Progress, DatasetView, Stopped)


class Mailbox:
    """Thread-safe: `put` from the report thread, `take` from the UI."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[Report] = []
        self._told = False  # the UI has been told and has not taken yet

    def put(self, report: Report) -> bool:
        """Add `report`; True when the UI must be told (nothing was waiting for it)."""
        with self._lock:
            waiting = self._waiting
            if isinstance(report, DatasetView):
                waiting[:] = [r for r in waiting if not isinstance(r, OF_THE_RUN)]
            elif isinstance(report, LATEST_ONLY):
                waiting[:] = [r for r in waiting if type(r) is not type(report)]
            elif isinstance(report, Progress):
                old = next((r for r in waiting if isinstance(r, Progress)), None)
                if old is not None:
                    waiting.remove(old)
                    steps = (old.reports + report.reports)[-MAX_STEPS:]
                    report = replace(report, reports=steps)
            waiting.append(report)
            events = [r for r in waiting if not isinstance(r, NOT_EVENTS)]
            for r in events[: max(0, len(events) - MAX_EVENTS)]:
                waiting.remove(r)
            tell = not self._told
            self._told = True
            return tell

    def take(self) -> list[Report]:
        """Everything waiting, in order; the next `put` tells the UI again."""
        with self._lock:
            waiting, self._waiting = self._waiting, []
            self._told = False
            return waiting

    def holds(self, kinds: tuple[type, ...]) -> bool:
        """Whether a report of one of `kinds` waits."""
        with self._lock:
            return any(isinstance(r, kinds) for r in self._waiting)

    def __len__(self) -> int:
        with self._lock:
            return len(self._waiting)
