"""Every screen at 80x24 by keyboard alone, what it says and what it shows (issue 12, items 1
to 6 of the screens pass): the node detail scrolled by keys, `p` on every screen, the
lr-change labels, the live message log, each modal's own keys."""

from __future__ import annotations

import io
import re

import pytest
from apphelp import FAST, status, wait_for
from rich.console import Console
from textual.widgets import Static

from tui.app import MicrogradApp
from tui.formatting import fmt_number
from tui.widgets.graph import GraphTree
from tui.widgets.key_footer import KeyFooter
from tui.widgets.loss import LossPlot
from tui.widgets.messages import MessageBar
from tui.widgets.node_detail import NodeDetail

SMALL = (80, 24)


def screen_text(app) -> str:
    """The screen as the terminal shows it (the modal over the screens below), as plain text."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), force_terminal=True, record=True
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    return console.export_text()


def footer_text(screen) -> str:
    """The keys of `screen`'s own footer, as shown: `key label` each."""
    return "  ".join(
        f"{k.key_display} {k.description}".strip()
        for k in screen.query_one(KeyFooter).query("FooterKey")
    )


async def at_step_1(pilot, app) -> None:
    """A paused run's first step taken, its graph shown."""
    await wait_for(pilot, lambda: "2-4-1" in status(app))
    await pilot.press("n")
    await wait_for(pilot, lambda: app.graph_step == 1)


async def test_node_detail_takes_the_focus_and_scrolls_to_the_chain_rule_at_80x24():
    """Before: the detail could not take the focus (tab went past it) and its chain-rule sum,
    below its first lines at 80x24, could be read only by zooming the pane (z)."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SMALL) as pilot:
        await at_step_1(pilot, app)
        tree = app.query_one(GraphTree)
        tree.focus()
        await pilot.press("down", "enter")  # a node below the loss: it has a consumer
        detail = app.query_one(NodeDetail)
        await wait_for(pilot, lambda: "chain rule" in str(detail.query_one(Static).render()))
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.focused is detail)
        await pilot.pause()
        assert detail.display and "Scroll" in footer_text(app.screen)
        assert not app.query_one("#panes").has_class("-zoomed")
        assert detail.max_scroll_y > 0  # the sum lies below the first lines
        await pilot.press("pagedown", "pagedown", "pagedown")
        await wait_for(pilot, lambda: detail.scroll_y == detail.max_scroll_y)
        text = screen_text(app)
        assert "(grad shown:" in text  # the sum's last line, on screen
        await pilot.press("up")
        await wait_for(pilot, lambda: detail.scroll_y < detail.max_scroll_y)


async def test_the_walk_names_keys_that_work_at_80x24():
    """Before: the walk's notice said "(z: zoom to see the detail)" at 80x24, where the detail
    already showed (the walk focuses the Graph) and zooming was not what made it readable."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SMALL) as pilot:
        await at_step_1(pilot, app)
        await pilot.press("b", "b")
        detail = app.query_one(NodeDetail)
        await wait_for(pilot, lambda: detail.display and "backprop 2/" in screen_text(app))
        said = app.messages[-1].message
        assert "zoom" not in said and "tab" in said
        await pilot.press("tab")  # what it says: the detail takes the focus, to scroll
        await wait_for(pilot, lambda: app.focused is detail)
        await pilot.press("b")  # the walk goes on from there
        await wait_for(pilot, lambda: "backprop 3/" in screen_text(app))


def open_screens(app):
    """(key or opener, the modal's class name, a word of its title) for every modal screen:
    those a key opens, and the tensor run's, opened here as the tensor app opens them."""
    from tui.screens.tensor import ArrayScreen, EnginesScreen, FiltersScreen

    return [
        ("question_mark", "HelpScreen", "keys"),
        ("o", "SettingsScreen", "Settings"),
        ("v", "NeuronScreen", "Neuron"),
        ("a", "ScratchScreen", "Scratch"),
        ("m", "MessageLog", "Messages"),
        (lambda: app.push_screen(ArrayScreen("L0.W", lambda name: None)), "ArrayScreen", "L0.W"),
        (lambda: app.push_screen(FiltersScreen(lambda index: None)), "FiltersScreen", "filters"),
        (lambda: app.push_screen(EnginesScreen()), "EnginesScreen", "engines"),
    ]


