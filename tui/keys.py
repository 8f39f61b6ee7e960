"""Every key of the app in one table: the App's bindings, the panes' own bindings, the command
palette and the help screen are all made from it (and a test holds the README to it).

A `Key` bound "app" is an App binding (priority: it works whatever has focus); one bound to a
pane ("dataset", "params", "graph") is that pane's own binding, one bound "scroll" every
scrolling text's (`tui.widgets.scroll.ScrollBox`); one bound "textual" is Textual's
own key,
listed here so that help and the README describe it. Adding a key is adding one row.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    """One key: what it does (`action`), its footer label, its help line, its palette name."""

    key: str  # Textual's key name: "plus", "question_mark", "space"
    action: str  # the action it runs: "scale_lr(2.0)"
    label: str  # the footer's label
    help: str  # the help screen's line and the palette's help
    name: str = ""  # in the command palette ("" for none: a second key of one action)
    footer: bool = False  # shown in the footer
    display: str | None = None  # how the key is written, if not its name: "+"
    bound: str = "app"  # "app", a pane's id ("dataset", "params"), or "textual"
    priority: bool = True  # an App binding that works over the focused widget's own keys

    @property
    def shown_as(self) -> str:
        return self.display or self.key


KEYS: tuple[Key, ...] = (
    Key("space", "toggle_run", "Run", "run / pause", "Run / pause", True),
    Key("n", "step_once", "Step", "one step (when paused)", "One step", True),
    Key("full_stop", "step_phase", "Phase",
        "one phase of a step: forward, loss, zero_grad, backward, update (when paused)",
        "One phase of a step", display="."),
    Key("G", "toggle_zero_grad", "zero_grad",
        "phase stepping: skip zero_grad (on / off), the lecture's bug: gradients accumulate",
        "Phase stepping: skip zero_grad"),
    Key("plus", "scale_lr(2.0)", "lr×2", "double the learning rate, from the next step",
        "Double the learning rate", True, "+"),
    Key("minus", "scale_lr(0.5)", "lr÷2", "halve the learning rate, from the next step",
        "Halve the learning rate", True, "-"),
    Key("right_square_bracket", "scale_lr(1.1)", "lr×1.1",
        "multiply the learning rate by 1.1, from the next step",
        "Multiply the learning rate by 1.1", display="]"),
    Key("left_square_bracket", "scale_lr(0.9090909090909091)", "lr÷1.1",
        "divide the learning rate by 1.1 (undoes ]), from the next step",
        "Divide the learning rate by 1.1", display="["),
    Key("0", "reset_lr", "lr=initial",
        "set the learning rate back to the run's initial value (its settings' lr)",
        "Reset the learning rate"),
    Key("greater_than_sign", "change_speed(True)", "Faster",
        "faster: 1, 2, 5, 10, 30 steps per second, then full speed (shown in the status line)",
        "Train faster", display=">"),
    Key("less_than_sign", "change_speed(False)", "Slower",
        "slower: full speed, then 30, 10, 5, 2, 1 steps per second, to watch each step",
        "Train slower", display="<"),
    Key("r", "reset", "Reset",
        "reset: new weights, same config; restarts a stopped training process", "Reset", True),
    Key("d", "next_dataset", "Data", "next dataset", "Next dataset", True),
    Key("tab", "focus_next", "Next pane", "move between panes", bound="textual"),
    Key("shift+tab", "focus_previous", "Previous pane", "move between panes", bound="textual"),
    Key("z", "zoom", "Zoom", "zoom the focused pane (again: back)", "Zoom pane", True),
    Key("enter", "select", "Select", "browse the table and the tree: open a graph node",
        bound="textual"),
    Key("left", "collapse_or_parent", "Collapse",
        "graph: collapse (or go to the parent)", bound="graph"),
    Key("right", "expand_or_child", "Expand",
        "graph: expand (or go to the first child)", bound="graph"),
    Key("down", "scroll_down", "Scroll",
        "scroll what has the focus: the graph's node detail (tab from the tree), the help, the "
        "message log, the neuron view (arrows, PgUp, PgDn)", footer=True, bound="scroll",
        display="↑↓ PgUp PgDn"),
    Key("g", "sort_by_grad", "Sort |grad|",
        "parameters: sort by |gradient| (again: network order)", bound="params"),
    Key("l", "toggle_log", "Log scale", "loss: log scale on / off", "Log scale"),
    Key("s", "save", "Save", "save a checkpoint (JSON) in the current folder",
        "Save checkpoint"),
    Key("e", "export_dot", "Export DOT", "export the shown graph as Graphviz DOT",
        "Export graph as DOT"),
    Key("b", "backprop_next", "Backprop",
        "backprop walk: the next node of the shown graph's backward pass",
        "Backprop: next node", True),
    Key("B", "backprop_stop", "Stop backprop", "stop the backprop walk", "Backprop: stop"),
    Key("escape", "backprop_stop", "Stop backprop", "stop the backprop walk", priority=False),
    Key("c", "gradcheck", "Check grad",
        "gradient check of the selected graph node or parameter (finite differences; a "
        "tensor node: one element)",
        "Gradient check", True),
    Key("v", "neuron", "Neuron",
        "neuron view of the selected parameter row L0.N3.* or graph node L0.N3 (tensor: "
        "a unit of layer L0)",
        "Neuron view", True),
    Key("o", "settings", "Settings",
        "settings: data, model, training (applying starts a new run)", "Settings", True),
    Key("N", "regenerate('noise')", "Noise",
        "regenerate the data with the next noise level (a new run)",
        "Regenerate data: next noise level"),
    Key("S", "regenerate('seed')", "New seed", "regenerate the data with the next seed (a new run)",
        "Regenerate data: next seed"),
    Key("1", "add_point(0)", "Add point",
        "dataset pane cursor (arrows): add a class 0 point there", footer=True, bound="dataset"),
    Key("2", "add_point(1)", "Add class 1", "dataset pane: add a class 1 point", bound="dataset"),
    Key("3", "add_point(2)", "Add class 2", "dataset pane: add a class 2 point", bound="dataset"),
    Key("x", "remove_point", "Remove point", "dataset pane: remove the nearest point",
        footer=True, bound="dataset"),
    Key("f", "filters", "Filters",
        "conv filters: each Conv2d layer's kernels and grads, one image's feature maps "
        "(tensor engine, --conv)", "Conv filters and feature maps"),
    Key("t", "compare_engines", "2 engines",
        "same step, two engines: the scalar and the tensor graph's nodes, links, ms a step, "
        "loss", "Same step, two engines"),
    Key("C", "toggle_shades", "Shades",
        "heatmaps and digit images: shading characters instead of colours (again: colours)",
        footer=True, bound="heatmap"),
    Key("pagedown", "page(1)", "Next page", "digits: the next page of images", footer=True,
        bound="digits", display="PgDn"),
    Key("pageup", "page(-1)", "Prev page", "digits: the previous page of images",
        bound="digits", display="PgUp"),
    Key("E", "switch_engine", "Engine",
        "switch the engine, scalar or tensor: a new run with the same settings and seed",
        "Switch engine (scalar / tensor)"),
    Key("A", "node_arrays", "Arrays",
        "tensor engine: the selected graph node's data and grad as heatmaps", "Node arrays"),
    Key("h", "toggle_health", "Gradients",
        "gradients strip: each layer's gradient norm over time (on / off)", "Gradients strip"),
    Key("w", "export_loss", "Loss CSV", "write the loss history as CSV in the current folder",
        "Export loss history as CSV"),
    Key("p", "screenshot_svg", "Screenshot", "write the screen as SVG in the current folder",
        "Save screenshot (SVG)"),
    Key("ctrl+p", "command_palette", "Palette", "command palette: every action by name",
        bound="textual"),
    Key("u", "toggle_split", "Split neurons",
        "graph: each neuron as the lecture's * and + nodes, or one fused dot (same numbers)",
        "Graph: split neurons into * and +"),
    Key("a", "scratch", "Scratch",
        "scratch pad: type an expression (a=2.0, b=-3.0; c=a*b), walk its backward pass, quiz",
        "Scratch pad: an expression's backward pass"),
    Key("m", "messages", "Messages",
        "message log: every notice so far (the bar above the footer shows the latest)",
        "Message log"),
    Key("question_mark", "help", "Help", "this help", "Help", True, "?"),
    Key("q", "quit", "Quit", "quit: stop training and leave", "Quit", True),
)  # fmt: skip


def bindings(bound: str = "app") -> list[Binding]:
    """The bindings of the keys bound to `bound` ("app", or a pane's id)."""
    return [
        Binding(
            k.key,
            k.action,
            k.label,
            show=k.footer,
            key_display=k.display,
            priority=k.priority and bound == "app",
        )
        for k in KEYS
        if k.bound == bound
    ]


def palette_entries() -> list[Key]:
    """The App's keys with a palette name: one entry per action."""
    return [k for k in KEYS if k.bound == "app" and k.name]


def help_lines() -> list[tuple[str, str]]:
    """(keys, what they do) for the help screen: keys with the same help text share a line."""
    lines: dict[str, list[str]] = {}
    for k in KEYS:
        lines.setdefault(k.help, []).append(k.shown_as)
    return [("  ".join(keys), what) for what, keys in lines.items()]
