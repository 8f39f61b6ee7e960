"""What made the app crash in users' hands (issues 12 and 13): the log-scale loss plot, resizes
in every mode, key storms, piled-up reports, user strings read as markup, and terminals that
cannot do what the app assumed. Each test drives the app as a user would.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from apphelp import FAST, SIZE, step, wait_for
from textual import events
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets._select import SelectOverlay

from tui.app import MicrogradApp
from tui.screens.help import HelpScreen
from tui.screens.neuron import NeuronScreen
from tui.screens.settings import SettingsScreen
from tui.widgets.graph import GraphTree
from tui.widgets.loss import LossPlot
from tui.widgets.messages import MessageBar
from tui.widgets.params import ParamTable


def shown_text(widget) -> str:
    """What the widget shows, as plain text, one line per row."""
    region = Region(0, 0, *widget.outer_size)
    return "\n".join(strip.text for strip in widget.render_lines(region))


class LossOnly(App):
    def compose(self) -> ComposeResult:
        yield LossPlot(id="loss")


# -- issue 12 item 1: the log-scale loss ----------------------------------------------------
async def test_log_scale_survives_redraws_and_resizes():
    """Before: the second draw of a log figure re-logged its values (math domain error)."""
    app = LossOnly()
    async with app.run_test(size=(80, 20)) as pilot:
        plot = app.query_one(LossPlot)
        plot.add_points((s, 1.0 / s, None) for s in range(1, 200))
        plot.mark_lr(50, 0.2)
        plot.toggle_log()
        for size in ((80, 20), (60, 15), (100, 30), (30, 8), (80, 20)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert "199" in shown_text(plot) or size[0] < 40
        plot.refresh()
        await pilot.pause()
        assert "log (l)" in plot.border_subtitle


async def test_log_scale_with_no_data_yet_draws_an_empty_plot():
    """Before: `l` before the first step raised plotext's TypeError."""
    app = LossOnly()
    async with app.run_test(size=(80, 20)) as pilot:
        plot = app.query_one(LossPlot)
        plot.toggle_log()
        await pilot.pause()
        plot.refresh()
        await pilot.pause()
        assert plot.log_scale


async def test_log_scale_keeps_steps_whose_loss_is_zero_on_the_axis_floor():
    """A loss of 0 (a hinge loss with alpha 0) is drawn at the floor, not dropped, and said."""
    app = LossOnly()
    async with app.run_test(size=(80, 20)) as pilot:
        plot = app.query_one(LossPlot)
        plot.add_points((s, 1.0 / s if s < 20 else 0.0, None) for s in range(1, 101))
        plot.toggle_log()
        await pilot.pause()
        text = shown_text(plot)
        assert "100" in text.splitlines()[-2] + text.splitlines()[-1]  # the x axis reaches 100
        assert "81 loss(es) <= 0 drawn at" in plot.border_subtitle


async def test_l_before_the_first_step_does_not_crash():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.query_one(ParamTable).row_count > 0)
        await pilot.press("l")
        await pilot.pause()
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 1)
        await pilot.press("l", "l")
        await pilot.pause()
        assert app.query_one(LossPlot).log_scale


# -- a resize in every mode of every pane --------------------------------------------------
SIZES = ((80, 24), (20, 5), (12, 3), (59, 15), (200, 50), (120, 40))


async def _resize_through(pilot, app) -> None:
    for size in SIZES:
        await pilot.resize_terminal(*size)
        await pilot.pause()
    assert app.is_running


async def test_resizing_in_every_mode_of_every_pane_never_crashes():
    app = MicrogradApp(FAST)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: step(app) >= 3)
        await pilot.press("l")  # log scale on for every mode below, off again at the end
        for pane in ("boundary", "loss", "params", "tree"):
            app.query_one(f"#{pane}").focus()
            await pilot.press("z")
            assert app.query_one("#panes").has_class("-zoomed")
            await _resize_through(pilot, app)
            await pilot.press("z")
        await pilot.press("h")  # the gradients strip
        await _resize_through(pilot, app)
        await pilot.press("h", "space")
        await wait_for(pilot, lambda: app.reported_state == "paused" and app.graph_step >= 0)
        app.query_one(GraphTree).focus()
        await pilot.press("b", "b")  # the backprop walk
        assert app.graph.walk is not None
        await _resize_through(pilot, app)
        await pilot.press("escape")
        for key, screen in (("question_mark", HelpScreen), ("o", SettingsScreen)):
            await pilot.press(key)
            await wait_for(pilot, lambda screen=screen: isinstance(app.screen, screen))
            await _resize_through(pilot, app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not app.screen.is_modal)
        app.query_one(ParamTable).focus()
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, NeuronScreen))
        await wait_for(pilot, lambda: app.screen.last_view is not None)
        await _resize_through(pilot, app)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: app.screen.is_modal)
        await _resize_through(pilot, app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.screen.is_modal)
        await pilot.press("l")
        await _resize_through(pilot, app)
        at = step(app)
        await pilot.press("space")
        await wait_for(pilot, lambda: step(app) > at)  # alive and training


