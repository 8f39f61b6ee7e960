"""Every screen usable with the keyboard alone at 80x24 (issue 12, items 3 to 5)."""

from __future__ import annotations

import pytest
from apphelp import FAST, status, wait_for
from textual.widgets import Footer, Input, Static
from textual.widgets._footer import FooterKey

from tui.app import MicrogradApp
from tui.keys import KEYS
from tui.screens.message_log import MessageLog
from tui.screens.neuron import NeuronScreen
from tui.screens.settings import FIELDS, SettingsScreen
from tui.widgets.dataset import BoundaryView
from tui.widgets.graph import GraphTree
from tui.widgets.key_footer import KeyFooter, key_width, lines_needed
from tui.widgets.messages import MessageBar
from tui.widgets.node_detail import NodeDetail

SMALL = (80, 24)


def shown_whole(screen, widget) -> bool:
    """`widget` lies inside the form's visible region (the form scrolled to it)."""
    form = screen.query_one("#settings-form")
    region, visible = widget.region, form.content_region
    return region.height > 0 and visible.contains_region(region)


async def test_settings_tab_reaches_every_field_at_80x24_and_enter_does_not_apply():
    """Before: tab did nothing (the app's check_action blocked Textual's focus moves over a
    modal), focus started on "samples" where enter applied the form, and at 80x24 fields
    below the fifth were out of sight."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        form = app.screen
        await pilot.pause()
        reached = []
        for _ in FIELDS:
            focused = app.focused
            assert focused is not None and shown_whole(form, focused), focused
            reached.append(focused.id)
            await pilot.press("tab")
            await pilot.pause()
        assert reached == [f"set-{f.name}" for f in FIELDS]
        assert app.focused.id == "apply"  # then the buttons
        await pilot.press("shift+tab")
        await pilot.pause()
        assert app.focused.id == f"set-{FIELDS[-1].name}"
        assert shown_whole(form, app.focused)

        lr = form.query_one("#set-lr", Input)
        lr.focus()
        await pilot.pause()
        lr.value = "0.05"
        await pilot.press("enter")  # moves on: still the form, nothing applied
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert app.focused.id == "set-alpha"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        await wait_for(pilot, lambda: "lr 0.05" in status(app))
        assert app.run_config.lr == 0.05


async def test_notices_go_to_the_message_bar_and_log_and_cover_no_pane():
    """Before: each notice was a toast over the panes (at 80x24 one hid half the Graph)."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        bar = app.query_one(MessageBar)
        await pilot.press("l")
        await wait_for(pilot, lambda: "Loss: log scale" in bar.text)
        app.notify("[b]a path[/b] /tmp/[x", severity="warning")  # shown as typed
        await pilot.pause()
        assert "[b]a path[/b] /tmp/[x" in bar.text
        assert not app.query("Toast")  # nothing over the panes
        graph = app.query_one("#graph").region
        assert bar.region.height == 1 and not bar.region.overlaps(graph)
        footer = app.query_one(Footer).region
        assert bar.region.bottom == footer.y  # the line right above the footer
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MessageLog))
        log = str(app.screen.query_one("#message-lines").render())
        assert log.index("Loss: log scale") < log.index("[b]a path[/b] /tmp/[x")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, MessageLog))


