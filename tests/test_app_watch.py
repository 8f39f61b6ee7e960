"""Time to watch: the speed keys pace the training loop (and the status line says so)."""

from __future__ import annotations

import time

from apphelp import FAST, SIZE, status, step, wait_for

from micrograd.train import TrainConfig
from tui.app import MicrogradApp
from tui.protocol import SetSpeed
from tui.run_state import SPEEDS, RunMirror


def test_the_speed_keys_walk_the_paces_and_stop_at_the_ends():
    sent = []
    mirror = RunMirror(lambda c: sent.append(c) or len(sent), TrainConfig())
    assert mirror.speed == 0.0  # full speed
    mirror.change_speed(faster=True)
    assert mirror.speed == 0.0  # already the fastest
    for want in (30.0, 10.0, 5.0, 2.0, 1.0, 1.0):
        mirror.change_speed(faster=False)
        assert mirror.speed == want
    assert sent[-1] == SetSpeed(1.0)
    for _ in SPEEDS:
        mirror.change_speed(faster=True)
    assert mirror.speed == 0.0 and sent[-1] == SetSpeed(0.0)
    assert mirror.shown().speed == 0.0


async def test_two_steps_a_second_then_full_speed_again():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(4):  # full -> 30 -> 10 -> 5 -> 2
            await pilot.press("less_than_sign")
        assert "(pace 2/s)" in status(app)  # shown at once
        await pilot.press("space")
        start = step(app)
        await wait_for(pilot, lambda: step(app) >= start + 1)  # it trains, slowly
        first, t0 = step(app), time.monotonic()
        await pilot.pause(2.0)
        elapsed = time.monotonic() - t0
        done = step(app) - first
        assert 1 <= done < 2 * elapsed + 8, (done, elapsed)  # full speed would be hundreds
        assert "(pace 2/s)" in status(app) and "running" in status(app)
        for _ in range(4):
            await pilot.press("greater_than_sign")
        assert "pace" not in status(app)
        now = step(app)
        await wait_for(pilot, lambda: step(app) >= now + 200)  # full speed again