async def test_the_too_small_notice_fits_at_20x5():
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=(20, 5)) as pilot:
        notice = app.query_one("#too-small")
        await wait_for(pilot, lambda: notice.display and shown_text(notice).strip())
        text = shown_text(notice)
        assert "Terminal too small" in text and "20x5" in text and "60x16" in text, text


# -- issue 13 item 1: key storms -----------------------------------------------------------
# Besides every binding of the app: the keys its modals and widgets take, the palette's.
EXTRA_KEYS = ("ctrl+p", "enter", "escape", "tab", "shift+tab", "up", "down", "left", "right")
EXTRA_KEYS += ("g", "1", "2", "3", "x", "ctrl+s", "backspace", "a", "0", ".", "comma")


def storm_keys() -> list[str]:
    """The app's whole key set, quit excepted (it is counted by the test, not performed)."""
    keys = {b.key for b in MicrogradApp.BINDINGS} | set(EXTRA_KEYS)
    return sorted(keys)


def rss_mib() -> float:
    """This process's resident memory (the app runs in it under Pilot)."""
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kb / 1024


async def storm(pilot, keys: list[str], n: int, seed: int, burst: int = 20) -> None:
    """`n` keys drawn from `keys`, `burst` at a time as fast as the driver takes them, 20 ms
    apart (as a user leaning on the keyboard, or tmux send-keys, delivers them)."""
    app = pilot.app
    rng = random.Random(seed)
    for start in range(0, n, burst):
        for key in rng.choices(keys, k=min(burst, n - start)):
            char = key if len(key) == 1 else None
            event = events.Key(key, char)
            event.set_sender(app)
            app._driver.send_message(event)
        await pilot.pause(0.02)
        assert app.is_running, f"the app ended after {start + burst} keys"


def counting_quits(app) -> list[int]:
    """Quit counted, not performed: a key storm may well press q (or pick Quit in the
    palette)."""
    quits: list[int] = []

    async def no_quit() -> None:
        quits.append(1)

    app.action_quit = no_quit
    return quits


async def back_to_training(pilot, app) -> None:
    """Close whatever the storm left open, then take one step: the run still trains.

    The storm's keys may still be queued (under load, hundreds): a key that opens a screen can
    come after the escapes, so wait until the app's queue is empty and no screen is open."""
    deadline = time.monotonic() + 60
    settled = 0
    while settled < 3:
        assert time.monotonic() < deadline, f"the storm's keys never settled: {app.screen}"
        await pilot.pause(0.05)
        if app.screen.is_modal:
            settled = 0
            await pilot.press("escape")
        elif app._message_queue.empty():  # noqa: SLF001 (the storm's queued keys are done)
            settled += 1
        else:
            settled = 0
    assert not app.screen.is_modal, app.screen
    assert not app.mirror.stopped, "the training process died"
    before = app.last_report
    await pilot.press("n")
    await wait_for(pilot, lambda: app.last_report is not before, timeout=30)
    await pilot.press("space")
    await wait_for(pilot, lambda: app.mirror.state == "running", timeout=30)


