"""Reliability (issue 6): bad input, faults and long runs, each a designed and tested behaviour.

Cases already covered elsewhere are not repeated here: tests/test_cli.py (most bad options),
tests/test_data.py (every bad CSV, byte and CSV fuzzing), tests/test_checkpoint.py (bad and
half-written checkpoints), tests/test_engine.py (op domains and random graphs against central
differences), tests/test_app.py and tests/test_tmux.py (divergence, quitting). This file adds
the end-to-end command-line cases, faults in the running app (a killed training process, a save
that fails, resizing), bounded memory for long runs, more fuzzing and the security checks.
"""

from __future__ import annotations

import builtins
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from apphelp import FAST, notices
from apphelp import status as app_status
from apphelp import step as app_step
from apphelp import wait_for as pilot_wait
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micrograd import checkpoint, fileio
from micrograd.checkpoint import CheckpointError
from micrograd.engine import Value
from micrograd.gradcheck import check_nodes
from micrograd.train import History, StepReport, TrainConfig, Trainer
from tui.cli import main

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--samples", "20", "--hidden", "4"]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse exits on usage errors
        status = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_refusal(status: int, out: str, err: str, *fragments: str) -> None:
    assert status == 2, (status, out, err)
    assert "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("microgradtui: error: "), err
    for fragment in fragments:
        assert fragment in err, err


# -- the command line: the options test_cli.py does not try ------------------------------------

MORE_BAD_OPTIONS = [
    (["--every", "0"], "--every: must be a whole number >= 1, got 0"),
    (["--eval-every", "0"], "--eval-every: must be a whole number >= 1, got 0"),
    (["--steps", "2.5"], "--steps: must be a whole number >= 1, got '2.5'"),
    (["--samples", "-3"], "--samples: must be a whole number >= 1"),
    (["--seed", "abc"], "--seed: must be a whole number, got 'abc'"),
    (
        ["--hidden", ""],
        "--hidden: must be whole numbers >= 1 and <= 1,024 separated by commas, such as 16,16",
    ),
    (
        ["--hidden", "16,,16"],
        "--hidden: must be whole numbers >= 1 and <= 1,024 separated by commas",
    ),
    (["--lr", "abc"], "--lr: must be a finite number > 0, got 'abc'"),
    (["--lr", "1e400"], "--lr: must be a finite number"),
    (["--noise", "-1"], "--noise: must be a finite number >= 0"),
    (["--noise", "nan"], "--noise: must be a finite number"),
    (["--weight-decay", "-0.1"], "--weight-decay: must be a finite number >= 0"),
    (["--alpha", "inf"], "--alpha: must be a finite number"),
    (["--test-fraction", "nan"], "--test-fraction: must be a finite number"),
    (["--schedule", "sometimes"], "--schedule: invalid choice: 'sometimes' (choose from"),
    (["--optimizer", "ADAM"], "--optimizer: invalid choice: 'ADAM' (choose from"),
    (["--export-dot", "/nonexistent/g.dot"], "--export-dot: the folder /nonexistent does not"),
]


@pytest.mark.parametrize(
    ("argv", "message"), MORE_BAD_OPTIONS, ids=[" ".join(a) for a, _ in MORE_BAD_OPTIONS]
)
def test_more_bad_options_exit_2_naming_the_option(argv, message, capsys) -> None:
    assert_one_line_refusal(*run(["--headless", *argv], capsys), message)


@pytest.mark.parametrize("option", ["--csv", "--load", "--save"])
def test_a_folder_given_as_a_file_is_refused(option: str, tmp_path: Path, capsys) -> None:
    status, out, err = run(["--headless", option, str(tmp_path)], capsys)
    assert_one_line_refusal(status, out, err, f"{option}: is a folder, not a file")


@pytest.mark.parametrize("option", ["--csv", "--load"])
def test_an_unreadable_file_is_refused(option: str, tmp_path: Path, capsys, monkeypatch) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    # The tests run as root, who may read anything: stand in for a file without read permission.
    monkeypatch.setattr("tui.cli.os.access", lambda p, mode: False)
    status, out, err = run(["--headless", option, str(path)], capsys)
    assert_one_line_refusal(status, out, err, f"{option}: cannot read {path} (permission denied)")


def test_batch_size_larger_than_the_data_names_the_option_and_the_range(capsys) -> None:
    status, out, err = run(["--headless", "--samples", "30", "--batch-size", "31"], capsys)
    assert_one_line_refusal(
        status, out, err, "--batch-size: batch size 31 is larger than the 30 training samples",
        "use 1 to 30, or 0 for the full batch",
    )  # fmt: skip


def test_the_app_refuses_a_setting_that_does_not_fit_before_taking_the_screen(capsys) -> None:
    # without --headless: refused before the terminal check, so in one line, no UI
    status, out, err = run(["--batch-size", "500"], capsys)
    assert_one_line_refusal(status, out, err, "--batch-size: ")


