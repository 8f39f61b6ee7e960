"""One schema of the training settings: the config, the command line, the form and checkpoint
loading all read it, so one bad value gets one sentence everywhere, naming its setting."""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path

import pytest

from micrograd import checkpoint
from micrograd.engine import Value
from micrograd.optim import SGD
from micrograd.settings import ConfigError, check_number
from micrograd.train import (
    MAX_STEP_WORK,
    SETTING,
    SETTINGS,
    TrainConfig,
    check_pace,
    load_data,
    step_work,
)
from tui.cli import build_parser, main
from tui.screens.settings import FIELDS, check_form

DATA = Path(__file__).parent / "data"


def test_every_config_field_has_exactly_one_setting() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert set(names) == {f.name for f in fields(TrainConfig)}


def test_the_cli_has_one_option_per_setting_with_its_rule_in_the_help() -> None:
    parser = build_parser()
    flags = {a.option_strings[0]: a for a in parser._actions if a.option_strings}
    text = parser.format_help()
    for s in SETTINGS:
        assert s.flag in flags, s.flag
        if s.kind in ("whole", "number"):
            assert " ".join(s.rule().split()) in " ".join(text.split()), s.name
        if s.kind == "choice":
            assert tuple(flags[s.flag].choices) == s.choices


BAD = [
    ("samples", "0"),
    ("samples", "ten"),
    ("noise", "-1"),
    ("lr", "0"),
    ("lr", "nan"),
    ("hidden", "16,0"),
    ("hidden", "16,x"),
    ("batch_size", "-2"),
    ("seed", "1.5"),
]


@pytest.mark.parametrize(("name", "text"), BAD, ids=[f"{n}={t}" for n, t in BAD])
def test_one_bad_value_gets_one_sentence_from_config_cli_and_form(
    name: str, text: str, capsys
) -> None:
    setting = SETTING[name]
    with pytest.raises(ConfigError) as from_text:
        setting.parse(text)
    assert from_text.value.option == name
    sentence = str(from_text.value)
    assert sentence == f"{setting.label} {from_text.value.problem}"
    # the command line: the same problem after its option
    with pytest.raises(SystemExit):
        main(["--headless", setting.flag, text])
    err = capsys.readouterr().err
    assert f"{setting.flag}: {from_text.value.problem}" in err
    # the form: its own limits' sentence under the field, named directly (no mapping of words)
    config, errors = check_form({name: text}, TrainConfig())
    assert config is None and list(errors) == [name]
    with pytest.raises(ConfigError) as in_form:
        setting.parse(text, in_form=True)
    assert errors[name] == str(in_form.value)


def test_config_and_form_refuse_the_same_value_with_the_same_sentence() -> None:
    with pytest.raises(ConfigError) as exc:
        TrainConfig(noise=-1.0)
    assert exc.value.option == "noise"
    _, errors = check_form({"noise": "-1"}, TrainConfig())
    assert errors == {"noise": str(exc.value)}


def test_number_check_is_shared_by_optimizers() -> None:
    with pytest.raises(ConfigError, match=r"momentum must be a finite number >= 0 and < 1, got 1"):
        SGD([Value(1.0)], 0.1, momentum=1)
    assert check_number("x", 3, whole=True, low=1, high=3) == 3
    with pytest.raises(ConfigError, match=r"x must be a whole number >= 1 and <= 3, got True"):
        check_number("x", True, whole=True, low=1, high=3)
    with pytest.raises(ConfigError, match="finite"):
        check_number("x", math.inf)


def test_the_form_keeps_runs_at_an_interactive_pace() -> None:
    """Issue 13 item 11: 5,000 samples x 6 layers of 64 took a minute a step and 4 GB."""
    big = {"samples": "5000", "hidden": "64,64,64,64,64,64"}
    config, errors = check_form(big, TrainConfig())
    assert config is None and list(errors) == ["samples"]
    assert "multiply-adds a step" in errors["samples"] and "--headless" in errors["samples"]
    # with a batch, the batch size is what to change
    config, errors = check_form({**big, "batch_size": "4000"}, TrainConfig())
    assert config is None and list(errors) == ["batch_size"]
    # within the cap: accepted (5,000 samples of the demo's model, a step well under a second)
    config, errors = check_form({"samples": "5000"}, TrainConfig())
    assert errors == {} and config is not None
    assert step_work(config, load_data(config)) <= MAX_STEP_WORK
    # the command line takes larger runs: the config itself has no such cap
    large = TrainConfig(samples=5000, hidden=(64,) * 6)
    with pytest.raises(ConfigError):
        check_pace(large, load_data(large))


def test_form_limits_say_they_are_the_apps() -> None:
    _, errors = check_form({"samples": "6000"}, TrainConfig())
    assert errors["samples"].startswith("samples must be a whole number >= 1 and <= 5,000")
    assert "the command line takes more" in errors["samples"]
    _, errors = check_form({"hidden": "65"}, TrainConfig())
    assert "at most 6 hidden layers of at most 64 neurons in the app" in errors["hidden"]
    assert {f.name for f in FIELDS} >= {"samples", "hidden", "lr", "batch_size"}


def test_a_checkpoint_saved_before_the_schema_loads_and_continues_exactly() -> None:
    """The file was written by the code before the settings schema (main at b26edef): 3 steps of
    moons (20 samples, hidden 4, adam lr 0.05, seed 7, test fraction 0.25); that code's step 4
    gave the loss below."""
    trainer = checkpoint.load(DATA / "checkpoint-before-settings-schema.json")
    assert trainer.step_count == 3 and trainer.config.hidden == (4,)
    assert trainer.config.optimizer == "adam" and trainer.config.lr == 0.05
    assert trainer.step().loss == 0.8850897343743099


def test_the_engine_is_a_field_and_the_tensor_engine_takes_larger_runs():
    digits = TrainConfig(dataset="digits", samples=1797, hidden=(64,), test_fraction=0.2)
    values = {f.name: str(getattr(digits, f.name)) for f in FIELDS}
    values["hidden"] = "64"
    config, errors = check_form(values, digits)
    assert config is None and "multiply-adds" in errors["samples"]  # too slow as scalars
    config, errors = check_form({**values, "engine": "tensor"}, digits)
    assert errors == {} and config.engine == "tensor"
    conv = TrainConfig(engine="tensor", dataset="digits", samples=300, conv=(8,))
    values = {f.name: str(getattr(conv, f.name)) for f in FIELDS}
    values["hidden"] = "16,16"
    config, errors = check_form({**values, "engine": "scalar"}, conv)
    assert config is None and "conv 8 needs the tensor engine" in errors["engine"]
