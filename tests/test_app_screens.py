"""Every screen at 80x24 by keyboard alone, what it says and what it shows (issue 12, items 1
to 6 of the screens pass): the node detail scrolled by keys, `p` on every screen, the
lr-change labels, the live message log, each modal's own keys."""

from __future__ import annotations

import io

from apphelp import FAST, status, wait_for
from rich.console import Console
from textual.widgets import Static

from tui.app import MicrogradApp
from tui.widgets.graph import GraphTree
from tui.widgets.key_footer import KeyFooter
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


async def test_node_detail_takes_the_focus_and_scrolls_to_the_chain_rule_at_80x24():
    """Before: the detail could not take the focus (tab went past it) and its chain-rule sum,
    below its first lines at 80x24, could be read only by zooming the pane (z)."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.graph_step == 1)
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
        await wait_for(pilot, lambda: "2-4-1" in status(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.graph_step == 1)
        await pilot.press("b", "b")
        detail = app.query_one(NodeDetail)
        await wait_for(pilot, lambda: detail.display and "backprop 2/" in screen_text(app))
        said = app.messages[-1].message
        assert "zoom" not in said and "tab" in said
        await pilot.press("tab")  # what it says: the detail takes the focus, to scroll
        await wait_for(pilot, lambda: app.focused is detail)
        await pilot.press("b")  # the walk goes on from there
        await wait_for(pilot, lambda: "backprop 3/" in screen_text(app))
