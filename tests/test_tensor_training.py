"""The training process on the tensor engine: its reports and commands, driven in-process."""

from __future__ import annotations

import pickle
import queue

import numpy as np
import pytest

from micrograd.tensor import TensorGraphSnapshot
from micrograd.train import TrainConfig
from tui.protocol import (
    AddPoint,
    ArrayReport,
    AskArray,
    AskFilters,
    AskNeuron,
    AskNodeArrays,
    AskPage,
    CheckGradient,
    CompareEngines,
    DatasetView,
    EnginesReport,
    ExportDot,
    FiltersReport,
    GradCheckView,
    GraphView,
    ModelView,
    NeuronView,
    Notice,
    Step,
    TensorModel,
)
from tui.training.loop import TrainingLoop

CONV = TrainConfig(
    engine="tensor", dataset="digits", samples=200, test_fraction=0.2, conv=(3,), hidden=(8,),
    optimizer="adam", lr=0.01, batch_size=32, seed=4,
)  # fmt: skip
MOONS = TrainConfig(engine="tensor", samples=40, hidden=(4,), seed=3)


def drain(q: queue.Queue) -> list:
    got = []
    while not q.empty():
        got.append(q.get())
    for report in got:  # everything crosses a process boundary
        pickle.loads(pickle.dumps(report))
    return got


def of(kind, got):
    return [r for r in got if isinstance(r, kind)]


def test_a_conv_run_reports_arrays_images_filters_and_a_tensor_graph(tmp_path):
    reports: queue.Queue = queue.Queue()
    loop = TrainingLoop(CONV, True, queue.Queue(), reports, None)
    (d,) = of(DatasetView, drain(reports))
    assert d.architecture == "tensor conv 3 on 1x8x8, 48-8-10"
    assert d.param_names == ("C0.K", "C0.b", "L0.W", "L0.b", "L1.W", "L1.b")
    loop.handle(1, Step())
    loop.handle(2, Step())
    got = drain(reports)
    (tm,) = of(TensorModel, got)[-1:]
    view = tm.view
    assert view.step == 2 and [r.name for r in view.params] == list(d.param_names)
    assert all(r.update_norm > 0 for r in view.params)  # against copies, not the live arrays
    assert view.page.split == "test" and view.page.start == 0 and view.confusion.total == 40
    (mv,) = of(ModelView, got)[-1:]
    assert mv.params == () and mv.grid == () and mv.sample_predictions == ()
    # the gradient strip: the conv layer too, each norm of its parameters' grads together
    assert mv.health.step == 2 and mv.health.layer_names == ("C0", "L0", "L1")
    grads = [np.asarray(p.grad) for p in loop.trainer.params]
    for k, norm in enumerate(mv.health.layer_norms):
        pair = grads[2 * k : 2 * k + 2]
        assert norm == pytest.approx(np.sqrt(sum((g * g).sum() for g in pair)))
    (g,) = of(GraphView, got)[-1:]
    assert isinstance(g.snapshot, TensorGraphSnapshot) and g.step == 2
    assert "conv2d" in g.snapshot.op_counts()
    loop.handle(3, AskArray("L0.W"))
    loop.handle(4, AskArray("nope"))
    loop.handle(5, AskFilters(3))
    loop.handle(6, AskPage(24))
    got = drain(reports)
    (arrays,) = of(ArrayReport, got)
    np.testing.assert_array_equal(arrays.arrays.values, loop.trainer.params[2].data)
    assert any("no parameter array nope" in n.text for n in of(Notice, got))
    (filters,) = of(FiltersReport, got)
    assert filters.filters.layers[0].weights.shape == (3, 1, 3, 3) and filters.maps.index == 3
    assert of(TensorModel, got)[-1].view.page.start == 24
    loop.handle(7, CheckGradient(2, None, "L0.W"))
    loop.handle(8, AskNeuron(0, 0, 10, 5))
    loop.handle(9, AddPoint((0.0, 0.0), 0))
    got = drain(reports)
    (check,) = of(GradCheckView, got)  # a parameter, checked on one element
    assert check.error is None and check.element and check.note.startswith("element [")
    assert check.analytic == pytest.approx(check.numeric, rel=1e-4, abs=1e-7)
    (neuron,) = of(NeuronView, got)
    assert neuron.name == "L0.N0" and neuron.units == 8 and len(neuron.weights) == 48 + 1
    texts = [n.text for n in of(Notice, got)]
    assert any("scalar engine only" in t for t in texts)
    loop.handle(10, ExportDot(str(tmp_path / "g.dot")))
    assert "digraph micrograd_tensor" in (tmp_path / "g.dot").read_text()


