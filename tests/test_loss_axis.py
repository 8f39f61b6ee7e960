"""The loss plot's x axis: step numbers are whole numbers."""

from __future__ import annotations

import re

import pytest
from textual_plotext.plot import Plot

from tui.widgets import loss


@pytest.mark.parametrize("width, height", [(38, 8), (56, 16), (116, 14)])
@pytest.mark.parametrize("last", [40, 300, 12_345])
def test_the_step_axis_is_labelled_with_whole_steps(width, height, last):
    """Before: the labels were a downsampled window's mean step (`2.5  77.1  151.8`)."""
    steps = list(range(1, last + 1))
    losses = [1.0 / s for s in steps]
    key = (0, width, height, False, "textual-dark")
    lines = [s.text for s in loss.build_figure(Plot(), key, (steps, losses, [], [], []))]
    axis = next(i for i, line in enumerate(lines) if "└" in line)
    labels = re.findall(r"-?\d[\d.e+-]*", lines[axis + 1])
    assert len(labels) >= 2, lines
    assert all(label.isdigit() for label in labels), lines[axis + 1]
    numbers = [int(label) for label in labels]
    assert numbers == sorted(numbers) and 1 <= numbers[0] and numbers[-1] <= last
    assert numbers[-1] >= 0.8 * last  # the axis still spans the run


def test_ticks_are_whole_steps_inside_the_range():
    assert loss.step_ticks(2.5, 301.0, 60) == [3, 77, 152, 226, 301]
    assert all(2.5 <= t <= 3.9 for t in loss.step_ticks(2.5, 3.9, 60))
