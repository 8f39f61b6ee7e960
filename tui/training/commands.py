"""What the training loop does for each command: one function per command class, in `HANDLERS`.

Each takes the loop and the command; a test checks that every `tui.protocol.Command` has one.
The `Trainer` owns the learning rate: `ScaleLr` and `ResetLr` change it here, and the app shows
what the next `Progress` and `LrChanged` say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micrograd import checkpoint, fileio
from micrograd.data import DATASETS
from micrograd.graph import DOT_MAX_NODES, to_dot
from micrograd.train import (
    TrainConfig,
    Trainer,
    chosen_settings,
    config_for_dataset,
    scaled_lr,
)
from tui.formatting import taken_note
from tui.protocol import (
    AddPoint,
    AskArray,
    AskFilters,
    AskNeuron,
    AskNodeArrays,
    AskPage,
    AskTensorWalk,
    CheckGradient,
    Command,
    CompareEngines,
    Configure,
    ExportDot,
    ExportHistory,
    GraphView,
    LrChanged,
    NextDataset,
    Notice,
    Pause,
    RemovePoint,
    Reset,
    ResetLr,
    Resume,
    Save,
    ScaleLr,
    SendGraph,
    SetGrid,
    SetSpeed,
    SplitDots,
    Step,
    StepPhase,
    Stop,
)
from tui.training.edits import data_edited, edit_data, history_csv
from tui.training.shown_graph import ShownGraph, sample_tags
from tui.training.views import neuron_report

if TYPE_CHECKING:
    from tui.training.loop import TrainingLoop


# -- the learning rate -----------------------------------------------------------------------
def _set_lr(run: TrainingLoop, lr: float) -> None:
    """The trainer's base learning rate, from the next step; the app hears the rate it got."""
    try:
        run.trainer.set_lr(lr)
    except ValueError as exc:
        run.send(Notice(f"Learning rate unchanged: {exc}", "warning"))
    else:
        run.send(LrChanged(run.step_count + 1, run.trainer.lr))
    run.flush_progress(force=True)


def scale_lr(run: TrainingLoop, c: ScaleLr) -> None:
    _set_lr(run, scaled_lr(run.trainer.base_lr, c.factor))  # ] then [: the same rate again


def reset_lr(run: TrainingLoop, c: ResetLr) -> None:
    initial = run.config.lr
    _set_lr(run, initial)
    run.send(Notice(f"Learning rate back to the run's initial {initial:.4g}"))


# -- running ----------------------------------------------------------------------------------
def pause(run: TrainingLoop, c: Pause) -> None:
    if run.state == "running":
        run.state = "paused"
        run.publish_now()


def resume(run: TrainingLoop, c: Resume) -> None:
    run.state = "running"
    run.flush_progress(force=True)


def step(run: TrainingLoop, c: Step) -> None:
    if run.state != "running":
        run.state = "paused"
        run.do_step()
        run.publish_now()


def step_phase(run: TrainingLoop, c: StepPhase) -> None:
    """One phase of a step, paused after it; each pane gets the state it left."""
    if run.state == "running":
        run.state = "paused"
    trainer = run.trainer
    if not trainer.phase:  # a new step: the parameters as its forward pass sees them
        run.forward_params = [p.data for _, p in run.params]
    try:
        name, report = trainer.step_phase(c.zero_grad)
    except ValueError as exc:
        run.send(Notice(f"No phase stepping: {exc}", "warning"))
        run.flush_progress(force=True)
        return
    run.phase = name
    if report is not None:  # update: the step is done, shown as any step is
        run.after_step(report)
        run.publish_now()
        return
    run.model_dirty = True
    if name != "forward" and trainer.last_root is not None:  # the loss's graph, as it is now
        tags = sample_tags(trainer)
        run.shown = ShownGraph(run.step_count + 1, trainer.last_root, run.params,
                               run.forward_params, run.split_dots, tags)  # fmt: skip
    run.flush_progress(force=True)
    run.send_model(force=True)
    if run.shown is not None:
        run.send(GraphView(run.shown.step, run.shown.snapshot))