async def open_modal(pilot, app, opener) -> None:
    if callable(opener):
        opener()
    else:
        if opener == "v":
            app.query_one("#params").focus()  # a parameter row L0.N0.*: its neuron
        await pilot.press(opener)
    await wait_for(pilot, lambda: app.screen.is_modal and app.screen.is_mounted)
    await pilot.pause()


async def test_every_modal_shows_its_own_keys_at_80x24():
    """Before: a modal covered the app's footer at 80x24 and had none of its own: no key of
    help, settings, the neuron view, the message log or the tensor screens was on screen."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        for opener, name, _title in open_screens(app):
            await open_modal(pilot, app, opener)
            screen = app.screen
            assert type(screen).__name__ == name
            footers = screen.query(KeyFooter)
            assert footers, f"{name} has no footer"
            footer = footers.first()
            await wait_for(pilot, lambda f=footer: f.query("FooterKey"))
            assert footer.region.bottom == SMALL[1], name  # on screen, on the last lines
            shown = footer_text(screen)
            assert "Close" in shown or "Cancel" in shown, (name, shown)
            for key in footer.query("FooterKey"):  # each shown whole, inside the screen
                assert key.region.right <= SMALL[0] and key.region.width > 0, (name, shown)
            await pilot.press("escape")
            await wait_for(pilot, lambda s=screen: app.screen is not s)
            if app.screen.is_modal:  # the scratch pad: escape went from the field to the tree
                await pilot.press("escape")
                await wait_for(pilot, lambda: not app.screen.is_modal)


async def test_p_saves_the_screen_the_user_sees_on_every_screen(tmp_path):
    """Before: over a modal screen `p` did nothing (the app's keys pass through a modal)."""
    app = MicrogradApp(FAST, paused=True)
    app.save_folder = tmp_path
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        saved: list = []
        for opener, name, title in open_screens(app):
            await open_modal(pilot, app, opener)
            screen = app.screen
            if not callable(opener) and opener == "a":
                await wait_for(pilot, lambda s=screen: s.focused is not None)
            await pilot.press("p")
            before = len(saved)
            await wait_for(pilot, lambda n=before: len(list(tmp_path.glob("*.svg"))) > n)
            new = sorted(set(tmp_path.glob("*.svg")) - set(saved))
            assert len(new) == 1
            saved += new
            svg = new[0].read_text().replace("&#160;", " ")
            assert title.lower() in svg.lower(), name  # the modal, as the user sees it
            bar = screen.query_one(MessageBar)  # the notice, on the modal's own line
            await wait_for(pilot, lambda b=bar, f=new[0]: f.name in b.text)
            await pilot.press("escape")
            await wait_for(pilot, lambda s=screen: app.screen is not s)
            if app.screen.is_modal:
                await pilot.press("escape")
                await wait_for(pilot, lambda: not app.screen.is_modal)
        assert len(set(saved)) == len(open_screens(app))  # none over another


async def test_the_message_log_takes_new_messages_while_open():
    """Before: the log showed the notices of the moment it opened, and no later one."""
    from tui.screens.message_log import MessageLog

    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        for i in range(30):  # more than the log shows at 80x24
            app.notify(f"early notice {i}")
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MessageLog))
        log = app.screen
        box = log.query_one("#message-log")
        await wait_for(pilot, lambda: box.max_scroll_y > 0 and box.scroll_y == box.max_scroll_y)
        app.notify("a notice while the log is open")
        lines = log.query_one("#message-lines", Static)
        await wait_for(pilot, lambda: "a notice while the log is open" in str(lines.render()))
        assert f"Messages: {len(app.messages)}" in box.border_title
        # at the end, it follows the new notice: the newest line is on screen
        await wait_for(pilot, lambda: box.scroll_y == box.max_scroll_y)
        await wait_for(pilot, lambda: "a notice while the log is open" in screen_text(app))
        # scrolled back, the reader stays where they are
        await pilot.press("home")
        await wait_for(pilot, lambda: box.scroll_y == 0)
        app.notify("another notice")
        await wait_for(pilot, lambda: "another notice" in str(lines.render()))
        await pilot.pause()
        assert box.scroll_y == 0 and "early notice 0" in screen_text(app)


