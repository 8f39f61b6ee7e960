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


async def test_a_built_figure_lets_go_of_its_copy_of_the_history(monkeypatch):
    """Each redraw hands the builder thread copies of the history. A finished Textual worker
    stays in a reference cycle (its task and coroutine) until the cyclic collector's next full
    pass, 10 to 20 s later, and it held its arguments: four copies of the history a build,
    about 3 MiB waiting at every pass on the issue-15 conv run, which the allocator then kept
    (the UI's memory grew over its first 20 s). The copies go when the figure is built, full
    pass or not."""
    import gc
    import weakref

    from textual.app import App

    copies: list[weakref.ref] = []
    snapshot = loss.Curve.snapshot

    def spy(self):
        xs, ys = snapshot(self)
        copies.extend(weakref.ref(view.obj) for view in (xs, ys))
        return xs, ys

    monkeypatch.setattr(loss.Curve, "snapshot", spy)

    class Host(App):
        def compose(self):
            yield loss.LossPlot()

    gc.disable()  # as between two full passes
    try:
        app = Host()
        async with app.run_test(size=(80, 20)) as pilot:
            plot = app.query_one(loss.LossPlot)
            built = 0
            for start in range(1, 1001, 100):
                plot.add_points((s, 1.0 / s, None) for s in range(start, start + 100))
                shown = plot._shown
                for _ in range(100):  # the next figure built in the thread (0.5 s a redraw)
                    await pilot.pause(0.05)
                    if plot._shown is not shown and plot._building is None:
                        built += 1
                        break
            assert built >= 5 and len(copies) >= 10
            assert list(plot.steps)[-1] == 1000
            await pilot.pause(0.1)
            alive = [ref for ref in copies if ref() is not None]
            assert not alive, f"{len(alive)} of {len(copies)} copies still held"
    finally:
        gc.enable()
