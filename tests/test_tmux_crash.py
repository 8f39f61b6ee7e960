"""Crashes users met, in a real terminal (tmux): key storms sent as bursts, a terminal without a
UTF-8 locale, and one of 20x5. See test_crash.py for the same with Pilot."""

from __future__ import annotations

import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_tmux import ARGS, Terminal, status_line  # noqa: E402

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and not os.environ.get("CI"), reason="needs tmux"
)

# The app's keys as tmux names them; q (quit) and ctrl+p (the palette, where typed letters and
# enter can pick "Quit") are left out: an exit there would be the user's choice, not a crash.
TMUX_KEYS = (
    "Space n + - ] [ r d z ? l s e b B Escape c v o h N S w p Enter Tab BTab "
    "Up Down Left Right g 1 2 3 x C-s BSpace"
).split()


def start_with(term: Terminal, width: int, height: int, env: str, args: str = ARGS) -> None:
    """Like Terminal.start, with environment variables set for the app (`env`: NAME=value ...)."""
    command = f"env {env} {shlex.quote(sys.executable)} -m tui {args}; echo EXITED $?; sleep 600"
    subprocess.run(
        ["tmux", "-L", term.socket, "-f", "/dev/null", "new-session", "-d", "-s", "app"]
        + ["-x", str(width), "-y", str(height), "-c", term.cwd, command],
        check=True,
        timeout=10,
    )


def shown_step(text: str) -> int | None:
    """The status line's step, or None while no status line is on screen (a redraw)."""
    words = status_line(text).split()
    return int(words[1]) if len(words) > 1 and words[1].isdigit() else None


def on_the_main_screen(text: str) -> bool:
    """The main screen's footer is at the bottom (one or two rows at 120 columns, with its own
    keys: b Backprop, q Quit): no modal is open (the palette shows no footer, the others
    their own keys)."""
    bottom = " ".join(text.rstrip("\n").splitlines()[-2:])
    return "b Backprop" in bottom and "q Quit" in bottom and bool(status_line(text))


def exit_status(text: str) -> int | None:
    """The app's exit status once it has exited (the pane's shell prints it), else None."""
    found = re.search(r"EXITED (\d+)", text)
    return int(found.group(1)) if found else None