# -- CSV files, end to end through the command line ---------------------------------------------


def csv_file(tmp_path: Path, content: str | bytes, name: str = "data.csv") -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


THREE_CLASSES = "".join(f"{i % 5},{i % 7},{'abc'[i % 3]}\n" for i in range(30))
CLI_CSV_CASES = {
    "binary": (b"1,2,0\n\x89PNG\x00\x01\x02", "binary content"),
    "non-UTF-8": ("x,y,c\n1,2,caf\u00e9\n".encode("latin-1"), "not UTF-8 text"),
    "empty": (b"", "empty file"),
    "header only": ("x,y,label\n", "has a header but no data rows"),
    "duplicate headers": ("x,y,x,c\n1,2,3,0\n4,5,6,1\n", "duplicate column name 'x'"),
    "ragged": ("1,2,0\n3,4\n5,6,1\n7,8,0\n", "line 2: has 2 columns, expected 3"),
    "more classes than supported": (
        "".join(f"{i},{i},{i}\n" for i in range(11)),
        "11 different labels in the last column; at most 10 classes are supported",
    ),
}


@pytest.mark.parametrize("case", sorted(CLI_CSV_CASES))
def test_a_bad_csv_exits_2_in_one_line_naming_option_and_file(case, tmp_path, capsys) -> None:
    content, message = CLI_CSV_CASES[case]
    path = csv_file(tmp_path, content)
    status, out, err = run(["--headless", "--csv", path], capsys)
    assert_one_line_refusal(status, out, err, f"--csv: {path}", message)


def test_a_two_class_loss_on_three_classes_names_the_loss_option(tmp_path, capsys) -> None:
    path = csv_file(tmp_path, THREE_CLASSES)
    status, out, err = run(["--headless", "--csv", path, "--loss", "hinge"], capsys)
    assert_one_line_refusal(
        status, out, err, "--loss: the hinge loss is for two classes, but the data has 3"
    )


def test_a_100_mb_csv_is_refused_at_once(tmp_path, capsys, monkeypatch) -> None:
    path = tmp_path / "big.csv"
    with open(path, "wb") as f:
        f.write(b"x,y,label\n")
        f.truncate(100_000_000)  # sparse: 100 MB to stat, nothing to read
    real_open = builtins.open

    def no_reading(file, *args, **kwargs):  # refused from its size, never read
        if os.fspath(file) == str(path):
            raise AssertionError("the 100 MB file was opened")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_reading)
    status, out, err = run(["--headless", "--csv", str(path)], capsys)
    assert_one_line_refusal(status, out, err, "the file is 100.0 MB; the limit is 50 MB")


def test_string_labels_are_mapped_to_classes_and_the_mapping_is_printed(tmp_path, capsys) -> None:
    rows = "".join(f"{i / 10},{(i % 7) / 10},{'dog' if i % 2 else 'cat'}\n" for i in range(20))
    path = csv_file(tmp_path, "x,y,animal\n" + rows)
    status, out, err = run(["--headless", "--csv", path, "--steps", "2"], capsys)
    assert status == 0, err
    assert out.splitlines()[1] == "classes: 0=cat, 1=dog"


def test_three_string_classes_train_with_softmax_and_are_stated(tmp_path, capsys) -> None:
    path = csv_file(tmp_path, THREE_CLASSES)
    status, out, err = run(["--headless", "--csv", path, "--steps", "2", "--hidden", "4"], capsys)
    assert status == 0, err
    assert "softmax loss" in out.splitlines()[0]
    assert "classes: 0=a, 1=b, 2=c" in out


def test_a_loss_that_overflows_stops_headless_with_status_3(tmp_path, capsys) -> None:
    rows = "".join(f"{1e200 * (i + 1)},{-1e200 * i},{i % 2}\n" for i in range(8))
    path = csv_file(tmp_path, rows)
    status, out, err = run(["--headless", "--csv", path, "--loss", "mse", "--steps", "5"], capsys)
    assert status == 3, (out, err)
    assert "diverged at step 1" in err and "Traceback" not in out + err


# -- checkpoints --------------------------------------------------------------------------------


@pytest.fixture
def saved_run(tmp_path: Path) -> Path:
    trainer = Trainer(TrainConfig(samples=20, hidden=(4,), lr=0.1, seed=3))
    for _ in range(3):
        trainer.step()
    return checkpoint.save(trainer, tmp_path / "run.json")


CLI_CHECKPOINT_CASES = {
    "missing": (None, "--load: no such file"),
    "empty": (b"", "the file is empty"),
    "not JSON": (b"hello, world", "not valid JSON"),
    "wrong version": (b'{"format": "microgradtui-checkpoint", "version": 7}', "version 7"),
    "nested too deeply": (b"[" * 100_000, "JSON nested too deeply"),
}


