"""Suite-wide checks."""

from __future__ import annotations

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