async def test_a_seeded_key_storm_over_every_key_leaves_the_app_alive_and_training(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # s, e, w and p write into the current folder
    app = MicrogradApp(FAST)
    counting_quits(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: step(app) >= 2)
        before = rss_mib()
        await storm(pilot, storm_keys(), 1200, seed=13)
        await back_to_training(pilot, app)
        grown = rss_mib() - before
        assert grown < 150, f"the app grew by {grown:.0f} MiB in the storm"


async def test_palette_then_enter_enter_does_not_pop_the_last_screen():
    """Before: ScreenStackError ("Can't pop screen") when both enters reached the palette."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.query_one(ParamTable).row_count > 0)
        for _ in range(5):
            for key in ("ctrl+p", "enter", "enter", "enter"):
                event = events.Key(key, None)
                event.set_sender(app)
                app._driver.send_message(event)
            await pilot.pause(0.03)
        await back_to_training(pilot, app)


# -- issue 13 item 3: user strings shown as text -------------------------------------------
MARKUP = ("[", "[/]", "[bold]", "[link=x]")


def write_csv(path, labels=("cat", "dog")) -> None:
    rows = "".join(f"{i / 10},{(i % 7) / 10},{labels[i % 2]}\n" for i in range(20))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x,y,label\n" + rows)


async def test_csv_paths_and_labels_with_markup_are_shown_as_typed(tmp_path):
    """Before: `--csv '[x=.csv'` (or a label `[/]`) died at start with MarkupError."""
    for i, text in enumerate(MARKUP):
        path = tmp_path / f"{i}{text}x=.csv"  # "[/]" makes a folder "…[" and a file "]x=.csv"
        write_csv(path, labels=(f"a{text}", f"{text}b"))
        app = MicrogradApp(FAST.__class__(csv=str(path), hidden=(4,)), paused=True)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            pane = app.query_one("#dataset")
            await wait_for(pilot, lambda app=app: "Classes" in toasts(app))
            subtitle = pane._border_subtitle.plain  # as drawn (the getter gives markup)
            first, second = sorted((f"a{text}", f"{text}b"))  # classes in sorted order
            assert subtitle == f"{path}: 20 train, 0 test; 0={first} 1={second}", subtitle
            assert f"Classes: 0={first}, 1={second}" in toasts(app), toasts(app)
            assert str(path) in status_what(app)


def status_what(app) -> str:
    from tui.widgets.status import StatusLine

    return app.query_one(StatusLine).render_text().plain


async def test_settings_values_with_markup_show_their_error_as_typed():
    """Before: typing `[/]` in a settings field and applying crashed the form."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.query_one(ParamTable).row_count > 0)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        form = app.screen
        for text in MARKUP:
            for field in ("samples", "noise", "hidden", "lr"):
                form.query_one(f"#set-{field}").value = text
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, SettingsScreen)
            error = form.query_one("#err-samples")
            shown = " ".join(shown_text(error).split())  # main's wording, wrapped
            assert f"got '{text}'" in shown, shown
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.screen.is_modal)


async def test_notices_quoting_a_folder_with_markup_are_shown_as_typed(tmp_path, monkeypatch):
    """Before: in a folder named `[a=b`, `s` saved and then the "Saved" notice crashed."""
    for i, text in enumerate((*MARKUP, "[a=b")):
        folder = tmp_path / f"{i}{text.replace('/', '')}"
        folder.mkdir()
        monkeypatch.chdir(folder)
        await save_and_read_the_notice(MicrogradApp(FAST, paused=True), folder.name)
        assert list(folder.glob("*.json"))


async def save_and_read_the_notice(app, folder_name: str) -> None:
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 1)
        await pilot.press("s")
        await wait_for(pilot, lambda: "Saved" in toasts(app))
        assert f"{folder_name}/microgradtui-" in toasts(app)


def toasts(app) -> str:
    """The text of the notices on screen: the message bar (toasts, had any been shown)."""
    shown = [str(t.render()) for t in app.query("Toast")]
    return " ".join([*shown, app.query_one(MessageBar).text])


# -- issue 13 item 9: what the terminal can do ---------------------------------------------
def screen_bytes(app) -> str:
    """Everything the app would write to the terminal for a full redraw of its screen."""
    update = app.screen._compositor.render_update(full=True)
    return update.render_segments(app.console)


def plain_terminal(monkeypatch, **env: str) -> None:
    for name in ("COLORTERM", "NO_COLOR", "LC_ALL", "LC_CTYPE", "TEXTUAL_COLOR_SYSTEM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("LANG", "C.UTF-8")
    for name, value in env.items():
        monkeypatch.setenv(name, value)


async def test_a_dumb_terminal_gets_no_24_bit_colour(monkeypatch):
    """Before: TERM=dumb got `38;2;r;g;b` codes (Textual's fallback is truecolor)."""
    plain_terminal(monkeypatch, TERM="dumb")
    app = MicrogradApp(FAST)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: step(app) >= 2 and app.query_one(ParamTable).row_count)
        await pilot.pause(0.3)
        out = screen_bytes(app)
        assert "step " in out
        for code in ("38;2;", "48;2;", "38;5;", "48;5;"):
            assert code not in out, code


