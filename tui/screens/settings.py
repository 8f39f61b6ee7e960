"""The settings screen (`o`): a form for the data, the model and the training; applying it
starts a new run.

The form is checked by the library's own rules: `TrainConfig.problems()` for each value and
`check_fit` for how the values fit the data (a batch larger than the training set, a two-class
loss for three classes), each message shown under its field. Two limits are the app's own: a
run the app can show (at most MAX_SAMPLES samples and MAX_LAYERS hidden layers of MAX_WIDTH);
the command line (`--headless`) takes larger ones.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from types import SimpleNamespace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from micrograd.data import DATASETS
from micrograd.nn import ACTIVATIONS
from micrograd.optim import OPTIMIZERS
from micrograd.train import LOSS_CHOICES, ConfigError, TrainConfig, check_fit, load_data
from tui.screens.on_top import OnTop

MAX_SAMPLES = 5000
MAX_LAYERS = 6
MAX_WIDTH = 64
CSV_CHOICE = "(your CSV)"


@dataclass(frozen=True)
class Field:
    name: str  # a TrainConfig field
    label: str
    kind: str  # "choice", "int", "float" or "sizes"
    choices: tuple[str, ...] = ()


FIELDS = (
    Field("dataset", "dataset", "choice", tuple(DATASETS)),
    Field("samples", "samples", "int"),
    Field("noise", "noise", "float"),
    Field("seed", "seed", "int"),
    Field("hidden", "hidden sizes", "sizes"),
    Field("activation", "activation", "choice", ACTIVATIONS),
    Field("loss", "loss", "choice", LOSS_CHOICES),
    Field("optimizer", "optimizer", "choice", OPTIMIZERS),
    Field("lr", "learning rate", "float"),
    Field("batch_size", "batch size", "int"),
    Field("alpha", "L2 alpha", "float"),
)

# Which field a sentence of TrainConfig.problems() is about (first match wins).
_PROBLEM_FIELDS = (
    ("unknown dataset", "dataset"),
    ("unknown activation", "activation"),
    ("unknown loss", "loss"),
    ("unknown optimizer", "optimizer"),
    ("learning rate", "lr"),
    ("batch size", "batch_size"),
    ("samples", "samples"),
    ("hidden", "hidden"),
    ("noise", "noise"),
    ("alpha", "alpha"),
    ("seed", "seed"),
)


def shown_value(config: TrainConfig, name: str) -> str:
    if name == "hidden":
        return ",".join(map(str, config.hidden))
    if name == "dataset" and config.csv is not None:
        return CSV_CHOICE
    return str(getattr(config, name))


def _parse(field: Field, text: str) -> object:
    text = text.strip()
    if field.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"a whole number, please (got {text!r})") from None
    if field.kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"a number, please (got {text!r})") from None
    if field.kind == "sizes":
        try:
            sizes = tuple(int(part) for part in text.replace(" ", "").split(","))
        except ValueError:
            raise ValueError(f"layer sizes such as 16,16, please (got {text!r})") from None
        if len(sizes) > MAX_LAYERS or any(s > MAX_WIDTH for s in sizes):
            raise ValueError(
                f"at most {MAX_LAYERS} layers of up to {MAX_WIDTH} neurons in the app "
                "(the command line takes more)"
            )
        return sizes
    return text


def check_form(values: dict[str, str], base: TrainConfig) -> tuple[TrainConfig | None, dict]:
    """The configuration the form describes over `base`, or None and {field: message}."""
    errors: dict[str, str] = {}
    merged = base.to_dict()
    for field in FIELDS:
        if field.name not in values:
            continue
        if field.name == "dataset" and values["dataset"] == CSV_CHOICE:
            continue  # keep the CSV the run was started with
        try:
            merged[field.name] = _parse(field, values[field.name])
        except ValueError as exc:
            errors[field.name] = str(exc)
        if field.name == "dataset":
            merged["csv"] = None
    if errors:
        return None, errors
    merged["hidden"] = tuple(merged["hidden"])
    names = {f.name for f in fields(TrainConfig)}
    for problem in TrainConfig.problems(SimpleNamespace(**merged)):  # the library's own checks
        name = next((f for words, f in _PROBLEM_FIELDS if words in problem), "dataset")
        errors.setdefault(name, problem)
    if not errors and merged["samples"] > MAX_SAMPLES:
        errors["samples"] = f"at most {MAX_SAMPLES} in the app (--headless trains more)"
    if errors:
        return None, errors
    config = TrainConfig(**{k: v for k, v in merged.items() if k in names})
    if config.csv is None:  # a generated dataset is quick to make: check that the model fits it
        try:
            check_fit(config, load_data(config))
        except ConfigError as exc:
            return None, {exc.option if exc.option in values else "dataset": str(exc)}
        except ValueError as exc:
            return None, {"dataset": str(exc)}
    return config, {}


class SettingsScreen(OnTop, ModalScreen[TrainConfig | None]):
    """The form; `ctrl+s` or Apply starts a new run with it, escape leaves it unchanged."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply"),
    ]

    def __init__(self, config: TrainConfig) -> None:
        super().__init__()
        self.config = config

    def compose(self) -> ComposeResult:
        with Vertical(id="settings"):
            with VerticalScroll(id="settings-form"):
                for field in FIELDS:
                    value = shown_value(self.config, field.name)
                    with Horizontal(classes="field"):
                        yield Label(field.label, classes="field-label")
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

    def on_mount(self) -> None:
        self.query_one("#settings").border_title = "Settings (ctrl+s applies, escape cancels)"
        self.query_one("#set-samples", Input).focus()

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
        config, errors = check_form(self.values(), self.config)
        self.show_errors(errors)
        if config is not None:
            self.dismiss(config)
        else:
            first = next(f.name for f in FIELDS if f.name in errors)
            self.query_one(f"#set-{first}").focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.action_cancel()
