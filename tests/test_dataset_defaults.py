"""Each dataset's default run trains well; a run whose loss explodes is called diverging."""

from __future__ import annotations

import math

import pytest

from micrograd import checkpoint
from micrograd.data import DATASETS
from micrograd.train import DATASET_DEFAULTS, TrainConfig, Trainer, config_for_dataset
from tui.cli import build_parser, config_from_args, main


@pytest.mark.parametrize("name", list(DATASETS))
def test_each_datasets_default_run_reaches_a_good_accuracy_without_diverging(name):
    trainer = Trainer(config_for_dataset(TrainConfig(dataset=name)))
    reports = [trainer.step() for _ in range(100)]
    _, acc = trainer.evaluate(trainer.data.X_train, trainer.data.y_train)
    assert acc >= 0.9, (name, acc)
    assert not any(r.diverging or r.nonfinite for r in reports)


def test_tiny_defaults_are_the_lectures():
    config = config_for_dataset(TrainConfig(dataset="tiny"))
    assert (config.hidden, config.activation, config.loss) == ((4, 4), "tanh", "sse")
    assert (config.lr, config.alpha) == (0.05, 0.0)


def config(*argv: str) -> TrainConfig:
    return config_from_args(build_parser().parse_args(list(argv)))


def test_the_command_line_applies_a_datasets_defaults_only_where_no_option_was_given():
    assert config("--dataset", "tiny") == config_for_dataset(TrainConfig(dataset="tiny"))
    mine = config("--dataset", "tiny", "--lr", "0.1", "--hidden", "8")
    assert (mine.lr, mine.hidden, mine.activation, mine.loss) == (0.1, (8,), "tanh", "sse")
    assert config() == TrainConfig()  # the moons demo as before
    assert config("--dataset", "circles") == TrainConfig(dataset="circles")


def test_moving_to_another_dataset_restores_the_settings_the_user_did_not_choose():
    tiny = config_for_dataset(TrainConfig(), "tiny", given={"seed"})
    moons = config_for_dataset(tiny, "moons")
    assert moons == TrainConfig()  # 16,16 ReLU, hinge (auto), lr 0.5, alpha 1e-4 again
    kept = config_for_dataset(TrainConfig(lr=0.2), "tiny", given={"lr"})
    assert kept.lr == 0.2 and kept.hidden == (4, 4)
    csv = TrainConfig(csv="x.csv")
    assert config_for_dataset(csv, "tiny") == TrainConfig(csv="x.csv", dataset="tiny")
    assert set(DATASET_DEFAULTS) <= set(DATASETS)


def the_issues_run() -> Trainer:
    """`microgradtui --dataset tiny` before: 16,16 ReLU, lr 0.5, squared error."""
    return Trainer(TrainConfig(dataset="tiny"))


def test_an_exploding_loss_is_diverging_before_it_reaches_inf():
    trainer = the_issues_run()
    reports = [trainer.step() for _ in range(3)]
    first = next(r for r in reports if r.diverging)
    assert first.step <= 3 and math.isfinite(first.loss) and not first.nonfinite
    assert first.loss > 1000 * reports[0].loss
    advice = trainer.divergence(first)
    assert advice.startswith("diverging: the loss") and "lower the learning rate" in advice
    assert trainer.divergence(reports[0]) == ""
    assert trainer.history[first.step - 1].diverging  # kept in the history


def test_diverging_survives_a_checkpoint_and_a_reset_starts_afresh(tmp_path):
    trainer = the_issues_run()
    for _ in range(3):
        trainer.step()
    path = checkpoint.save(trainer, str(tmp_path / "run.json"))
    again = checkpoint.load(path)
    assert [r.diverging for r in again.history] == [r.diverging for r in trainer.history]
    assert again.step().diverging  # the reference (the run's first, lowest loss) came back too
    trainer.reset()
    assert not trainer.step().diverging