@pytest.mark.parametrize("case", sorted(CLI_CHECKPOINT_CASES))
def test_a_bad_checkpoint_exits_2_in_one_line(case: str, tmp_path: Path, capsys) -> None:
    content, message = CLI_CHECKPOINT_CASES[case]
    path = tmp_path / "run.json"
    if content is not None:
        path.write_bytes(content)
    status, out, err = run(["--headless", "--load", str(path)], capsys)
    assert_one_line_refusal(status, out, err, message)


def test_a_truncated_checkpoint_exits_2(saved_run: Path, capsys) -> None:
    saved_run.write_bytes(saved_run.read_bytes()[:-40])
    status, out, err = run(["--headless", "--load", str(saved_run)], capsys)
    assert_one_line_refusal(status, out, err, f"--load: {saved_run}: not valid JSON (truncated")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hidden", "8"], "--hidden: 8 does not match the checkpoint"),
        (["--activation", "tanh"], "--activation: tanh does not match the checkpoint"),
        (["--dataset", "circles"], "--dataset: circles does not match"),
        (["--optimizer", "adam"], "--optimizer: adam does not match"),
        (["--seed", "4"], "--seed: 4 does not match"),
    ],
)
def test_load_refuses_options_that_contradict_the_checkpoint(saved_run, argv, message, capsys):
    status, out, err = run(["--headless", "--load", str(saved_run), *argv], capsys)
    assert_one_line_refusal(status, out, err, message, "leave", "or train anew without --load")


def test_load_accepts_the_checkpoints_own_options_and_a_new_lr(saved_run, capsys) -> None:
    argv = ["--headless", "--load", str(saved_run), "--hidden", "4", "--samples", "20"]
    status, out, err = run([*argv, "--lr", "0.3", "--steps", "2", "--save", str(saved_run)], capsys)
    assert status == 0, err
    resumed = checkpoint.load(saved_run)
    assert resumed.step_count == 5
    assert [r.lr for r in resumed.history] == [0.1, 0.1, 0.1, 0.3, 0.3]


def test_a_checkpoint_asking_for_a_huge_model_is_refused_without_building_it(
    saved_run, monkeypatch
) -> None:
    import micrograd.train

    def no_building(*args, **kwargs):
        raise AssertionError("the model was built")

    monkeypatch.setattr(micrograd.train, "MLP", no_building)
    payload = json.loads(saved_run.read_text())
    payload["config"]["hidden"] = [1024] * 16  # the largest allowed: 15.7M weights; the file has 17
    saved_run.write_text(json.dumps(payload))
    with pytest.raises(CheckpointError, match="17 weights but this model has 15748097"):
        checkpoint.load(saved_run)
    payload["config"]["hidden"] = [1_000_000, 1_000_000]  # past the limits: refused as such
    saved_run.write_text(json.dumps(payload))
    with pytest.raises(CheckpointError, match="at most 16 hidden layers of at most 1024 neurons"):
        checkpoint.load(saved_run)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzz_damaged_checkpoints_only_raise_checkpoint_error(saved_run: Path, data) -> None:
    """Replace any one value (at any depth) of a good checkpoint with random JSON."""
    payload = json.loads(saved_run.read_text())
    node = payload
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, (dict, list)) and child and data.draw(st.booleans()):
            node = child
            continue
        node[key] = data.draw(JSON_VALUES)
        break
    path = saved_run.with_name("fuzz.json")
    path.write_text(json.dumps(payload))
    try:
        trainer = checkpoint.load(path)
    except CheckpointError as exc:
        assert str(exc).startswith(str(path))
    else:  # accepted: it must be a run that can take a step
        report = trainer.step()
        assert report.step == trainer.step_count


class _ListQueue(list):
    """What the training loop needs of a queue, in this process."""

    def put(self, item) -> None:
        self.append(item)


def test_a_failed_save_in_the_app_is_a_notice_the_run_goes_on_the_old_file_stays(
    tmp_path: Path, monkeypatch
) -> None:
    """The training process's save (what `s` does) into a folder it may not write in.

    Run in this process so the refusal can be simulated (the tests run as root, who may write
    anywhere); tests/test_app.py below drives the same through the app with real folders."""
    from tui.protocol import Notice, Save
    from tui.training.loop import TrainingLoop

    reports = _ListQueue()
    runner = TrainingLoop(TrainConfig(samples=20, hidden=(4,), seed=1), False, None, reports, None)
    runner.do_step()
    target = tmp_path / "run.json"
    runner.handle(1, Save(str(target)))
    before = target.read_bytes()
    runner.do_step()

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fileio.tempfile, "mkstemp", read_only)
    runner.handle(1, Save(str(target)))
    notices = [r for r in reports if isinstance(r, Notice)]
    assert notices[-1].severity == "error"
    assert notices[-1].text == (
        f"Could not save: {target}: cannot write in {tmp_path} (Permission denied)"
    )
    assert target.read_bytes() == before  # the previous save, untouched
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]
    runner.do_step()  # and training goes on
    assert runner.step_count == 3


