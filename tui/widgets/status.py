"""The status line: the run's numbers in fixed words that scripts and tests can read."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.formatting import fmt_number
from tui.run_state import RunShown

STATE_STYLES = {
    "running": "bold green",
    "paused": "bold yellow",
    "diverging": "bold magenta",  # finite, but far above the run's best loss
    "diverged": "bold red",
}


class StatusLine(Widget):
    """`step <n>  loss <x>  acc <p>%  lr <x>  <r> steps/s [(pace <s>/s)]  <state>`, what is trained;
    while a step is under way phase by phase (`.`), `step <n+1> after <phase>  loss <x or ->`:
    the step the graph shows.

    `run` is the widget's own reactive: setting it repaints this line only, and only when what
    it shows changed (never a new layout)."""

    run: reactive[RunShown] = reactive(RunShown, layout=False)

    def render(self) -> Text:
        return self.render_text()

    def render_text(self) -> Text:
        r = self.run
        acc = "-" if r.accuracy is None else f"{100 * r.accuracy:.1f}"
        text = Text()
        if r.phase and r.phase != "update":  # a step under way (`.`): the one the graph shows
            text.append(f"step {r.step + 1} after {r.phase}", "bold cyan")
            text.append(f"  loss {fmt_number(r.phase_loss)}  acc -%")
        else:
            text.append(f"step {r.step}", "bold")
            text.append(f"  loss {fmt_number(r.loss)}")
            if r.test_loss is not None:
                text.append(f"  test {fmt_number(r.test_loss)}")
            text.append(f"  acc {acc}%")
        text.append(f"  lr {fmt_number(r.lr)}", "bold")
        if r.lr_asked:
            text.append(f" ({r.lr_asked} asked)", "italic")
        text.append(f"  {r.rate:.1f} steps/s")
        if r.speed:
            text.append(f" (pace {r.speed:g}/s)", "bold cyan")
        text.append("  ")
        text.append(r.state, STATE_STYLES.get(r.state, ""))
        if r.phase == "update":  # the step is done: the status shows it, as the graph does
            text.append("  after update", "bold cyan")
        if not r.zero_grad:
            text.append("  zero_grad off (G)", "bold red")
        if r.what:
            text.append(f"  {r.what}", "dim")
        return text