def test_headless_says_diverging_once_with_the_advice(capsys):
    argv = ["--headless", "--dataset", "tiny", "--hidden", "16,16", "--activation", "relu"]
    argv += ["--lr", "0.5", "--loss", "sse", "--steps", "4", "--every", "1"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err.count("diverging: the loss") == 1
    assert "lower the learning rate (now 0.5)" in captured.err
    assert captured.out.count("step 2 ") == 1  # the progress line is not doubled


def test_lecture_preset_is_the_lectures_run_and_takes_other_options():
    lecture = config("--lecture")
    assert lecture == config_for_dataset(TrainConfig(dataset="tiny"))
    assert (lecture.hidden, lecture.loss, lecture.lr, lecture.alpha) == ((4, 4), "sse", 0.05, 0)
    assert config("--lecture", "--lr", "0.1").lr == 0.1
    trainer = Trainer(lecture)
    assert len(trainer.data.X_train) == 4 and trainer.data.input_dim == 3
    assert trainer.architecture == "3-4-4-1"  # the lecture's MLP(3, [4, 4, 1])
    for _ in range(20):
        report = trainer.step()
    assert report.accuracy == 1.0 and report.loss < 0.01


@pytest.mark.parametrize("other", [["--dataset", "moons"], ["--csv", "data.csv"]])
def test_lecture_preset_refuses_other_data_in_one_line(other, capsys, tmp_path):
    if other[0] == "--csv":
        (tmp_path / "data.csv").write_text("x,y,label\n1,2,0\n2,1,1\n")
        other = ["--csv", str(tmp_path / "data.csv")]
    assert main(["--lecture", *other]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"leave out {other[0]}" in err


@pytest.mark.parametrize("factor", [1.1, 2.0, 1.25, 3.0])
def test_a_factor_and_its_inverse_return_to_the_same_learning_rate(factor):
    trainer = Trainer(TrainConfig(samples=10, hidden=(2,)))
    for lr in (0.5, 0.05, 0.1, 0.3, 1e-3, 0.07, 12.5, 0.123456):
        trainer.set_lr(lr)
        trainer.scale_lr(factor)
        assert trainer.base_lr == pytest.approx(lr * factor, rel=1e-11)
        trainer.scale_lr(1 / factor)
        assert trainer.base_lr == lr  # exactly: the rate the learner had
    trainer.set_lr(0.5)
    for _ in range(7):  # ] ] ] ... then [ [ [ ...: back to the start
        trainer.scale_lr(factor)
    for _ in range(7):
        trainer.scale_lr(1 / factor)
    assert trainer.base_lr == 0.5


def test_digits_on_tensors_default_to_all_samples_with_a_test_split_and_take_batches_of_128():
    """Before: digits defaulted to 100 samples and no test split on both engines, so
    `--engine tensor --dataset digits --batch-size 128` was refused (128 > 100 samples)."""
    argv = ["--engine", "tensor", "--dataset", "digits", "--conv", "8,16", "--hidden", "64"]
    tensor = config(*argv, "--optimizer", "adam", "--lr", "0.01", "--batch-size", "128")
    assert (tensor.samples, tensor.test_fraction, tensor.batch_size) == (1797, 0.2, 128)
    trainer = Trainer(tensor)
    assert len(trainer.data.X_train) + len(trainer.data.X_test) == 1797
    first = trainer.step()
    for _ in range(19):
        report = trainer.step()
    assert report.step == 20 and report.loss < first.loss and report.test_loss is not None
    scalar = config("--dataset", "digits")  # the scalar engine keeps a tractable run
    assert (scalar.samples, scalar.test_fraction) == (100, 0.0)
    assert config("--engine", "tensor", "--dataset", "digits", "--samples", "300").samples == 300
    # moving on from digits restores the general defaults the user did not choose
    moons = config_for_dataset(tensor, "moons", given={"engine", "conv", "hidden", "batch_size"})
    assert (moons.samples, moons.test_fraction) == (100, 0.0)
