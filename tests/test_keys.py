"""The one table of keys: the App's bindings, the panes' bindings, the palette and the help are
made from it, and the README's key tables describe exactly its keys."""

from __future__ import annotations

import re
from pathlib import Path

from rich.console import Console

from tui.keys import KEYS, bindings, help_lines, palette_entries

README = Path(__file__).resolve().parents[1] / "README.md"
STOP = {"the", "and", "with", "from", "when", "again", "back", "each", "this", "over", "next"}


def readme_key_rows() -> dict[str, str]:
    """Every key written in the first column of a README table headed `| key | action |`,
    mapped to the text of its row."""
    rows: dict[str, str] = {}
    in_keys = False
    for line in README.read_text().splitlines():
        if line.startswith("| key | action |"):
            in_keys = True
            continue
        if not line.startswith("|"):
            in_keys = False
            continue
        if in_keys and not line.startswith("| ---"):
            first = line.split("|")[1]
            for key in re.findall(r"`([^`]+)`", first):
                rows[key] = rows.get(key, "") + " " + line
    return rows


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in STOP}


def test_the_readme_lists_every_key_with_its_action_and_no_other():
    rows = readme_key_rows()
    table = {k.shown_as for k in KEYS}
    assert set(rows) == table
    for k in KEYS:
        assert words(k.help) & words(rows[k.shown_as].split("|", 2)[2]), k


def test_the_app_binds_every_app_key_and_the_panes_their_own():
    from tui.app import MicrogradApp
    from tui.widgets.dataset import BoundaryView
    from tui.widgets.graph import GraphTree
    from tui.widgets.params import ParamTable

    app_keys = {(b.key, b.action) for b in MicrogradApp.BINDINGS}
    assert app_keys == {(k.key, k.action) for k in KEYS if k.bound == "app"}
    for widget, bound in ((BoundaryView, "dataset"), (ParamTable, "params"), (GraphTree, "graph")):
        own = {(b.key, b.action) for b in widget.BINDINGS}
        assert {(b.key, b.action) for b in bindings(bound)} <= own
    for k in KEYS:
        if k.bound == "app":
            assert hasattr(MicrogradApp, f"action_{k.action.split('(')[0]}"), k.action


def test_the_palette_and_the_help_come_from_the_table():
    from tui.screens.help import help_text

    assert [k.action for k in palette_entries()] == [
        k.action for k in KEYS if k.bound == "app" and k.name
    ]
    console = Console(width=200, record=True)
    console.print(help_text())
    text = console.export_text()
    for keys, what in help_lines():
        assert what in text and keys in text
    assert {k.key for k in KEYS} >= {"0", "plus", "space", "question_mark"}
    assert len({k.key for k in KEYS}) == len(KEYS)  # one row per key


def test_no_key_does_two_things():
    """An app key (bound with priority) would hide a pane's key of the same name: one row each.
    Two branches once both took `m` (the message log and the heatmaps' shades)."""
    keys = [k.key for k in KEYS]
    assert sorted(k for k in set(keys) if keys.count(k) > 1) == []