async def test_the_message_log_keeps_the_last_notices_and_says_how_many_were_given():
    """Before: every notice of the session was kept (a key storm gave thousands) and redrawn
    into the open log on each new one. Now the last MESSAGES_KEPT, and the title says so."""
    from tui.screens.message_log import MESSAGES_KEPT, MessageLog

    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        before = len(app.messages)
        for i in range(MESSAGES_KEPT + 200):
            app.notify(f"storm notice {i}")
        given = before + MESSAGES_KEPT + 200
        assert len(app.messages) == MESSAGES_KEPT
        assert app.messages[0].message == f"storm notice {200 + before}"  # the oldest went
        assert app.messages[-1].message == f"storm notice {MESSAGES_KEPT + 199}"
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MessageLog))
        box = app.screen.query_one("#message-log")
        title = f"Messages: the last {MESSAGES_KEPT:,} of {given:,}"
        assert title in box.border_title
        app.notify("one more")  # joins the open log, which stays at the same size
        lines = app.screen.query_one("#message-lines", Static)
        await wait_for(pilot, lambda: "one more" in str(lines.render()))
        assert f"the last {MESSAGES_KEPT:,} of {given + 1:,}" in box.border_title
        assert "storm notice 0\n" not in str(lines.render()) + "\n"
        assert len(app.screen.notes) == MESSAGES_KEPT == len(app.messages)


def loss_lines(app) -> list[str]:
    plot = app.query_one(LossPlot)
    return [plot.render_line(y).text for y in range(plot.size.height)]


def lr_labels(lines: list[str]) -> list[str]:
    return re.findall(r"lr (-?[\d.]+(?:e[+-]?\d+)?)(?=[ │┐]|$)", "\n".join(lines))


