"""The status line: the run's numbers in fixed words that scripts and tests can read."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.formatting import fmt_number

STATE_STYLES = {"running": "bold green", "paused": "bold yellow", "diverged": "bold red"}


class StatusLine(Static):
    """`step <n>  loss <x>  acc <p>%  lr <x>  <r> steps/s  <state>` and what is trained."""

    def __init__(self, **kwargs) -> None:
        super().__init__("starting", **kwargs)
        self.step = 0
        self.loss: float | None = None
        self.accuracy: float | None = None
        self.test_loss: float | None = None
        self.lr: float | None = None
        self.rate = 0.0
        self.state = "starting"
        self.what = ""

    def show(self, **fields: object) -> None:
        """Set any of the fields above and redraw (without a new layout)."""
        for key, value in fields.items():
            setattr(self, key, value)
        self.update(self.render_text(), layout=False)

    def render_text(self) -> Text:
        acc = "-" if self.accuracy is None else f"{100 * self.accuracy:.1f}"
        text = Text()
        text.append(f"step {self.step}", "bold")
        text.append(f"  loss {fmt_number(self.loss)}")
        if self.test_loss is not None:
            text.append(f"  test {fmt_number(self.test_loss)}")
        text.append(f"  acc {acc}%")
        text.append(f"  lr {fmt_number(self.lr)}", "bold")
        text.append(f"  {self.rate:.1f} steps/s  ")
        text.append(self.state, STATE_STYLES.get(self.state, ""))
        if self.what:
            text.append(f"  {self.what}", "dim")
        return text