def set_speed(run: TrainingLoop, c: SetSpeed) -> None:
    """Pace the steps (0: full speed); the next step waits for its turn from now."""
    run.speed = max(0.0, c.steps_per_second)
    run.next_step_at = 0.0
    run.step_times.clear()  # the rate shown is the new pace's, not the old one's
    run.flush_progress(force=True)


def stop(run: TrainingLoop, c: Stop) -> None:
    run.stopping = True


# -- new runs ---------------------------------------------------------------------------------
def reset(run: TrainingLoop, c: Reset) -> None:
    lr = run.trainer.base_lr
    seed = run.config.seed + 1 + run.step_count  # new weights, same config
    run.trainer.reset(seed=seed)
    run.new_trainer(run.trainer)
    run.send_model(force=True)
    run.send(Notice(f"Reset: new weights (seed {seed}), lr {lr:.4g}"))


def next_dataset(run: TrainingLoop, c: NextDataset) -> None:
    names = list(DATASETS)
    current = run.config.dataset
    nxt = names[(names.index(current) + 1) % len(names)] if current in names else names[0]
    try:
        # the next dataset's own defaults (tiny: the lecture's 3-4-4-1 tanh, sse, lr 0.05)
        # for what the user did not choose; keys that changed the lr do not carry over
        config = replace(run.config, csv=None)
        config = config_for_dataset(config, nxt, given=chosen_settings(config))
        try:
            trainer = Trainer(config)
        except ValueError:  # e.g. a two-class loss for three classes: let it choose
            trainer = Trainer(replace(config, loss="auto"))
    except ValueError as exc:
        run.send(Notice(f"Cannot train on {nxt}: {exc}", "warning"))
        return
    run.new_trainer(trainer)
    run.send_model(force=True)
    s = run.config
    run.send(
        Notice(f"Dataset: {nxt}, MLP {run.trainer.architecture} {s.activation}, "
               f"{run.trainer.loss_name} loss, lr {run.trainer.base_lr:g}")
    )  # fmt: skip


def configure(run: TrainingLoop, c: Configure) -> None:
    """A new run with these settings; a setting that does not fit leaves the run as it was."""
    try:
        trainer = Trainer(TrainConfig.from_dict(c.config))
    except ValueError as exc:  # ConfigError, CSVError, a bad value: one sentence
        run.send(Notice(f"{c.why} not applied: {exc}", "warning"))
        return
    run.new_trainer(trainer)
    run.send_model(force=True)
    s = run.config
    run.send(
        Notice(
            f"{c.why}: the run was reset ({s.dataset if s.csv is None else s.csv}, "
            f"{s.samples} samples, noise {s.noise:g}, seed {s.seed}; hidden "
            f"{','.join(map(str, s.hidden))} {s.activation}, {s.optimizer} lr {s.lr:g})"
        )
    )


# -- the data -------------------------------------------------------------------------------
def edit_point(run: TrainingLoop, c: AddPoint | RemovePoint) -> None:
    text, severity = edit_data(run.trainer, c)
    if severity == "information":
        run.send(data_edited(run.trainer))
        run.model_dirty = True
        run.send_model(force=True)
    run.send(Notice(text, severity))


def set_grid(run: TrainingLoop, c: SetGrid) -> None:
    if run.grid.resize(c.cols, c.rows):
        run.send_model(force=True)


# -- looking inside -----------------------------------------------------------------------------
def send_graph(run: TrainingLoop, c: SendGraph) -> None:
    run.send_graph()


def split_dots(run: TrainingLoop, c: SplitDots) -> None:
    """The lecture's view of a neuron (or the fused dot again): the same step's graph anew."""
    run.split_dots = c.on
    shown = run.shown
    run.shown = None
    if shown is not None and shown.step == run.step_count:
        run.send_graph()