@pytest.mark.parametrize("size", [SMALL, (120, 40)])
async def test_lr_changes_are_labelled_with_the_new_lr(size):
    """Before: a faint magenta line, no value, and the subtitle only counted the changes."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        plot = app.query_one(LossPlot)
        for _ in range(8):
            await pilot.press("n")
        await wait_for(pilot, lambda: "step 8 " in status(app))
        await pilot.press("plus")
        await wait_for(pilot, lambda: plot.lr_marks)
        for _ in range(8):
            await pilot.press("n")
        await wait_for(pilot, lambda: "step 16 " in status(app))
        await wait_for(pilot, lambda: lr_labels(loss_lines(app)) == [fmt_number(0.2)])
        assert f"lr {fmt_number(0.2)} since step" in plot.border_subtitle
        # three changes a step apart: close marks, labelled where there is room, never garbled
        for _ in range(3):
            before = len(plot.lr_marks)
            await pilot.press("plus", "n")
            await wait_for(pilot, lambda n=before: len(plot.lr_marks) > n)
        for _ in range(2):
            await pilot.press("n")
        lrs = {fmt_number(0.1 * 2**k) for k in range(1, 5)}
        await wait_for(pilot, lambda: f"lr {fmt_number(1.6)} since step" in plot.border_subtitle)
        await wait_for(pilot, lambda: len(lr_labels(loss_lines(app))) >= 2)
        shown = lr_labels(loss_lines(app))
        assert set(shown) <= lrs and len(shown) == len(set(shown)), shown


def test_a_label_covers_nothing_the_plot_drew(monkeypatch):
    """Labels go on blank cells only: the curve (its last point too), the legend, the marks
    and the frame are as they were without them; close marks get one label or none each."""
    from textual_plotext.plot import Plot

    from tui.widgets import loss

    steps = list(range(1, 41))
    losses = [2.0 / s for s in steps]
    losses[-1] = 2.0  # the last point high up, where labels go first
    marks = [(10, 0.2), (11, 0.4), (12, 0.8), (20, 0.05), (39, 0.025), (40, 1.5)]
    for width, height in ((38, 8), (56, 16), (80, 12)):
        key = (0, width, height, False, "textual-dark")
        curves = (steps, losses, [], [], marks)
        labelled = [s.text for s in loss.build_figure(Plot(), key, curves)]
        monkeypatch.setattr(loss, "label_marks", lambda text, *_: text)
        bare = [s.text for s in loss.build_figure(Plot(), key, curves)]
        monkeypatch.undo()
        assert labelled != bare  # some label was written
        for row_l, row_b in zip(labelled, bare, strict=True):
            for a, b in zip(row_l, row_b, strict=True):
                assert a == b or b == " ", (row_l, row_b)
        shown = lr_labels(labelled)
        assert len(shown) == len(set(shown))
        assert set(shown) <= {fmt_number(lr) for _, lr in marks}


async def test_the_heatmap_screen_names_keys_that_work():
    """Before: its hint said `m: shades` (m opens the message log; C is the shades key), and its
    footer showed neither the arrows nor C."""
    from textual.app import App

    from micrograd.train import TrainConfig, Trainer
    from tui import tensor_views as tv
    from tui.screens.tensor import ArrayScreen
    from tui.widgets.heatmap import Heatmap

    trainer = Trainer(TrainConfig(engine="tensor", samples=40, hidden=(4,), seed=1))
    trainer.step()
    app = App()
    app.CSS_PATH = MicrogradApp.CSS_PATH
    async with app.run_test(size=SMALL) as pilot:
        screen = ArrayScreen("L0.W", lambda name: None)
        app.push_screen(screen)
        await wait_for(pilot, lambda: screen.is_mounted)
        screen.show_arrays(tv.param_arrays(trainer, "L0.W"))
        await pilot.pause()
        head = str(screen.query_one("#pair-head", Static).render())
        shown = footer_text(screen)
        assert "C: shades" in head and "C Shades" in shown and "Move" in shown, (head, shown)
        heatmap = screen.query_one(Heatmap)
        assert app.focused is heatmap and not heatmap.shades
        await pilot.press("C")
        assert heatmap.shades


async def test_the_gradient_check_verdict_is_on_screen_at_80x24():
    """Before: the notice ended with the verdict, which the 80-column message bar cut off."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SMALL) as pilot:
        await at_step_1(pilot, app)
        app.query_one("#params").focus()
        await pilot.press("c")  # the parameter row's check: the Graph's detail is not shown

        def bar_line() -> str:
            rows = screen_text(app).splitlines()
            bar = app.query_one(MessageBar).region.y
            return rows[bar] if bar < len(rows) else ""

        await wait_for(pilot, lambda: "Gradient check of" in bar_line())
        assert "agree" in bar_line(), bar_line()


async def test_the_tensor_detail_takes_the_focus_and_the_walk_names_tab_at_80x24():
    """The tensor graph's detail as the scalar one: tab reaches it, its keys in the footer; the
    tensor walk's notice named z (zoom) where the detail already showed."""
    from micrograd.train import TrainConfig
    from tui.widgets.tensor_detail import TensorNodeDetail

    config = TrainConfig(engine="tensor", samples=40, hidden=(4,), lr=0.1, steps=100_000, seed=7)
    app = MicrogradApp(config, paused=True)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: app.tensor.active)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.graph_step == 1)
        await pilot.press("b")
        await wait_for(pilot, lambda: any("tensor graph" in n.message for n in app.messages))
        said = next(n.message for n in app.messages if "tensor graph" in n.message)
        assert "zoom" not in said and "tab" in said
        detail = app.query_one(TensorNodeDetail)
        await wait_for(pilot, lambda: detail.display and app.focused is app.query_one(GraphTree))
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.focused is detail)
        await pilot.pause()
        assert "Scroll" in footer_text(app.screen)
