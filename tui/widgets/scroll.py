"""A scrolling box whose scroll keys show in the footer: the graph's node detail, the help, the
message log and the neuron view are longer than an 80x24 terminal shows, and a learner who
cannot see that arrows and PgUp/PgDn scroll them never reads their end (issue 12)."""

from __future__ import annotations

from textual.containers import VerticalScroll

from tui.keys import bindings


class ScrollBox(VerticalScroll):
    """Textual's VerticalScroll, its `down` shown in the footer as `↑↓ PgUp PgDn Scroll`."""

    BINDINGS = bindings("scroll")
