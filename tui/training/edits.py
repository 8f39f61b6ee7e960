"""Edits of a run, on the training process's side: its data (add or remove a point), and its
loss history as CSV.

Plain data and functions on a `Trainer`, no UI: the training loop calls them between steps.
"""

from __future__ import annotations

import csv
import io

from micrograd.train import Trainer
from tui.protocol import AddPoint, DataEdited, RemovePoint

HISTORY_COLUMNS = ("step", "loss", "accuracy", "lr", "test_loss", "test_accuracy", "seconds")


def data_edited(trainer: Trainer) -> DataEdited:
    d = trainer.data
    return DataEdited(
        [list(x) for x in d.X_train], list(d.y_train), [list(x) for x in d.X_test], list(d.y_test)
    )


def edit_data(trainer: Trainer, edit: AddPoint | RemovePoint) -> tuple[str, str]:
    """Apply `edit` to the trainer's data; returns the notice (text, severity). The next step
    trains on the edited data."""
    data = trainer.data
    if trainer.tensor_run is not None:  # its arrays were made from the data at the start
        return ("Points can be added and removed on the scalar engine only, so far", "warning")
    if data.input_dim != 2:
        return ("Points can be added and removed on data with two inputs only", "warning")
    try:
        if isinstance(edit, AddPoint):
            x, label = edit.x, edit.label
            data.add_point(x, label)
            return (
                f"Added a class {label} point at ({x[0]:.2f}, {x[1]:.2f}): "
                f"{len(data.X_train)} training samples",
                "information",
            )
        point, label, was_test = data.remove_nearest(edit.x)
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
