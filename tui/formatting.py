"""How the app writes numbers and file names in what it shows: one form for every pane."""

from __future__ import annotations

import math
from pathlib import Path


def fmt_number(x: float | None) -> str:
    """A short, stable rendering of a float: 4 significant digits, nan/inf spelled out."""
    if x is None:
        return "-"
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.4g}"


def taken_note(asked: Path, written: Path) -> str:
    """What a notice adds when a file went under another name than the one asked for."""
    return "" if Path(written) == Path(asked) else f" ({Path(asked).name} was already there)"
