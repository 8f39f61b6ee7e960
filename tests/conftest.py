"""Suite-wide checks."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

START = Path.cwd()


def _saved_here() -> set[str]:
    return {p.name for p in START.glob("microgradtui-*")}


@pytest.fixture(autouse=True)
def writes_nothing_into_the_working_folder():
    """The app's `s`, `e`, `w` and `p` write into the folder it was started in: a test that
    presses them must run the app in a folder of its own, never in the checkout."""
    before = _saved_here()
    yield
    added = sorted(_saved_here() - before)
    assert not added, f"this test wrote {added[:5]} into {START}"


@pytest.fixture
def term(request, tmp_path) -> Iterator:
    """A tmux server of its own (tests/test_tmux.py's Terminal) started in tmp_path, so the
    app's saved files land there; killed after the test."""
    sys.path.insert(0, os.path.dirname(__file__))
    from test_tmux import Terminal

    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    t = Terminal(f"mgtui-{name}-{os.getpid()}-{time.monotonic_ns()}", str(tmp_path))
    yield t
    t.tmux("kill-server")