def test_moons_on_tensors_draws_the_boundary_and_compares_engines():
    reports: queue.Queue = queue.Queue()
    loop = TrainingLoop(MOONS, True, queue.Queue(), reports, None)
    loop.handle(1, Step())
    got = drain(reports)
    (mv,) = of(ModelView, got)[-1:]
    cols, rows = loop.grid.size
    assert len(mv.grid) == rows and len(mv.grid[0]) == cols
    assert set(v for row in mv.grid for v in row) <= {0.0, 1.0}
    assert of(TensorModel, got)[-1].view.page is None
    loop.handle(2, CompareEngines())
    (e,) = of(EnginesReport, drain(reports))
    assert e.comparison.same_loss and e.comparison.scalar.nodes > 10 * e.comparison.tensor.nodes


@pytest.mark.parametrize("command", [AskArray("L0.W"), AskFilters(0)])
def test_scalar_runs_answer_tensor_commands_with_a_notice(command):
    reports: queue.Queue = queue.Queue()
    loop = TrainingLoop(TrainConfig(samples=20, hidden=(3,)), True, queue.Queue(), reports, None)
    drain(reports)
    loop.handle(1, command)
    (n,) = drain(reports)
    assert isinstance(n, Notice) and n.severity == "warning"


def test_one_blas_thread_unless_the_user_chose(monkeypatch):
    from tui.training import BLAS_THREADS, one_blas_thread

    for name in BLAS_THREADS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    one_blas_thread()
    import os

    assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and os.environ["MKL_NUM_THREADS"] == "1"
    assert os.environ["OMP_NUM_THREADS"] == "4"


def test_the_app_and_its_training_process_load_numpy_only_for_a_tensor_run():
    """numpy must load after one_blas_thread (else OpenBLAS has started its threads), and a
    scalar run should not pay for it at all."""
    import subprocess
    import sys

    code = (
        "import sys, tui.app, tui.cli, tui.session, tui.training, tui.training.loop; "
        "print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_mailbox_keeps_the_latest_tensor_report_of_each_kind():
    from tui.mailbox import Mailbox

    box = Mailbox()
    for step in (1, 2, 3):
        box.put(TensorModel(step))
        box.put(ArrayReport(step))
    box.put(Notice("hello"))
    waiting = box.take()
    assert [type(r).__name__ for r in waiting] == ["TensorModel", "ArrayReport", "Notice"]
    assert waiting[0].view == 3 and waiting[1].arrays == 3


def test_a_node_of_the_shown_graph_as_arrays():
    reports: queue.Queue = queue.Queue()
    loop = TrainingLoop(CONV, True, queue.Queue(), reports, None)
    loop.handle(1, Step())
    (g,) = of(GraphView, drain(reports))[-1:]
    conv = next(n for n in g.snapshot.nodes if n.op == "conv2d")
    loop.handle(2, AskNodeArrays(1, conv.index))
    loop.handle(3, AskNodeArrays(7, conv.index))  # not the shown step
    got = drain(reports)
    (a,) = of(ArrayReport, got)
    assert a.arrays.name == f"node {conv.index}: conv2d C0" and a.arrays.shape == conv.shape
    values = np.asarray(a.arrays.values)
    assert values.shape == (conv.shape[0], int(np.prod(conv.shape[1:])))
    assert np.sqrt((values**2).sum()) == pytest.approx(conv.data_summary[3])
    assert any("step 7 is gone" in n.text for n in of(Notice, got))


def test_a_headless_tensor_run_trains_on_one_blas_thread(tmp_path):
    """As the app's training process: with a BLAS thread a core the conv model trained 4 to 10
    times slower on 2 shared cores (benchmarks/README.md); a number the user set is kept."""
    import os
    import subprocess
    import sys

    from tui.training import BLAS_THREADS

    code = (
        "import os, sys, tui.cli; assert 'numpy' not in sys.modules; "
        "status = tui.cli.main(['--headless', '--engine', 'tensor', '--dataset', 'digits', "
        "'--samples', '60', '--conv', '2', '--hidden', '4', '--steps', '2']); "
        "print(status, os.environ.get('OPENBLAS_NUM_THREADS'), os.environ.get('OMP_NUM_THREADS'))"
    )
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREADS}
    env["OMP_NUM_THREADS"] = "3"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=tmp_path, check=True)  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "0 1 3"