async def test_without_a_utf8_locale_everything_drawn_is_ascii(monkeypatch):
    """Before: LANG=C still got box drawing, ● markers and braille."""
    plain_terminal(monkeypatch, LANG="C")
    app = MicrogradApp(FAST)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: step(app) >= 5 and app.query_one(ParamTable).row_count)
        await pilot.pause(0.6)  # a loss plot redraw
        out = screen_bytes(app)
        assert "Dataset" in out and "step " in out
        odd = sorted({c for c in out if not c.isascii()})
        assert not odd, odd
        assert "+-" in out and "|" in out  # the borders, in ASCII


def contrast(fg, bg) -> float:
    """WCAG contrast ratio of two rich colours as a 16-colour xterm shows them."""
    from rich.color import ColorSystem
    from rich.terminal_theme import DEFAULT_TERMINAL_THEME as THEME

    def luminance(colour, default) -> float:
        if colour is None or colour.is_default:
            triplet = default
        else:
            triplet = colour.downgrade(ColorSystem.STANDARD).get_truecolor(THEME)
        channels = []
        for v in triplet:
            v /= 255
            channels.append(v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    a = luminance(fg, THEME.foreground_color)
    b = luminance(bg, THEME.background_color)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


async def test_with_16_colours_every_point_contrasts_with_its_region(monkeypatch):
    """Before: with TERM=xterm class-0 points were bright red on a red region."""
    from tui.widgets.dataset import TEST_GLYPHS, TRAIN_GLYPHS, BoundaryView

    plain_terminal(monkeypatch, TERM="xterm")
    app = MicrogradApp(FAST)
    async with app.run_test(size=SIZE) as pilot:
        assert app.console.color_system == "standard"
        view = app.query_one(BoundaryView)
        await wait_for(pilot, lambda: step(app) >= 30 and view.grid)
        await pilot.pause(0.6)
        checked = 0
        for y in range(view.size.height):
            for seg in view.render_line(y):
                if seg.text and seg.text[0] in TRAIN_GLYPHS + TEST_GLYPHS and seg.style:
                    ratio = contrast(seg.style.color, seg.style.bgcolor)
                    assert ratio >= 3.0, (seg.text, seg.style, ratio)
                    checked += 1
        assert checked >= 20


def test_the_locale_decides_ascii_as_posix_orders_it():
    from tui.terminal import utf8_locale

    assert utf8_locale({"LANG": "en_GB.UTF-8"}) and utf8_locale({})
    assert not utf8_locale({"LANG": "C"}) and not utf8_locale({"LANG": "POSIX"})
    assert not utf8_locale({"LC_ALL": "en_US.ISO-8859-1", "LANG": "en_US.UTF-8"})
    assert utf8_locale({"LC_CTYPE": "de_DE.utf8", "LANG": "C"})
    assert not utf8_locale({"LC_CTYPE": "C.UTF-8", "LANG": "C"})  # Python's own coercion


async def test_every_palette_the_app_opens_is_the_guarded_one():
    """The theme list and command lists open palettes too (a storm's NoMatches came from one)."""
    from tui.screens.on_top import Palette

    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        for open_one in (app.action_command_palette, app.search_themes):
            open_one()
            await wait_for(pilot, lambda: app.screen.is_modal)
            assert isinstance(app.screen, Palette)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not app.screen.is_modal)


async def test_page_keys_in_the_palette_before_its_list_is_drawn_do_not_crash():
    """Before: PgUp/PgDn reaching the command palette as its first results came (the list
    shown, not laid out yet) raised KeyError in Textual's OptionList: exit status 1, found in a
    tmux key storm. Keys sent as fast as the driver takes them, then at a few paces."""
    keys = ["ctrl+p", "s", "pageup", "pagedown", "e", "pageup", "escape", "pageup", "pagedown"]
    for pace in (0.0, 0.01, 0.03, 0.05):
        app = MicrogradApp(FAST, paused=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda a=app: a.query_one(ParamTable).row_count > 0)
            for key in [*keys, "escape"]:
                event = events.Key(key, key if len(key) == 1 else None)
                event.set_sender(app)
                app._driver.send_message(event)
                if pace:
                    await pilot.pause(pace)
            await pilot.pause(1.0)
            assert app.is_running and app.return_code is None, pace


