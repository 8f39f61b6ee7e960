"""How a setting is described and checked: one rule per setting, written once.

A `Setting` says what one value of a run's configuration is (its name, kind, range or choices,
help) and checks it, from a Python value (`check`: a `TrainConfig`, a checkpoint, an optimizer)
or from text (`parse`: the command line, the settings form). Every refusal is one sentence that
names the setting, `"{label} must be {what}, got {value}"`, raised as a `ConfigError` whose
`option` is the setting's name, so the command line names its option and the form its field.

The schema of the training settings, one `Setting` per `TrainConfig` field, is
`micrograd.train.SETTINGS`. Standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Number = int | float


class ConfigError(ValueError):
    """A setting that cannot run; `option` names it (a `TrainConfig` field), so the command line
    can name its option and the form its field. `problem` is the sentence without its subject
    (`must be a whole number >= 1, got 0`), for a place that already names it."""

    def __init__(self, option: str, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        self.option = option
        self.problem = message if problem is None else problem

    def __reduce__(self) -> tuple:
        return (type(self), (self.option, str(self), self.problem))


def _shown(x: Number) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def number_rule(
    whole: bool,
    low: Number | None = None,
    high: Number | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> str:
    """What a number must be, in words: `a whole number >= 1 and <= 100,000`,
    `a finite number > 0`."""
    words = "a whole number" if whole else "a finite number"
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if low_open else '>='} {_shown(low)}")
    if high is not None:
        bounds.append(f"{'<' if high_open else '<='} {_shown(high)}")
    return " ".join([words, " and ".join(bounds)]) if bounds else words


def check_number(
    label: str,
    value: object,
    whole: bool = False,
    low: Number | None = None,
    high: Number | None = None,
    low_open: bool = False,
    high_open: bool = False,
    option: str | None = None,
) -> Number:
    """`value` if it is a number in range (a float for a real, an int for a whole number), else
    ConfigError: "{label} must be {number_rule}, got {value!r}". The one number check: settings,
    optimizers and checkpoints call it. Booleans are not numbers here."""
    ok = isinstance(value, int) if whole else isinstance(value, (int, float))
    if ok and not isinstance(value, bool):
        x = value if whole else float(value)  # type: ignore[arg-type]
        ok = (
            math.isfinite(x)
            and (low is None or (x > low if low_open else x >= low))
            and (high is None or (x < high if high_open else x <= high))
        )
        if ok:
            return x
    problem = f"must be {number_rule(whole, low, high, low_open, high_open)}, got {value!r}"
    raise ConfigError(option or label, f"{label} {problem}", problem)


KINDS = ("choice", "whole", "number", "sizes", "path")


@dataclass(frozen=True)
class Setting:
    """One setting: `name` (a `TrainConfig` field, or an option of the command line), `kind`
    (one of KINDS), `help` (a line for --help and the form), `label` (how a message names it),
    the range (`low`, `high`, open or closed) or `choices`, and where it is shown: `group` of the
    command line's help; `form` label in the settings form (empty: not in the form) with
    `form_high` (and, for sizes, `form_layers`) the form's own, smaller limit, which keeps a
    run at an interactive pace. For "sizes" (hidden layer sizes) `low`/`high` bound each size
    and `layers` their count."""

    name: str
    kind: str
    help: str
    label: str = ""
    low: Number | None = None
    high: Number | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    layers: int | None = None
    group: str = "model and training"
    form: str = ""
    form_high: Number | None = None
    form_layers: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"setting {self.name}: unknown kind {self.kind!r}")
        if not self.label:
            object.__setattr__(self, "label", self.name)

    @property
    def flag(self) -> str:
        """The command-line option: `--batch-size` for batch_size."""
        return "--" + self.name.replace("_", "-")

    def rule(self, in_form: bool = False) -> str:
        """What a value must be, in words (`in_form`: with the form's own limits)."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "path":
            return "a file path"
        high = self.form_high if in_form and self.form_high is not None else self.high
        if self.kind == "sizes":
            layers = self.form_layers if in_form and self.form_layers else self.layers
            sizes = number_rule(True, self.low, high).replace("a whole number", "whole numbers")
            return f"{sizes} separated by commas, such as 16,16 (at most {layers} layers)"
        return number_rule(self.kind == "whole", self.low, high, self.low_open, self.high_open)

    def check(self, value: object, in_form: bool = False) -> object:
        """`value` checked (a tuple for sizes, a float for a number); ConfigError naming this
        setting otherwise. `in_form`: also within the form's own limits."""
        if self.kind == "choice":
            if value not in self.choices:
                choices = ", ".join(self.choices)
                raise ConfigError(
                    self.name, f"unknown {self.label} {value!r}; choose one of {choices}"
                )
            return value
        if self.kind == "path":
            if value is not None and not isinstance(value, str):
                self._refuse(value, in_form)
            return value
        if self.kind == "sizes":
            return self._check_sizes(value, in_form)
        in_form = in_form and self.form_high is not None
        high = self.form_high if in_form else self.high
        try:
            return check_number(
                self.label,
                value,
                self.kind == "whole",
                self.low,
                high,
                self.low_open,
                self.high_open,
                self.name,
            )
        except ConfigError as exc:
            if not in_form or self.check(value) is None:  # out of range for any run
                raise
            problem = f"{exc.problem} (the app's limit; the command line takes more)"
            raise ConfigError(self.name, f"{self.label} {problem}", problem) from None

    def parse(self, text: str, in_form: bool = False) -> object:
        """`text` (from the command line or the form) as this setting's value, checked."""
        text = text.strip()
        try:
            if self.kind == "whole":
                return self.check(int(text), in_form)
            if self.kind == "number":
                return self.check(float(text), in_form)
            if self.kind == "sizes":
                parts = text.replace(" ", "").split(",")
                return self.check(tuple(int(part) for part in parts), in_form)
        except ValueError as exc:
            if isinstance(exc, ConfigError):
                raise
            self._refuse(text, in_form)
        return self.check(text, in_form)

    def _check_sizes(self, value: object, in_form: bool) -> tuple[int, ...]:
        if not isinstance(value, (list, tuple)) or not value:
            self._refuse(value, in_form)
        sizes = tuple(value)  # type: ignore[arg-type]
        whole = all(isinstance(s, int) and not isinstance(s, bool) for s in sizes)
        if not whole or (self.low is not None and min(sizes) < self.low):
            self._refuse(list(sizes), in_form)
        high = self.form_high if in_form and self.form_high is not None else self.high
        layers = self.form_layers if in_form and self.form_layers else self.layers
        if (layers is not None and len(sizes) > layers) or (high is not None and max(sizes) > high):
            where = " in the app (the command line takes more)" if in_form else ""
            problem = (
                f"must be at most {layers} hidden layers of at most {high} neurons{where}, "
                f"got {list(sizes)!r}"
            )
            raise ConfigError(self.name, f"{self.label} {problem}", problem)
        return sizes

    def _refuse(self, value: object, in_form: bool) -> None:
        problem = f"must be {self.rule(in_form)}, got {value!r}"
        raise ConfigError(self.name, f"{self.label} {problem}", problem)
