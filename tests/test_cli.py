"""The command line: headless training, checkpoints, DOT export and one-line refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import build_parser, config_from_args, main


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse exits on usage errors and --help
        status = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err


def test_headless_default_trains_the_moons_demo(capsys) -> None:
    status, out, err = run(["--headless", "--steps", "60", "--every", "20"], capsys)
    assert status == 0, err
    lines = out.splitlines()
    head = "training moons (100 train, 0 test), MLP 2-16-16-1, relu, hinge loss"
    assert lines[0].startswith(head)  # the architecture as the app names it
    progress = [line for line in lines if line.startswith("step ")]
    assert [line.split()[1] for line in progress] == ["20", "40", "60"]
    assert "acc " in progress[-1] and "lr 0.5" in progress[-1] and "steps/s" in progress[-1]
    assert lines[-1].startswith("done: 60 steps in ")
    accuracy = float(lines[-1].split("train accuracy ")[1].rstrip("%"))
    assert accuracy >= 85.0


def test_headless_save_then_load_continues_the_same_run(tmp_path: Path, capsys) -> None:
    straight = tmp_path / "straight.json"
    run(
        [
            "--headless",
            "--steps",
            "8",
            "--save",
            str(straight),
            "--optimizer",
            "adam",
            "--lr",
            "0.02",
        ],
        capsys,
    )
    half = tmp_path / "half.json"
    run(
        ["--headless", "--steps", "3", "--save", str(half), "--optimizer", "adam", "--lr", "0.02"],
        capsys,
    )
    status, out, err = run(
        ["--headless", "--load", str(half), "--steps", "5", "--save", str(half)], capsys
    )
    assert status == 0, err
    a = json.loads(straight.read_text())
    b = json.loads(half.read_text())
    assert b["step"] == 8
    assert [r[1] for r in a["history"]] == [r[1] for r in b["history"]]
    assert a["weights"] == b["weights"]


def test_headless_exports_the_last_graph_as_dot(tmp_path: Path, capsys) -> None:
    dot = tmp_path / "graph.dot"
    status, out, err = run(
        [
            "--headless",
            "--steps",
            "2",
            "--samples",
            "10",
            "--hidden",
            "4",
            "--export-dot",
            str(dot),
        ],
        capsys,
    )
    assert status == 0, err
    text = dot.read_text()
    assert text.lstrip().startswith("digraph")
    assert "->" in text


def test_headless_on_a_csv(tmp_path: Path, capsys) -> None:
    csv = tmp_path / "points.csv"
    rows = ["x,y,label"] + [f"{i / 10},{(i % 7) / 10},{'a' if i % 2 else 'b'}" for i in range(40)]
    csv.write_text("\n".join(rows) + "\n")
    status, out, err = run(["--headless", "--csv", str(csv), "--steps", "5"], capsys)
    assert status == 0, err
    assert f"csv {csv} (40 train" in out


def test_headless_divergence_exits_3_with_a_message(capsys) -> None:
    status, out, err = run(["--headless", "--lr", "1e6", "--steps", "50"], capsys)
    assert status == 3
    assert "diverged at step" in err
    assert "Lower the learning rate" in err
    assert "Traceback" not in out + err


BAD_OPTIONS = [
    (["--dataset", "nope"], "--dataset: invalid choice"),
    (["--activation", "gelu"], "--activation: invalid choice"),
    (["--loss", "l1"], "--loss: invalid choice"),
    (["--optimizer", "lbfgs"], "--optimizer: invalid choice"),
    (["--samples", "0"], "--samples: must be a whole number >= 1 and <= 100,000, got 0"),
    (["--samples", "ten"], "--samples: must be a whole number >= 1 and <= 100,000, got 'ten'"),
    (["--steps", "-5"], "--steps: must be a whole number >= 1, got -5"),
    (["--hidden", "16,x"], "--hidden: must be whole numbers >= 1 and <= 1,024 separated by commas"),
    (["--hidden", "16,0"], "--hidden: must be whole numbers >= 1 and <= 1,024 separated by commas"),
    (
        ["--hidden", "100000,100000"],
        "--hidden: must be at most 16 hidden layers of at most 1024 neurons",
    ),
    (["--samples", "10000000"], "--samples: must be a whole number >= 1 and <= 100,000"),
    (["--lr", "0"], "--lr: must be a finite number > 0"),
    (["--lr", "-0.1"], "--lr: must be a finite number > 0"),
    (["--lr", "nan"], "--lr: must be a finite number"),
    (["--lr", "inf"], "--lr: must be a finite number"),
    (["--test-fraction", "1"], "--test-fraction: must be a finite number >= 0 and < 1"),
    (["--test-fraction", "-0.1"], "--test-fraction: must be a finite number >= 0 and < 1"),
    (["--seed", "1.5"], "--seed: must be a whole number, got '1.5'"),
    (["--batch-size", "-1"], "--batch-size: must be a whole number >= 0"),
    (["--csv", "/nonexistent/file.csv"], "--csv: no such file"),
    (["--load", "/nonexistent/run.json"], "--load: no such file"),
    (["--save", "/nonexistent/dir/run.json"], "--save: the folder /nonexistent/dir does not exist"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
]


@pytest.mark.parametrize(
    ("argv", "message"), BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS]
)  # noqa: E501
def test_bad_options_exit_2_with_one_line(argv: list[str], message: str, capsys) -> None:
    status, out, err = run(["--headless", *argv], capsys)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert message in err
    assert err.startswith("microgradtui: error: ")


def test_batch_size_larger_than_the_data_exits_2(capsys) -> None:
    status, out, err = run(["--headless", "--batch-size", "500"], capsys)
    assert status == 2
    assert "larger than the 100 training samples" in err
    assert len(err.strip().splitlines()) == 1


def test_a_bad_checkpoint_exits_2_naming_the_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "run.json"
    path.write_text('{"format": "microgradtui-checkpoint", "version": 1, "config": {')
    status, out, err = run(["--headless", "--load", str(path)], capsys)
    assert status == 2
    assert f"{path}: not valid JSON" in err


def test_the_app_refuses_a_bad_checkpoint_before_taking_the_screen(tmp_path: Path, capsys):
    path = tmp_path / "run.json"
    path.write_text("{}")
    status, out, err = run(["--load", str(path)], capsys)
    assert status == 2
    assert err == f"microgradtui: error: --load: {path}: not a microgradtui checkpoint\n"


def test_a_bad_csv_exits_2_naming_the_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("1,2,0\n3,4\n5,6,1\n7,8,0\n")
    status, out, err = run(["--headless", "--csv", str(path)], capsys)
    assert status == 2
    assert str(path) in err and "line 2" in err


def test_options_become_the_config() -> None:
    args = build_parser().parse_args(
        ["--dataset", "circles", "--hidden", "8,4", "--lr", "0.1", "--optimizer", "adam"]
    )
    config = config_from_args(args)
    assert (config.dataset, config.hidden, config.lr, config.optimizer) == (
        "circles",
        (8, 4),
        0.1,
        "adam",
    )
    assert config.seed == 1337  # untouched options keep their defaults


def test_without_a_terminal_it_explains_and_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli"], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "use ssh -t, or --headless" in result.stderr
    assert "\x1b[" not in result.stderr


def test_the_entry_point_prints_no_traceback_for_bad_input() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--headless", "--hidden", "a,b"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
