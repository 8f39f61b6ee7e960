"""What the Pilot tests share: a small fast run, a bounded wait, and reading the app's state."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from micrograd.train import TrainConfig
from tui.app import MicrogradApp
from tui.widgets.status import StatusLine

FAST = TrainConfig(samples=40, hidden=(4,), lr=0.1, steps=100_000, seed=7)
# the lecture's example: its 4 samples, MLP 3-4-4-1 tanh, sum of squared errors, lr 0.05
LECTURE = TrainConfig(
    dataset="tiny", hidden=(4, 4), activation="tanh", loss="sse", lr=0.05, seed=3, steps=1000
)
SIZE = (120, 40)


async def wait_for(pilot, condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {condition.__doc__ or condition}")
        await pilot.pause(0.05)


def status(app: MicrogradApp) -> str:
    return app.query_one(StatusLine).render_text().plain


def step(app: MicrogradApp) -> int:
    return app.last_report.step if app.last_report else 0


def notices(app: MicrogradApp) -> list[str]:
    return [n.message for n in app.messages]


async def step_then_skip_zero_grad(pilot, app: MicrogradApp) -> None:
    """On a paused run: one whole step, then G (every later step skips zero_grad), which the
    status line says at once."""
    await pilot.press("n")
    await wait_for(pilot, lambda: step(app) == 1)
    await pilot.press("G")
    assert "zero_grad off" in status(app)