def back_to_the_main_screen(term: Terminal, timeout: float = 45) -> str:
    """Escape until no modal is open: a storm can leave several stacked (a form, the palette
    over it), and the app may still be working through the storm's keys, some of which open
    more. One escape a second: escapes that reach the app together (a loaded machine reads
    them in one chunk) parse as one alt+escape, which closes nothing. Done when the main
    screen shows twice in a row, half a second apart, or the app has exited; bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = term.screen()
        if exit_status(text) is not None:
            return text
        if on_the_main_screen(text):
            time.sleep(0.5)
            text = term.screen()
            if on_the_main_screen(text) or exit_status(text) is not None:
                return text
            continue
        term.keys("Escape")
        time.sleep(1.0)
    pytest.fail(f"escape no longer closes what is open:\n{term.screen()}")


def storm_in_bursts(term: Terminal, seed: int) -> bool:
    """800 keys, 20 at a time about 20 ms apart, a palette (ctrl+p, enter, enter) in each
    burst; then escapes back to the main screen. False if the storm quit the app through the
    palette (its "Quit" is one Down away from the first entry): status 0, the user's choice.
    A crash (another status) fails the test."""
    term.start(120, 40)
    term.wait_for(lambda s: "running" in status_line(s), "a running status")
    rng = random.Random(seed)
    for _ in range(40):
        burst = rng.choices(TMUX_KEYS, k=17)
        at = rng.randrange(17)
        burst[at:at] = ["C-p", "Enter", "Enter"]  # the palette, and a late second enter
        term.keys(*burst)
        time.sleep(0.02)
    time.sleep(1.0)  # the storm's last keys reach the app
    text = back_to_the_main_screen(term)  # close whatever modals the storm left open
    status = exit_status(text)
    assert status in (None, 0), f"the app exited with status {status} in the storm:\n{text}"
    return status is None


def test_a_key_storm_in_bursts_leaves_the_app_alive_and_training(term: Terminal) -> None:
    for seed in (13, 14, 15, 16):
        if storm_in_bursts(term, seed):
            break
        # it quit through the palette: another storm, in a tmux server started afresh (a new
        # session on a server still shutting down came up blank)
        term.tmux("kill-server")
        deadline = time.monotonic() + 10
        while term.tmux("list-sessions") and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
    else:
        pytest.fail("four storms in a row quit the app through the palette")
    text = term.wait_for(lambda s: "steps/s" in status_line(s), "the status line after the storm")
    assert "EXITED" not in text
    before = shown_step(text)
    # The storm's escape and `[` keys make CSI sequences that the terminal's input parser may
    # still be completing with the next keys, and a late key may open a modal: press n on the
    # main screen until one step shows (bounded).
    deadline = time.monotonic() + 30
    while shown_step(term.screen()) in (before, None):
        assert time.monotonic() < deadline, f"no step after the storm:\n{term.screen()}"
        back_to_the_main_screen(term)
        term.keys("n")
        time.sleep(1.0)
    # Keys of the storm can still be on their way and open a modal (help, the palette) after
    # the escapes above: close what is open, then quit; bounded.
    deadline = time.monotonic() + 30
    while "EXITED" not in term.screen():
        assert time.monotonic() < deadline, f"the app did not exit:\n{term.screen()}"
        for _ in range(3):
            term.keys("Escape")
            time.sleep(0.2)
        term.keys("q")
        time.sleep(2.0)
    assert "EXITED 0" in term.screen(), term.screen()


@pytest.mark.parametrize("env", ["LANG=C LC_ALL= LC_CTYPE=", "TERM=dumb"])
def test_plain_terminals_show_the_app_in_ascii_or_without_colour(term: Terminal, env) -> None:
    start_with(term, 100, 30, env)
    text = term.wait_for(lambda s: "running" in status_line(s), "a running status")
    assert "Dataset" in text and "EXITED" not in text
    if env.startswith("LANG=C"):
        time.sleep(1.0)  # a loss plot redraw
        odd = sorted({c for c in term.screen() if not c.isascii()})
        assert not odd, odd
    else:
        coloured = term.tmux("capture-pane", "-e", "-p", "-t", "app")
        assert "38;2;" not in coloured and "48;2;" not in coloured
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit", timeout=10)


def test_the_too_small_notice_reads_whole_at_20x5(term: Terminal) -> None:
    term.start(20, 5)
    text = term.wait_for(lambda s: "60x16" in s, "the too-small notice")
    assert "Terminal too small" in text and "20x5" in text, text
    term.keys("q")
    term.wait_for(lambda s: "EXITED 0" in s, "the app to exit", timeout=10)


# A conv run on digits: the heaviest panes to redraw (images, the confusion matrix, filters).
CONV_ARGS = (
    "--engine tensor --dataset digits --samples 600 --test-fraction 0.2 --conv 8,16 --hidden 32 "
    "--optimizer adam --lr 0.01 --batch-size 64 --steps 1000000 --seed 4"
)
SIZES = ((120, 40), (80, 24), (60, 16), (40, 12), (100, 30))


def test_a_key_storm_with_resizes_leaves_the_app_answering_keys(term: Terminal) -> None:
    """Before: keys and resizes in bursts froze the app (about one run in three on the conv
    digits run): two footer recomposes waited on each other, or PgUp in a settings choice list
    with no room raised KeyError (exit status 1). After the storm the app must still open and
    close the help screen from the keyboard, and quit with status 0."""
    term.start(120, 40, CONV_ARGS)
    term.wait_for(lambda s: "running" in status_line(s), "a running status", timeout=60)
    rng = random.Random(4)
    for _ in range(3 * 30):  # 2,250 keys in bursts of 25, a resize after each
        term.keys(*rng.choices([*TMUX_KEYS, "PPage", "NPage", "?", "m"], k=25))
        width, height = rng.choice(SIZES)
        term.tmux("resize-window", "-t", "app", "-x", str(width), "-y", str(height))
        time.sleep(0.25)
    term.tmux("resize-window", "-t", "app", "-x", "120", "-y", "40")
    assert "EXITED" not in term.screen(), term.screen()
    # Answering keys: escapes close what the storm left open, `?` opens the help and escape
    # closes it again (bounded; a key of the storm may still be on its way, so up to 3 tries).
    for _ in range(3):
        for _ in range(4):
            term.keys("Escape")
            time.sleep(0.3)
        term.keys("?")
        try:
            term.wait_for(lambda s: "escape closes" in s, "the help screen", timeout=20)
            break
        except pytest.fail.Exception:
            continue
    else:
        pytest.fail(f"the app no longer opens the help screen:\n{term.screen()}")
    term.keys("Escape")
    term.wait_for(lambda s: "escape closes" not in s, "the help screen closed", timeout=20)
    deadline = time.monotonic() + 30
    while "EXITED" not in term.screen():
        assert time.monotonic() < deadline, f"the app did not exit:\n{term.screen()}"
        term.keys("Escape")
        time.sleep(0.3)
        term.keys("q")
        time.sleep(2.0)
    assert "EXITED 0" in term.screen(), term.screen()