# -- numerics at the edges: what the engine's docstrings promise -----------------------------


def test_exp_at_extremes() -> None:
    big, small = Value(1000.0), Value(-1000.0)
    assert big.exp().data == math.inf  # "Overflow gives inf, not an exception"
    out = small.exp()
    out.backward()
    assert out.data == 0.0 and small.grad == 0.0


def test_log_at_extremes() -> None:
    tiny = Value(5e-324)  # the smallest positive float
    out = tiny.log()
    out.backward()
    assert out.data == pytest.approx(-744.44, abs=0.01)
    assert tiny.grad == math.inf  # d/da = 1/a, which overflows: inf, not an exception
    assert Value(1e308).log().data == pytest.approx(709.196, abs=1e-3)
    for bad in (0.0, -0.0, -1e-300, -math.inf):
        with pytest.raises(ValueError, match="log: the input must be > 0"):
            Value(bad).log()


def test_pow_at_extremes() -> None:
    assert (Value(1e300) ** 2).data == math.inf
    assert (Value(-1e300) ** 3).data == -math.inf  # an odd power keeps the sign
    assert (Value(-1e300) ** 2).data == math.inf
    assert (Value(10.0) ** -400).data == 0.0  # underflow: zero
    a = Value(1e300)
    out = a**3
    out.backward()
    assert out.data == math.inf and a.grad == math.inf  # d/da = 3 * a**2 overflows too
    with pytest.raises(ZeroDivisionError, match=r"\*\*: zero"):
        Value(0.0) ** -2
    with pytest.raises(ValueError, match=r"\*\*: a negative base"):
        Value(-1e-300) ** 0.5


def test_a_huge_learning_rate_in_a_long_run_never_crashes_and_keeps_weights_finite() -> None:
    trainer = Trainer(TrainConfig(samples=20, hidden=(4,), lr=1e6, optimizer="adam"))
    reports = [trainer.step() for _ in range(30)]
    assert all(math.isfinite(p.data) for p in trainer.params)
    assert all(isinstance(r.loss, float) for r in reports)


# -- fuzzing: random graphs with every op, every node checked --------------------------------


@st.composite
def graphs(draw):
    n_leaves = draw(st.integers(1, 4))
    xs = draw(st.lists(st.floats(-2.0, 2.0), min_size=n_leaves, max_size=n_leaves))
    ops = st.sampled_from(["+", "-", "*", "/", "log", "exp", "pow", "sigmoid", "sum", "dot"])
    steps = draw(st.lists(st.tuples(ops, st.integers(0, 99), st.integers(0, 99)), max_size=10))
    return xs, steps


def build_graph(leaves: list[Value], steps) -> Value:
    nodes = list(leaves)
    for op, i, j in steps:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        if op == "+":
            out = a + b
        elif op == "-":
            out = a - b
        elif op == "*":
            out = a * b
        elif op == "/":
            out = a / (1.5 + b.tanh())  # the divisor stays in [0.5, 2.5]
        elif op == "log":
            out = (1.0 + a * a).log()
        elif op == "exp":
            out = (0.5 * a.tanh()).exp()
        elif op == "pow":
            out = (1.0 + a * a) ** -1.5
        elif op == "sigmoid":
            out = a.sigmoid()
        elif op == "sum":
            out = Value.sum([a, b, 1.0, a])
        else:
            out = Value.dot([a, b], [b, a], Value(0.5))
        nodes.append(out.tanh() * 2.0)  # bounded magnitudes keep differences accurate
    return Value.sum([*nodes, nodes[-1] * nodes[-1]])


@settings(max_examples=100, deadline=None)
@given(graphs())
def test_fuzz_random_graphs_every_node_gradient_matches_central_difference(case) -> None:
    xs, steps = case
    leaves = [Value(x) for x in xs]
    root = build_graph(leaves, steps)
    root.backward()
    from micrograd.engine import topological_order

    for check in check_nodes(root, topological_order(root), h=1e-5, rtol=1e-4, atol=1e-6):
        assert check.ok, check


# -- long runs: bounded memory ---------------------------------------------------------------


def report(step: int, test: bool = False) -> StepReport:
    return StepReport(
        step,
        1.0 / step,
        0.5,
        0.1,
        1e-3,
        0.2 if test else None,
        0.75 if test else None,
        step == 7,
    )


def test_history_is_bounded_and_covers_the_whole_run_evenly() -> None:
    history = History(limit=100)
    for s in range(1, 1001):
        history.append(report(s, test=s % 16 == 1))
    assert 50 <= len(history) <= 100
    steps = [r.step for r in history]
    assert steps[0] == 1 and steps[-1] == 1000  # the first report and the latest one
    gaps = {b - a for a, b in zip(steps, steps[1:-1])}
    assert gaps == {history.stride} and history.stride == 16  # every 16th step: 1, 17, 33, ...
    assert history[-1] == report(1000)
    assert history[-2] == report(993, test=True)  # test figures survive, None stays None
    assert history[0] == report(1, test=True)


