"""How the app writes numbers: one short, stable form for every pane."""

from __future__ import annotations

import math


def fmt_number(x: float | None) -> str:
    """A short, stable rendering of a float: 4 significant digits, nan/inf spelled out."""
    if x is None:
        return "-"
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.4g}"
