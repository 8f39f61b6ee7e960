"""The settings screen (`o`): a form for the data, the model and the training; applying it
starts a new run.

Its fields are the training settings marked for the form in the library's schema
(`micrograd.train.SETTINGS`), each parsed and checked by its own rule, with the form's own
limits (`form_high`, `form_layers`), and the run by `check_fit` (a batch larger than the training
set, a two-class loss for three classes) and `check_pace` (a step's work within MAX_STEP_WORK,
about a second a step: a run the app can show at an interactive pace). Each refusal names its
setting, and is shown under its field. The command line (`--headless`) takes larger runs.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from micrograd.settings import ConfigError
from micrograd.train import SETTINGS, TrainConfig, check_fit, check_pace, load_data
from tui.screens.modal import Modal

CSV_CHOICE = "(your CSV)"
FIELDS = tuple(s for s in SETTINGS if s.form)  # in the schema's order


def shown_value(config: TrainConfig, name: str) -> str:
    if name == "hidden":
        return ",".join(map(str, config.hidden))
    if name == "dataset" and config.csv is not None:
        return CSV_CHOICE
    return str(getattr(config, name))


def check_form(values: dict[str, str], base: TrainConfig) -> tuple[TrainConfig | None, dict]:
    """The configuration the form describes over `base`, or None and {field: message}."""
    errors: dict[str, str] = {}
    merged = base.to_dict()
    for setting in FIELDS:
        text = values.get(setting.name)
        if text is None or (setting.name == "dataset" and text == CSV_CHOICE):
            continue  # not in the form, or keep the CSV the run was started with
        try:
            merged[setting.name] = setting.parse(text, in_form=True)
        except ConfigError as exc:
            errors[setting.name] = str(exc)
        if setting.name == "dataset":
            merged["csv"] = None
    if errors:
        return None, errors
    try:
        config = TrainConfig.from_dict(merged)
    except ConfigError as exc:  # a setting the form does not show (given on the command line)
        return None, {_field_of(exc.option, values): str(exc)}
    if config.csv is None:  # a generated dataset is quick to make: check the run on it
        try:
            data = load_data(config)
            check_fit(config, data)
            check_pace(config, data)
        except ConfigError as exc:
            return None, {_field_of(exc.option, values): str(exc)}
        except ValueError as exc:
            return None, {"dataset": str(exc)}
    return config, {}


def _field_of(option: str, values: dict[str, str]) -> str:
    """The form field a refusal shows under: its own, or for a tensor-engine option the form
    does not show (--conv, --device, --dtype) the engine's, else the dataset's."""
    if option in values:
        return option
    tensor_options = {s.name for s in SETTINGS if s.group == "tensor engine"}
    return "engine" if option in tensor_options and "engine" in values else "dataset"


class SettingsScreen(Modal[TrainConfig | None]):
    """The form; `ctrl+s` or Apply starts a new run with it, escape leaves it unchanged."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply"),
        Binding("tab", "app.focus_next", "Next field"),
        Binding("shift+tab", "app.focus_previous", "Previous field"),
        # enter in a text field moves to the next field, as the key arrives (a key typed just
        # after it goes to the next field); on a choice or a button enter keeps its own meaning
        Binding("enter", "next_field", show=False, priority=True),
    ]
    # Focus and title without a query in on_mount: a form closed by a key sent with the one that
    # opened it found its widgets gone there (NoMatches, an exit with status 1 in a key storm).
    # It starts on the first field; enter in a field moves to the next (only ctrl+s and Apply
    # start a new run), tab and shift+tab move too, and the form scrolls to the focused field.
    AUTO_FOCUS = f"#set-{FIELDS[0].name}"

    def __init__(self, config: TrainConfig) -> None:
        super().__init__()
        self.config = config

    def compose(self) -> ComposeResult:
        with Vertical(id="settings") as box:
            box.border_title = "Settings (ctrl+s applies, escape cancels)"
            with VerticalScroll(id="settings-form"):
                for field in FIELDS:
                    value = shown_value(self.config, field.name)
                    with Horizontal(classes="field"):
                        yield Label(field.form, classes="field-label")
                        if field.kind == "choice":
                            choices = list(field.choices)
                            if field.name == "dataset" and self.config.csv is not None:
                                choices.insert(0, CSV_CHOICE)
                            yield Select(
                                [(c, c) for c in choices],
                                value=value,
                                allow_blank=False,
                                id=f"set-{field.name}",
                            )
                        else:
                            yield Input(value, id=f"set-{field.name}")
                    yield Static("", id=f"err-{field.name}", classes="field-error")
            yield Static("", id="settings-error")
            with Horizontal(id="settings-buttons"):
                yield Button("Apply: new run", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")
        yield from self.foot()

    def values(self) -> dict[str, str]:
        out = {}
        for field in FIELDS:
            widget = self.query_one(f"#set-{field.name}")
            out[field.name] = str(widget.value)
        return out

    def show_errors(self, errors: dict[str, str]) -> None:
        for field in FIELDS:
            message = errors.get(field.name, "")
            self.query_one(f"#err-{field.name}", Static).update(Text(message))  # quotes input
            self.query_one(f"#err-{field.name}").set_class(bool(message), "-shown")
            self.query_one(f"#set-{field.name}").set_class(bool(message), "-invalid")
        count = len(errors)
        self.query_one("#settings-error", Static).update(
            f"{count} setting{'s' if count > 1 else ''} to fix (in red above)" if count else ""
        )

    def action_apply(self) -> None:
        """ctrl+s or Apply: a new run with the form's values, or the errors under the fields.
        Not before the form has mounted nor once it has closed: its fields are not there then
        (NoMatches, an exit with status 1, found by benchmarks/burst_storm.py's key storms)."""
        if not self.ready:
            return
        config, errors = check_form(self.values(), self.config)
        self.show_errors(errors)
        if config is not None:
            self.dismiss(config)
        else:
            first = next(f.name for f in FIELDS if f.name in errors)
            self.query_one(f"#set-{first}").focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_next_field(self) -> None:
        """Enter in a text field moves to the next one: it never restarts the run by surprise."""
        if not isinstance(self.focused, Input):
            raise SkipAction()
        self.focus_next()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The focused field's whole row, its label with it, in view at once. Textual's own
        scroll on focus is animated; keys faster than it (tab tab tab, over SSH or tmux) left
        the field half out of view with its label hidden (1 in 5 tmux runs under load)."""
        row = event.widget.parent
        if isinstance(row, Horizontal) and row.has_class("field"):
            form = self.query_one("#settings-form", VerticalScroll)
            self.call_after_refresh(form.scroll_to_widget, row, animate=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()  # enter is action_next_field's: a submit applies nothing

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.action_cancel()