def footer_keys(app) -> dict[str, str]:
    """{key: label} of the footer's keys shown whole on screen."""
    shown = {}
    for key in app.query(FooterKey):
        region = key.region
        if region.width >= key_width(key) - 1 and region.right <= app.size.width:
            if app.screen.find_widget(key).region == region:
                shown[key.key] = key.description
    return shown


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_footer_shows_every_footer_key_at_80x24(size):
    """Before: at 80x24 the footer was cut after "b Backprop c" (Check grad, Neuron, Settings,
    Help and Quit were not on screen)."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        await pilot.pause()
        wanted = {k.key: k.label for k in KEYS if k.footer and k.bound == "app"}
        assert footer_keys(app) == wanted
        footer = app.query_one(KeyFooter)
        assert footer.lines == (1 if size[0] >= 120 else 2)
        assert footer.region.bottom == size[1]
        app.query_one(BoundaryView).focus()  # its own keys join the footer: a third line
        await wait_for(pilot, lambda: "x" in footer_keys(app))
        assert set(wanted) <= set(footer_keys(app))


async def test_chain_rule_detail_and_neuron_grads_at_80x24():
    """Before: at 80x24 the node detail (the chain rule) showed only in a zoomed Graph pane, and
    the neuron view's grad column was cut off at the right."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.graph_step == 1)
        detail = app.query_one(NodeDetail)
        assert not detail.display  # the tree alone while another pane has the focus
        app.query_one(GraphTree).focus()
        await wait_for(pilot, lambda: detail.display and detail.region.height >= 3)
        await pilot.press("down", "enter")  # a node below the loss
        await wait_for(pilot, lambda: "chain rule" in str(detail.query_one(Static).render()))
        assert not app.query_one("#panes").has_class("-zoomed")

        app.query_one("#params").focus()
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, NeuronScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.last_view is not None)
        await pilot.pause()
        weights = screen.query_one("#neuron-weights")
        assert weights.content.columns[2].header == "grad"
        box = screen.query_one("#neuron").content_region
        assert box.contains_region(weights.region), (box, weights.region)


async def settled_keys(pilot, footer: KeyFooter) -> list[FooterKey]:
    """The footer's key widgets once it has composed them and a focus move has stopped changing
    them (a modal's footer is empty for a moment after the modal opens: CI once read it then)."""
    keys: list[FooterKey] = []
    seen = 0
    while seen < 3:
        await wait_for(pilot, lambda: len(footer.query(FooterKey)) > 0)
        now = list(footer.query(FooterKey))
        seen = seen + 1 if now == keys else 0
        keys = now
        await pilot.pause(0.05)
    return keys


async def test_a_resize_lays_the_footer_out_again_without_recomposing_it():
    """Before: each change of width re-composed the footer (its keys removed and mounted again)
    from the footer's own handler, while Textual's Footer re-composes it when the keys change (a
    focus move): two recomposes at once removed keys the other was still mounting, both waited
    forever and the screen froze at 100% CPU, keys ignored (a tmux key storm with resizes, about
    one run in three). Now a resize keeps the same key widgets and only lays them out again."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        for screen_key in (None, "question_mark"):  # the main screen's footer, a modal's
            if screen_key:
                await pilot.press(screen_key)
                await wait_for(pilot, lambda: app.screen.is_modal)
            footer = app.screen.query_one(KeyFooter)
            keys = await settled_keys(pilot, footer)
            for width in (80, 120, 60, 100):
                await pilot.resize_terminal(width, 24)
                await wait_for(pilot, lambda w=width, f=footer: f.size.width == w)
                await pilot.pause()
                assert list(footer.query(FooterKey)) == keys  # the same widgets
                widths = [key_width(k) for k in keys]
                assert footer.lines == lines_needed(widths, width)
                await wait_for(pilot, lambda f=footer: f.region.height == f.lines)
                assert footer.region.bottom == 24
            await pilot.resize_terminal(120, 40)


async def test_the_palette_zooms_a_pane_without_hiding_the_status_line():
    """Before: the palette also offered Textual's "Maximize", which hid the status line and the
    messages (a tmux key storm picked it and the status line was gone until escape). The
    palette's zoom is the app's `z`, which keeps both."""
    from tui.widgets.status import StatusLine

    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        await pilot.press("tab")  # a pane has the focus: Textual would offer to maximize it
        assert app.focused is not None and app.focused.allow_maximize
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Maximize" not in titles and "Keys" in titles
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: app.screen.is_modal)
        for key in "maxim":
            await pilot.press(key)
        await pilot.pause(0.5)
        await pilot.press("enter")  # nothing to pick: no maximize
        await pilot.pause(0.3)
        main = app.screen_stack[0]
        assert main.maximized is None
        if app.screen.is_modal:
            await pilot.press("escape")
        await wait_for(pilot, lambda: not app.screen.is_modal)
        assert main.maximized is None
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: app.screen.is_modal)
        for key in "zoom pane":
            await pilot.press("space" if key == " " else key)
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.screen.is_modal)
        panes = app.query_one("#panes")
        await wait_for(pilot, lambda: panes.has_class("-zoomed"))
        assert app.screen.maximized is None
        line = app.query_one(StatusLine)
        assert line.display and line.region.height == 1 and line.region.y == 0
