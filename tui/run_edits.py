"""Edits of a run, on the training process's side: its data (add or remove a point), its loss
history as CSV, and which commands a replay refuses (READ_ONLY).

Plain data and functions on a `Trainer`, no UI: `tui.session` calls them between steps.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from micrograd.train import Trainer

# Commands that would change a replayed run: a replay shows a saved run and never trains.
READ_ONLY = frozenset(
    {
        "set_lr",
        "scale_lr",
        "resume",
        "step",
        "reset",
        "next_dataset",
        "add_point",
        "remove_point",
        "configure",
    }
)

HISTORY_COLUMNS = ("step", "loss", "accuracy", "lr", "test_loss", "test_accuracy", "seconds")


@dataclass(frozen=True)
class DataEdited:
    """The training data after an edit (the model and the history are kept)."""

    X_train: list[list[float]]
    y_train: list[int]
    X_test: list[list[float]]
    y_test: list[int]


def data_edited(trainer: Trainer) -> DataEdited:
    d = trainer.data
    return DataEdited(
        [list(x) for x in d.X_train], list(d.y_train), [list(x) for x in d.X_test], list(d.y_test)
    )


def edit_data(trainer: Trainer, name: str, args: tuple[Any, ...]) -> tuple[str, str]:
    """Apply "add_point" (x, label) or "remove_point" (x) to the trainer's data; returns the
    notice (text, severity). The next step trains on the edited data."""
    data = trainer.data
    if data.input_dim != 2:
        return ("Points can be added and removed on data with two inputs only", "warning")
    try:
        if name == "add_point":
            x, label = args
            data.add_point(x, label)
            return (
                f"Added a class {label} point at ({x[0]:.2f}, {x[1]:.2f}): "
                f"{len(data.X_train)} training samples",
                "information",
            )
        point, label, was_test = data.remove_nearest(args[0])
    except (ValueError, TypeError, IndexError) as exc:
        return (f"Data unchanged: {exc}", "warning")
    where = "test" if was_test else "training"
    return (
        f"Removed the class {label} {where} point at ({point[0]:.2f}, {point[1]:.2f}): "
        f"{len(data.X_train)} training samples",
        "information",
    )


def history_csv(trainer: Trainer) -> str:
    """The run's loss history as CSV: one row per kept report (see `History`), empty cells
    where a step has no test evaluation."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for r in trainer.history:
        writer.writerow(
            [
                r.step,
                repr(r.loss),
                repr(r.accuracy),
                repr(r.lr),
                "" if r.test_loss is None else repr(r.test_loss),
                "" if r.test_accuracy is None else repr(r.test_accuracy),
                f"{r.seconds:.6f}",
            ]
        )
    return out.getvalue()