async def test_page_keys_in_a_choice_list_with_no_room_do_not_crash():
    """Before: PgUp/PgDn in a settings choice list (Textual's Select overlay) that had no
    width to lay its lines out in (a terminal of 20x5, or one being resized) raised KeyError in
    Textual's OptionList: exit status 1, found in a tmux key storm with resizes. The keys do
    nothing there; at 80x24 they still move the highlight."""
    for size in ((20, 5), (80, 24)):
        app = MicrogradApp(FAST, paused=True)
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda a=app: a.query_one(ParamTable).row_count > 0)
            await pilot.press("o")
            await wait_for(pilot, lambda a=app: isinstance(a.screen, SettingsScreen))
            await pilot.press("enter")  # the form starts on the dataset's choice: open it
            await wait_for(pilot, lambda a=app: isinstance(a.focused, SelectOverlay))
            overlay = app.focused
            for key in ("pagedown", "pageup", "pagedown"):
                await pilot.press(key)
            await pilot.pause(0.2)
            assert app.is_running and app.return_code is None, size
            if size == (80, 24):
                assert overlay.highlighted == len(overlay.options) - 1


def _modals(app) -> dict:
    """Every modal of the app, as the app opens it (the tensor ones on a tensor run)."""
    from tui.screens.message_log import MessageLog
    from tui.screens.scratch import ScratchScreen
    from tui.screens.tensor import ArrayScreen, EnginesScreen, FiltersScreen

    return {
        "help": lambda: HelpScreen(),
        "settings": lambda: SettingsScreen(app.mirror.run_config),
        "neuron": lambda: NeuronScreen(0, 0, app.request_neuron),
        "scratch": lambda: ScratchScreen(),
        "messages": lambda: MessageLog(app.messages),
        "array": lambda: ArrayScreen("L0.W", lambda name: None),
        "filters": lambda: FiltersScreen(lambda index: None),
        "engines": lambda: EnginesScreen(),
    }


@pytest.mark.parametrize(
    "name", ["help", "settings", "neuron", "scratch", "messages", "array", "filters", "engines"]
)
async def test_a_modal_closed_before_it_has_mounted_does_not_crash(name):
    """Before: a modal popped before its on_mount ran (a late close of the screen under it,
    reaching the app just after the new one was pushed: a tmux key storm) found its widgets gone
    there, NoMatches, exit status 1 (the arrays screen, then the filters and engines screens and
    the message log the same way)."""
    from test_app_tensor_storm import CONV

    app = MicrogradApp(CONV, paused=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.tensor.active, timeout=20)
        for pause in (None, 0.0):
            app.push_screen(_modals(app)[name]())
            if pause is not None:
                await asyncio.sleep(pause)
            app.pop_screen()
            await pilot.pause(0.3)
            assert app.is_running and app.return_code is None, pause
            assert not app.screen.is_modal
        app.push_screen(_modals(app)[name]())  # and opened normally, it still works
        await wait_for(pilot, lambda: app.screen.is_modal and app.screen.is_mounted)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.screen.is_modal)


async def test_apply_on_a_settings_form_not_mounted_yet_or_closed_does_nothing():
    """Before: ctrl+s reaching the settings form before it had mounted (a key sent with the one
    that opened it) or after it had closed read its fields, NoMatches: exit status 1 in a tmux
    key storm (benchmarks/burst_storm.py). Now it does nothing then, and applies once open."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.query_one(ParamTable).row_count > 0)
        form = SettingsScreen(app.mirror.run_config)
        app.push_screen(form)
        form.action_apply()  # pushed, not mounted yet
        await wait_for(pilot, lambda: form.is_mounted)
        assert app.screen is form
        app.pop_screen()
        await pilot.pause(0.3)
        form.action_apply()  # closed, its fields removed
        assert app.is_running and app.return_code is None and not app.screen.is_modal
        await pilot.press("o")  # opened as a user does, ctrl+s still applies
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not app.screen.is_modal)
