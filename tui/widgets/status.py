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
    the step the graph shows. Always one row: narrower than the line, it drops or shortens what
    matters least first (`render_text`).

    `run` is the widget's own reactive: setting it repaints this line only, and only when what
    it shows changed (never a new layout)."""

    run: reactive[RunShown] = reactive(RunShown, layout=False)

    def render(self) -> Text:
        return self.render_text(self.size.width or None)

    def render_text(self, width: int | None = None) -> Text:
        """The whole line; with `width`, one row of at most `width` cells, never wrapped (a
        second row is never shown). Where the whole line does not fit, `what` is shortened down
        to its name (the data, and "tensor"), then the fields are parted by one space instead of
        two, then the steps/s figure goes, then the test loss; then `what` goes, and the end is
        cut. The step, loss, acc, lr, pace, state and zero_grad go last."""
        what = self.run.what
        words = what.split(" ")
        floor = len(" ".join(words[:2] if words[1:2] == ["tensor"] else words[:1])) + 1
        for sep, rate, test in (("  ", 1, 1), (" ", 1, 1), (" ", 0, 1), (" ", 0, 0)):
            text = self._line(sep, rate, test, what)
            if width is None or text.cell_len <= width:
                return text
            room = width - (text.cell_len - Text(what).cell_len)  # the cells left for `what`
            if room >= floor:
                return self._line(sep, rate, test, _shortened(what, room))
        text = self._line(" ", False, False, "")
        text.truncate(width, overflow="ellipsis")  # narrower still: cut, never wrapped
        return text

    def _line(self, sep: str, rate: bool, test: bool, what: str) -> Text:
        """The fields parted by `sep`, with or without the steps/s figure and the test loss."""
        r = self.run
        acc = "-" if r.accuracy is None else f"{100 * r.accuracy:.1f}"
        text = Text(no_wrap=True, overflow="ellipsis")
        if r.phase and r.phase != "update":  # a step under way (`.`): the one the graph shows
            text.append(f"step {r.step + 1} after {r.phase}", "bold cyan")
            text.append(f"{sep}loss {fmt_number(r.phase_loss)}{sep}acc -%")
        else:
            text.append(f"step {r.step}", "bold")
            text.append(f"{sep}loss {fmt_number(r.loss)}")
            if test and r.test_loss is not None:
                text.append(f"{sep}test {fmt_number(r.test_loss)}")
            text.append(f"{sep}acc {acc}%")
        text.append(f"{sep}lr {fmt_number(r.lr)}", "bold")
        if r.lr_asked:
            text.append(f" ({r.lr_asked} asked)", "italic")
        if rate:
            text.append(f"{sep}{r.rate:.1f} steps/s")
        if r.speed:
            text.append(f"{' ' if rate else sep}(pace {r.speed:g}/s)", "bold cyan")
        text.append(sep)
        text.append(r.state, STATE_STYLES.get(r.state, ""))
        if r.phase == "update":  # the step is done: the status shows it, as the graph does
            text.append(f"{sep}after update", "bold cyan")
        if not r.zero_grad:
            text.append(f"{sep}zero_grad off (G)", "bold red")
        if what:
            text.append(f"{sep}{what}", "dim")
        return text


def _shortened(what: str, cells: int) -> str:
    """`what` in at most `cells` cells, ending in "…" where cut, and cut between words: a word
    cut short reads as another one (`moons 2-16-16-1` cut in its last word showed as
    `moons 2-16-1…`, another network). Within a word only when the first does not fit."""
    if Text(what).cell_len <= cells:
        return what
    words = what.split(" ")
    for n in range(len(words) - 1, 0, -1):
        head = " ".join(words[:n]).rstrip(",")
        if Text(head).cell_len + 1 <= cells:
            return head + "…"
    text = Text(what)
    text.truncate(cells, overflow="ellipsis")
    return text.plain