def check_gradient(run: TrainingLoop, c: CheckGradient) -> None:
    """Check a node (or parameter) of the shown graph, which is kept even if training has moved
    on; `c.step` says which graph the app shows."""
    shown = run.shown
    if shown is None or shown.step != c.step:
        run.send(Notice(f"The graph of step {c.step} is gone (reset?): take a step", "warning"))
        return
    if c.element is not None:  # a tensor node's element
        run.send(shown.check(index=c.index, name=c.name, element=c.element))
    else:
        run.send(shown.check(index=c.index, name=c.name))


def ask_neuron(run: TrainingLoop, c: AskNeuron) -> None:
    if run.trainer.tensor_run is not None:  # a unit of a Linear layer
        from tui.training import tensor

        tensor.ask_neuron(run, c)
        return
    run.send(neuron_report(run.trainer, c))


# -- files ------------------------------------------------------------------------------------
def save(run: TrainingLoop, c: Save) -> None:
    """Save under `c.path`, a name the app chose: never over a file already there."""
    path = Path(c.path)
    try:
        written = checkpoint.save(run.trainer, path, new_name=True)
    except checkpoint.CheckpointError as exc:  # its message names the file and the reason
        run.send(Notice(f"Could not save: {exc}", "error"))
        return
    run.send(Notice(f"Saved step {run.step_count} to {written}{taken_note(path, written)}"))


def _write(run: TrainingLoop, path: Path, text: str, what: str) -> None:
    try:
        written = fileio.write_new(path, text)
    except fileio.WriteError as exc:
        run.send(Notice(f"Could not export: {exc}", "error"))
        return
    run.send(Notice(f"Wrote {what} to {written}{taken_note(path, written)}"))


def export_history(run: TrainingLoop, c: ExportHistory) -> None:
    n = len(run.trainer.history)
    what = f"the loss history ({n} step{'s' * (n != 1)})"
    _write(run, Path(c.path), history_csv(run.trainer), what)


def export_dot(run: TrainingLoop, c: ExportDot) -> None:
    shown = run.shown or run.shown_graph()  # the graph the app shows, else the last step's
    if shown is None:
        run.send(Notice("No graph yet: take a step first (n)", "warning"))
        return
    what = f"the graph of step {shown.step}"
    if run.trainer.tensor_run is not None:  # one node per array: a few dozen nodes
        from micrograd.tensor import to_dot as tensor_dot

        _write(run, Path(c.path), tensor_dot(shown.snapshot), what)
        return
    total = len(shown.snapshot)
    if total > DOT_MAX_NODES:  # to_dot stops there: say so, not only in a comment in the file
        what += f" (its {DOT_MAX_NODES:,} nodes nearest the loss, of {total:,})"
    _write(run, Path(c.path), to_dot(shown.snapshot), what)


# -- a tensor run's own (tui.training.tensor, which imports numpy: only when asked) ----------------
def _tensor(name: str) -> Callable[[TrainingLoop, Any], None]:
    def handler(run: TrainingLoop, c: Any) -> None:
        from tui.training import tensor

        getattr(tensor, name)(run, c)

    handler.__name__ = name
    return handler


HANDLERS: dict[type[Command], Callable[[TrainingLoop, Any], None]] = {
    ScaleLr: scale_lr,
    ResetLr: reset_lr,
    Pause: pause,
    Resume: resume,
    Step: step,
    StepPhase: step_phase,
    SetSpeed: set_speed,
    Stop: stop,
    Reset: reset,
    NextDataset: next_dataset,
    Configure: configure,
    AddPoint: edit_point,
    RemovePoint: edit_point,
    SetGrid: set_grid,
    SendGraph: send_graph,
    SplitDots: split_dots,
    CheckGradient: check_gradient,
    AskNeuron: ask_neuron,
    Save: save,
    ExportDot: export_dot,
    ExportHistory: export_history,
    AskArray: _tensor("ask_array"),
    AskFilters: _tensor("ask_filters"),
    AskNodeArrays: _tensor("ask_node_arrays"),
    AskPage: _tensor("ask_page"),
    AskTensorWalk: _tensor("ask_tensor_walk"),
    CompareEngines: _tensor("compare_engines"),
}