def test_history_reads_and_compares_like_a_list_of_reports() -> None:
    reports = [report(s, test=s == 3) for s in range(1, 8)]
    history = History(reports)
    assert history == reports and history != reports[:-1]
    assert history[1:3] == reports[1:3] and history[-1].nonfinite
    assert list(history) == reports and len(history) == 7
    with pytest.raises(IndexError):
        history[7]
    with pytest.raises(TypeError):
        history.append(StepReport(8, "x", 0.5, 0.1, 0.0))  # type: ignore[arg-type]
    assert len(history) == 7  # a refused report leaves the columns as they were


def test_a_thinned_history_survives_a_checkpoint(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("micrograd.train.HISTORY_LIMIT", 8)
    trainer = Trainer(TrainConfig(samples=20, hidden=(4,)))
    for _ in range(20):
        trainer.step()
    assert len(trainer.history) < 8
    resumed = checkpoint.load(checkpoint.save(trainer, tmp_path / "run.json"))
    assert resumed.history == trainer.history
    assert resumed.history[-1].step == 20


def test_the_loss_plot_holds_a_bounded_history() -> None:
    from tui.widgets.loss import KEEP, LossPlot

    plot = LossPlot()
    for start in range(0, 5 * KEEP, 10):
        plot.add_points(
            (s, 1.0 / (s + 1), 0.5 if s % 50 == 0 else None) for s in range(start, start + 10)
        )
    assert len(plot.steps) <= KEEP and len(plot.test_steps) <= KEEP
    assert list(plot.steps) == sorted(plot.steps) and plot.steps[-1] == 5 * KEEP - 1
    assert len(plot.steps) == len(plot.losses)


def test_the_loss_curve_spans_the_whole_run() -> None:
    """The history is bounded and still reaches back to the run's first step, its points spread
    over the run (halving the older half again and again left the first 72,000 of 100,000
    steps out of the curve)."""
    from tui.widgets.loss import KEEP, LossPlot

    plot = LossPlot()
    last = 100_000
    for start in range(1, last + 1, 100):
        plot.add_points(
            (s, 1.0 / s, 2.0 / s if s % 10 == 0 else None) for s in range(start, start + 100)
        )
    for steps, losses, first, scale in (
        (plot.steps, plot.losses, 1, 1.0),
        (plot.test_steps, plot.test_losses, 10, 2.0),
    ):
        assert len(steps) == len(losses) <= KEEP + 1
        assert steps[0] == first and steps[-1] == last  # the first step and the latest
        assert list(losses) == [scale / s for s in steps]  # each point its own step's loss
        gaps = [b - a for a, b in zip(steps, steps[1:])]
        assert 0 < min(gaps) and max(gaps) <= 4 * last / KEEP, (min(gaps), max(gaps))


def test_the_loss_history_holds_the_same_memory_all_run() -> None:
    """A run's losses arrive as Python floats (and steps as ints) unpickled from each report;
    kept in lists they held about 70 bytes a point and pinned the allocator's pools, and lists
    or arrays that grew with the run (copied at every redraw) left the heap full of holes: the
    UI's memory grew until the history was full. The history is plain numbers in arrays made
    at the start: what it holds after 100 steps is what it holds after 100,000."""
    from tui.widgets.loss import LossPlot

    tracemalloc.start()
    try:
        plot = LossPlot()
        held = []
        for start in range(1, 100_001, 100):
            plot.add_points(
                (s, 1.0 / s, 0.5 / s if s % 50 == 0 else None) for s in range(start, start + 100)
            )
            if start in (1, 100_000 - 99):
                plot._curves()  # what a redraw hands to the thread, dropped
                held.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert held[1] - held[0] <= 2048, held  # a few counters' ints, no more
    assert plot.steps[-1] == 100_000 and plot.losses[-1] == 1.0 / 100_000


# -- security -------------------------------------------------------------------------------

UNSAFE = re.compile(
    r"(?<![\w.])(eval|exec|compile|__import__)\s*\(|\b(pickle|marshal)\.loads?\s*\("
    r"|\bshelve\.open|\byaml\.(unsafe_)?load|\bimportlib\.import_module|\bUnpickler\b"
)


def test_no_code_reads_user_files_through_pickle_eval_or_exec() -> None:
    """User files (CSV, checkpoints) are parsed as CSV and JSON only. The one pickle in the
    project is multiprocessing's own, between the app and its training process."""
    hits = []
    for path in sorted(
        [*ROOT.joinpath("micrograd").rglob("*.py"), *ROOT.joinpath("tui").rglob("*.py")]
    ):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if UNSAFE.search(line.split("#")[0]):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert hits == []


def test_loading_a_checkpoint_does_not_unpickle(saved_run: Path, monkeypatch) -> None:
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("a checkpoint was unpickled")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    assert checkpoint.load(saved_run).step_count == 3


def test_headless_writes_only_where_the_user_pointed(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    status, out, err = run(["--headless", *SMALL, "--steps", "3"], capsys)
    assert status == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing without --save
    save, dot = out_dir / "run.json", out_dir / "g.dot"
    status, out, err = run(
        ["--headless", *SMALL, "--steps", "3", "--save", str(save), "--export-dot", str(dot)],
        capsys,
    )
    assert status == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in out_dir.iterdir()) == ["g.dot", "run.json"]  # no temp files


def listening_sockets() -> set[str]:
    """Inodes of every listening TCP socket, bound UDP socket and listening unix socket."""
    inodes: set[str] = set()
    for name in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if name.startswith("udp") or fields[3] == "0A":  # 0A: TCP_LISTEN
                inodes.add(fields[9])
    try:
        for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[3], 16) & 0x10000:  # __SO_ACCEPTCON: a listening unix socket
                inodes.add(fields[6])
    except OSError:
        pass
    return inodes


def socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def test_the_socket_helpers_see_a_listener() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert socket_inodes(os.getpid()) & listening_sockets()


# -- processes: Ctrl-C in headless mode -----------------------------------------------------


def test_ctrl_c_stops_headless_cleanly_with_a_summary_and_saves(tmp_path: Path) -> None:
    save = tmp_path / "run.json"
    command = [sys.executable, "-m", "tui.cli", "--headless", *SMALL]
    command += ["--steps", "1000000", "--every", "5", "--save", str(save)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("training "), first
        progress = process.stdout.readline()
        assert progress.startswith("step 5 "), progress
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in out + err and err == ""
    lines = out.splitlines()
    done = int(re.search(r"interrupted \(Ctrl-C\) after (\d+) steps", out).group(1))
    assert any(line.startswith(f"done: {done} steps in ") for line in lines), out
    assert lines[-1] == f"saved step {done} to {save}"
    resumed = checkpoint.load(save)  # whole, and a whole step: it carries on exactly
    assert resumed.step_count == done == len(resumed.history)


def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {condition}")
        time.sleep(0.02)


# -- the app: faults while it runs ------------------------------------------------------------


async def test_a_killed_training_process_is_reported_and_r_restarts_it():
    from tui.app import MicrogradApp

    app = MicrogradApp(FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot_wait(pilot, lambda: app_step(app) >= 3)
        first = app.session.process
        os.kill(first.pid, signal.SIGKILL)
        await pilot_wait(pilot, lambda: "stopped" in app_status(app))
        assert any(
            "Training stopped: the training process ended (killed by signal 9)" in m
            and "Press r to restart" in m
            for m in notices(app)
        ), notices(app)
        await pilot.press("space")  # nothing to run: it says what to do
        assert "press r to restart it" in notices(app)[-1]
        await pilot.press("r")
        second = app.session.process
        assert second is not first and second.is_alive()
        await pilot_wait(pilot, lambda: "running" in app_status(app) and app_step(app) >= 2)
        await pilot.press("space")  # the new process takes commands
        await pilot_wait(pilot, lambda: app.reported_state == "paused")
    assert not first.is_alive() and not second.is_alive()


@pytest.mark.parametrize("folder", ["missing", "read-only"])
async def test_saving_into_a_folder_that_cannot_take_it_is_a_notice_and_the_run_goes_on(
    folder: str, tmp_path: Path
):
    from tui.app import MicrogradApp

    app = MicrogradApp(FAST)
    if folder == "missing":
        app.save_folder = tmp_path / "gone"  # as if the folder was removed while it ran
        expected = f"the folder {tmp_path / 'gone'} does not exist"
    else:
        app.save_folder = Path("/sys")  # read-only even for root
        expected = "cannot write in /sys (Permission denied)"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot_wait(pilot, lambda: app_step(app) >= 2)
        await pilot.press("s")
        await pilot_wait(pilot, lambda: any("Could not save" in m for m in notices(app)))
        message = next(m for m in notices(app) if "Could not save" in m)
        assert expected in message, message
        at = app_step(app)
        await pilot_wait(pilot, lambda: app_step(app) > at + 2)  # training went on
        assert "running" in app_status(app)
    assert not (tmp_path / "gone").exists()


async def test_resizing_down_to_40x12_and_back_never_crashes():
    from tui.app import MicrogradApp

    app = MicrogradApp(FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot_wait(pilot, lambda: app_step(app) >= 2)
        notice = app.query_one("#too-small")
        for size in [(80, 24), (40, 12), (20, 6), (300, 80), (59, 30), (40, 12), (120, 40)]:
            await pilot.resize_terminal(*size)
            await pilot.pause(0.15)
            tiny = size[0] < 60 or size[1] < 16
            assert notice.display == tiny and app.query_one("#panes").display == (not tiny)
            if tiny:
                assert "Terminal too small" in str(notice.render())
        await pilot.press("z", "z")
        at = app_step(app)
        await pilot_wait(pilot, lambda: app_step(app) > at)
        for pane in app.query(".pane"):
            assert pane.region.width > 20 and pane.region.height > 8


async def test_starts_at_300x80():
    from tui.app import MicrogradApp

    app = MicrogradApp(FAST)
    async with app.run_test(size=(300, 80)) as pilot:
        await pilot_wait(pilot, lambda: app_step(app) >= 2 and app.graph_step >= 0)
        assert all(p.region.width >= 140 and p.region.height >= 35 for p in app.query(".pane"))


async def test_the_app_names_csv_classes(tmp_path: Path):
    from tui.app import MicrogradApp

    rows = "".join(f"{i / 10},{(i % 7) / 10},{'dog' if i % 2 else 'cat'}\n" for i in range(20))
    path = tmp_path / "pets.csv"
    path.write_text("x,y,animal\n" + rows)
    app = MicrogradApp(TrainConfig(csv=str(path), hidden=(4,)), paused=True)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one("#dataset")
        await pilot_wait(pilot, lambda: "0=cat 1=dog" in str(pane.border_subtitle))
        assert "Classes: 0=cat, 1=dog" in notices(app)


async def test_the_app_and_its_training_process_listen_on_no_socket_and_write_nothing(
    tmp_path: Path, monkeypatch
):
    from tui.app import MicrogradApp

    monkeypatch.chdir(tmp_path)
    app = MicrogradApp(FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot_wait(pilot, lambda: app_step(app) >= 3)
        await pilot.press("space", "n", "plus")  # the commands travel; still no socket
        await pilot_wait(pilot, lambda: app.graph_step >= 1)
        listening = listening_sockets()
        for pid in (os.getpid(), app.session.process.pid):
            assert not socket_inodes(pid) & listening, pid
    assert list(tmp_path.iterdir()) == []  # without s or e, nothing is written


async def test_load_with_a_new_lr_resumes_at_that_rate(saved_run: Path):
    from tui.app import MicrogradApp

    config = TrainConfig(samples=20, hidden=(4,), lr=0.25, seed=3)  # as the CLI builds it
    app = MicrogradApp(config, paused=True, load=str(saved_run))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot_wait(pilot, lambda: app_step(app) == 3)
        await pilot.press("n")
        await pilot_wait(pilot, lambda: app_step(app) == 4)
        assert app.last_report.lr == 0.25


def _send_half_a_message(reports) -> None:
    """A training process that dies halfway through sending a report."""
    import struct

    reports._writer._send(struct.pack("!i", 1_000_000) + b"only the start of it")
    os._exit(0)


def test_a_report_cut_off_by_a_dying_child_does_not_hang_the_app() -> None:
    from tui.session import Session

    session = Session(TrainConfig())
    session.process = session._ctx.Process(target=_send_half_a_message, args=(session.reports,))
    session.process.start()
    session._release_report_writer()  # what Session.start does after starting the child
    session.process.join(5)
    got: list = []
    reader = threading.Thread(target=lambda: got.append(session.get(timeout=1.0)), daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "get() hung on half a message"
    assert got == [None]  # EOF mid-message: no report
    session.process = None


def test_a_line_that_needs_no_crop_is_freed_without_the_cyclic_collector():
    """Before: Textual's Strip.crop_extend and Strip.divide cached their result in the strip,
    and with nothing to crop, extend or divide the result is the strip itself: a cycle, so each
    such rendered line waited for a full collection (10-20 s) and the UI's RSS rose over the
    first thousands of steps."""
    import gc

    from rich.segment import Segment
    from textual.strip import Strip

    import tui.guarded_app  # noqa: F401  (the app's fixes to Textual)

    gc.collect()
    gc.disable()
    try:
        strip = Strip([Segment("abc "), Segment("def")], 7)
        assert strip.crop_extend(0, 7, None) is strip
        assert strip.crop_extend(1, 7, None).text == "bc def"  # cropping still works, cached
        assert strip.divide([7]) == [strip]  # the compositor's division of a line at its end
        assert [s.text for s in strip.divide([3, 7])] == ["abc", " def"]
        del strip
        assert gc.collect() == 0  # nothing was left for the collector
    finally:
        gc.enable()


def test_an_emptied_lru_cache_frees_its_values_without_the_cyclic_collector():
    """Before: Textual's LRUCache.clear and discard left the cache's ring of links behind, a
    cycle holding every value (the Parameters table's rows and cells, emptied after each update,
    the Graph's lines) until a full collection: most of the UI's cyclic garbage on the conv run."""
    import gc
    import weakref

    from textual.cache import LRUCache

    import tui.guarded_app  # noqa: F401  (the app's fixes to Textual)

    class Value:
        pass

    gc.collect()
    gc.disable()
    try:
        for size in (1, 3):
            cache: LRUCache[int, Value] = LRUCache(10)
            values = [Value() for _ in range(size)]
            refs = [weakref.ref(v) for v in values]
            for key, value in enumerate(values):
                cache[key] = value
            assert cache.get(0) is values[0]  # moves a link to the head: the ring is in use
            del values, value
            cache.clear()
            assert [r() for r in refs] == [None] * size
            assert len(cache) == 0 and cache.get(0) is None

            one = Value()
            ref = weakref.ref(one)
            cache[5] = one
            cache[6] = Value()
            cache.discard(5)
            cache.discard(6)
            del one
            assert ref() is None
            assert len(cache) == 0
            cache[7] = Value()  # still usable after all that
            assert isinstance(cache[7], Value)
            cache.clear()
            del cache
            assert gc.collect() == 0  # nothing was left for the collector
    finally:
        gc.enable()


def test_drawing_numbers_does_not_fill_rich_s_cell_width_cache():
    """Before: every string drawn went into rich's cell-width cache (4,096 entries), and the app
    draws numbers that change each update: 1-1.6 MiB of strings never drawn again, most of the
    UI's growth over the first ~20,000 steps of the conv run. Widths stay right."""
    import rich.cells
    from rich.segment import Segment

    import tui.guarded_app  # noqa: F401  (the app's fixes to Textual and Rich)

    cache = getattr(tui.guarded_app, "_cached_cell_len", rich.cells.cached_cell_len)
    cache.cache_clear()
    widths = [rich.cells.cell_len(f"{i * 0.000123:.6g}  grad") for i in range(2000)]
    assert widths == [len(f"{i * 0.000123:.6g}  grad") for i in range(2000)]
    assert cache.cache_info().currsize == 0
    assert rich.cells.cell_len("│▀⠈") == 3  # box drawing, half block, braille: one cell each
    assert rich.cells.cell_len("日本 ok") == 7  # wide characters: two cells each
    assert rich.cells.cell_len("a\tb") == cache.__wrapped__("a\tb")  # a control: as rich says
    assert rich.cells.cell_len("step 5 … acc 9") == 14  # the status line's cut mark
    assert cache.cache_info().currsize == 0  # wide characters measured, not kept
    segments = [Segment("0.00123 "), Segment("grad ")]
    assert [[s.text for s in line] for line in Segment.divide(segments, [3, 13])] == [
        ["0.0"],
        ["0123 ", "grad "],
    ]
    assert cache.cache_info().currsize == 0  # Segment.divide measures through it too
    from textual.content import Content

    assert [Content(f"{i * 0.000123:.6g} grad").cell_length for i in range(100)] == [
        len(f"{i * 0.000123:.6g} grad") for i in range(100)
    ]
    assert cache.cache_info().currsize == 0  # Textual's Content, through textual._cells


async def test_keys_of_footers_composed_again_are_freed():
    """Before: Textual's Footer binds each key it composes to its `compact` and composes its
    keys anew at each change of bindings (a modal opened or closed); the watchers of removed
    keys were dropped only when `compact` changed, which it never does here, so every key ever
    composed stayed alive with what it had drawn (1.6 MiB per settings form opened and closed,
    without bound)."""
    import gc

    from apphelp import FAST, wait_for
    from textual.widgets._footer import FooterKey

    from tui.app import MicrogradApp
    from tui.screens.settings import SettingsScreen

    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.query(FooterKey))
        for _ in range(4):
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
            await pilot.pause(0.3)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not app.screen.is_modal)
            await pilot.pause(0.3)
        gc.collect()
        shown = {id(k) for screen in app.screen_stack for k in screen.query(FooterKey)}
        alive = [k for k in gc.get_objects() if isinstance(k, FooterKey)]
        assert shown and len(alive) == len(shown), (len(alive), len(shown))


def test_a_widget_s_styles_cache_is_freed_with_it():
    """Before: Textual's lru_cache on StylesCache.get_inner_outer was keyed by the StylesCache
    too, so each widget's cache and every line it had rendered outlived the widget (up to 1,024
    of them: a modal's widgets at each opening; 59 -> 238 MiB over a careless session). The
    styles it gives are the same."""
    import weakref

    from textual._styles_cache import StylesCache
    from textual.color import Color

    import tui.guarded_app  # the app's fixes to Textual; Textual's own function, uncached

    base, background = Color(10, 20, 30), Color(200, 100, 50, 0.5)
    cache = StylesCache()
    inner, outer = cache.get_inner_outer(base, background)
    textuals = getattr(tui.guarded_app, "_inner_outer", None)
    textuals = textuals or StylesCache.get_inner_outer.__wrapped__  # unpatched
    assert (inner, outer) == textuals(None, base, background)
    assert StylesCache().get_inner_outer(base, background) == (inner, outer)
    ref = weakref.ref(cache)
    del cache
    assert ref() is None
