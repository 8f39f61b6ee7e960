"""What the app and the training process say to each other: plain, picklable, frozen dataclasses.

Commands go from the app to the training process (`tui.training`), one at a time, each with a
serial number (`Session.send`); reports go back. A command whose class sets `changes_run` would
change the run, and a replay (a saved run shown read-only) refuses it. Both sides dispatch on the
class (a type -> handler table each), and a test checks that every class here has its handler.

This module imports no UI code: the training process imports it, and so can a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from micrograd import health
from micrograd.train import StepReport


# -- commands (app -> training process) --------------------------------------------------------
@dataclass(frozen=True)
class Command:
    """Something the app asks of the training process, applied between two steps."""

    changes_run: ClassVar[bool] = False  # True: a replay refuses it


@dataclass(frozen=True)
class ScaleLr(Command):
    """The learning rate times `factor`, from the next step."""

    changes_run: ClassVar[bool] = True
    factor: float


@dataclass(frozen=True)
class ResetLr(Command):
    """The learning rate back to the run's initial one (its settings' lr), from the next step."""

    changes_run: ClassVar[bool] = True


@dataclass(frozen=True)
class Pause(Command):
    """Stop stepping until `Resume` or `Step`."""


@dataclass(frozen=True)
class Resume(Command):
    """Train on."""

    changes_run: ClassVar[bool] = True


@dataclass(frozen=True)
class Step(Command):
    """One step, then paused (ignored while running)."""

    changes_run: ClassVar[bool] = True


@dataclass(frozen=True)
class StepPhase(Command):
    """The next phase of a step (forward, loss, zero_grad, backward, update), then paused;
    `zero_grad=False` skips zeroing the gradients (the lecture's accumulation bug)."""

    changes_run: ClassVar[bool] = True
    zero_grad: bool = True


@dataclass(frozen=True)
class SetSpeed(Command):
    """Step at most `steps_per_second` while running (0: full speed), from now on."""

    steps_per_second: float


@dataclass(frozen=True)
class Reset(Command):
    """New weights, same settings and learning rate."""

    changes_run: ClassVar[bool] = True


@dataclass(frozen=True)
class NextDataset(Command):
    """A new run on the next generated dataset, same learning rate."""

    changes_run: ClassVar[bool] = True


@dataclass(frozen=True)
class SendGraph(Command):
    """Send the last step's graph (a `GraphView`)."""


@dataclass(frozen=True)
class SplitDots(Command):
    """Show each neuron's fused dot as the lecture's `*` and `+` nodes (`on`), or fused."""

    on: bool


@dataclass(frozen=True)
class SetGrid(Command):
    """The decision-boundary grid's size in cells (the dataset pane's size)."""

    cols: int
    rows: int


@dataclass(frozen=True)
class Save(Command):
    """Save a checkpoint under `path`, or a new name beside it if that is taken."""

    path: str


@dataclass(frozen=True)
class ExportDot(Command):
    """Write the shown graph as Graphviz DOT under `path` (a new name if taken)."""

    path: str


@dataclass(frozen=True)
class ExportHistory(Command):
    """Write the loss history as CSV under `path` (a new name if taken)."""

    path: str


@dataclass(frozen=True)
class CheckGradient(Command):
    """Check node `index`, or the parameter `name`, of the graph of step `step`."""

    step: int
    index: int | None = None
    name: str | None = None
    element: tuple[int, ...] | None = None  # of a tensor node (None: the largest |grad|)


@dataclass(frozen=True)
class AskNeuron(Command):
    """A `NeuronView` of neuron `neuron` of layer `layer`, on a `cols` x `rows` grid."""

    layer: int
    neuron: int
    cols: int
    rows: int


@dataclass(frozen=True)
class AddPoint(Command):
    """A training sample at `x` of class `label`, from the next step."""

    changes_run: ClassVar[bool] = True
    x: tuple[float, ...]
    label: int


@dataclass(frozen=True)
class RemovePoint(Command):
    """Remove the sample nearest to `x`, from the next step."""

    changes_run: ClassVar[bool] = True
    x: tuple[float, ...]


@dataclass(frozen=True)
class Configure(Command):
    """A new run with these settings (`TrainConfig.to_dict`); `why` begins its notice."""

    changes_run: ClassVar[bool] = True
    config: dict
    why: str = "New settings"


@dataclass(frozen=True)
class AskArray(Command):
    """The parameter array `name` of a tensor run, values and grads (an `ArrayReport`)."""

    name: str


@dataclass(frozen=True)
class AskFilters(Command):
    """A conv run's filters and the feature maps of image `index` of the shown split."""

    index: int


@dataclass(frozen=True)
class AskPage(Command):
    """The page of images from `start` in the tensor model reports that follow."""

    start: int


@dataclass(frozen=True)
class AskNodeArrays(Command):
    """Node `index` of the tensor graph of step `step`: its data and grad (an `ArrayReport`)."""

    step: int
    index: int


@dataclass(frozen=True)
class AskTensorWalk(Command):
    """The backward pass of the tensor graph of step `step`, node by node (a
    `TensorWalkReport`)."""

    step: int


@dataclass(frozen=True)
class CompareEngines(Command):
    """The run's first steps on both engines, measured (an `EnginesReport`)."""


@dataclass(frozen=True)
class Stop(Command):
    """Leave the loop; the process then exits."""


# -- reports (training process -> app) ---------------------------------------------------------
@dataclass(frozen=True)
class Report:
    """Something the training process tells the app."""


@dataclass(frozen=True)
class DatasetView(Report):
    """What is being learned: the samples and their classes (sent on start, reset, new data)."""

    name: str
    X_train: list[list[float]]
    y_train: list[int]
    X_test: list[list[float]]
    y_test: list[int]
    n_classes: int
    input_dim: int
    lr: float
    param_names: tuple[str, ...]
    architecture: str
    classes: tuple[str, ...] = ()  # a CSV's label for each class number, if any
    config: dict | None = None  # the run's settings (TrainConfig.to_dict), for the settings form


@dataclass(frozen=True)
class Progress(Report):
    """The steps done since the last `Progress` and the run state after them."""

    reports: tuple[StepReport, ...]
    state: str  # "running", "paused" or "diverged"
    steps_per_second: float
    lr: float  # the learning rate the next step will use
    serial: int  # the serial of the last command applied
    phase: str = ""  # the phase of a step just done by `StepPhase` ("" after a whole step)


@dataclass(frozen=True)
class ModelView(Report):
    """Every parameter (name, value, gradient, last update) and the decision boundary.

    `grid` holds `rows` lists of `cols` predictions (a class, or a probability of class 1) over
    `bounds` = (x_min, x_max, y_min, y_max); for more than two inputs it is empty and
    `sample_predictions` holds the prediction for each training sample.
    """

    step: int
    params: tuple[tuple[str, float, float, float], ...]
    grid: tuple[tuple[float, ...], ...]
    bounds: tuple[float, float, float, float]
    sample_predictions: tuple[float, ...]
    sample_outputs: tuple[float, ...] = ()  # the network's raw output (the largest, if several)
    health: health.HealthReport | None = None  # per-layer gradient norms, dead neurons, ...


@dataclass(frozen=True)
class GraphView(Report):
    """The graph of step `step` as a flat snapshot (`micrograd.graph.GraphSnapshot`)."""

    step: int
    snapshot: Any


@dataclass(frozen=True)
class LrChanged(Report):
    """The learning rate changed on request; `lr` applies from step `step` on."""

    step: int
    lr: float


@dataclass(frozen=True)
class Notice(Report):
    """One sentence for the user; severity is "information", "warning" or "error"."""

    text: str
    severity: str = "information"


@dataclass(frozen=True)
class Stopped(Report):
    """The training process is about to exit (after `Stop`, or after a fatal error)."""

    error: str | None = None


@dataclass(frozen=True)
class DataEdited(Report):
    """The training data after an edit (the model and the history are kept)."""

    X_train: list[list[float]]
    y_train: list[int]
    X_test: list[list[float]]
    y_test: list[int]


@dataclass(frozen=True)
class GradCheckView(Report):
    """A finite-difference check of node `index` (`name`) of the graph of step `step`:
    the analytic gradient (backpropagation) against the central difference (numeric).

    relative_error = |analytic - numeric| / max(|analytic|, |numeric|); `error` says why the
    node could not be checked (then the numbers are NaN). For a tensor node one element is
    checked: `element` is its index, and `note` says which and why (and whether it is a kink)."""

    step: int
    index: int
    name: str
    analytic: float
    numeric: float
    relative_error: float
    ok: bool
    error: str | None = None
    element: tuple[int, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class NeuronView(Report):
    """Neuron `neuron` of layer `layer` (`name`, e.g. "L0.N3") after step `step`.

    Two inputs: `grid` holds its output on `rows` lists of `cols` points over `bounds` =
    (x_min, x_max, y_min, y_max), top row first, and `points` the training samples (x, y, class).
    More inputs: `samples` holds (inputs, class, output) per training sample, `grid` is empty.
    `weights` are (name, value, gradient) of its weights and bias.
    """

    step: int
    name: str
    layer: int
    neuron: int
    layers: int
    activation: str
    weights: tuple[tuple[str, float, float], ...]
    grid: tuple[tuple[float, ...], ...] = ()
    bounds: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0)
    points: tuple[tuple[float, float, int], ...] = ()
    samples: tuple[tuple[tuple[float, ...], int, float], ...] = ()
    units: int = 0  # neurons in its layer (0: not said)
    note: str = ""  # more to say (a tensor unit: one sample of the shown step worked through)


@dataclass(frozen=True)
class TensorModel(Report):
    """A tensor run's model now (`tui.tensor_views.TensorModelView`: parameter arrays,
    accuracies, the confusion matrix, a page of images), about twice a second."""

    view: Any


@dataclass(frozen=True)
class ArrayReport(Report):
    """One parameter array (`tui.tensor_views.ParamArrays`), as `AskArray` asked."""

    arrays: Any


@dataclass(frozen=True)
class FiltersReport(Report):
    """A conv run's filters (`ConvFilters`) and one image's feature maps (`FeatureMaps`)."""

    filters: Any
    maps: Any


@dataclass(frozen=True)
class EnginesReport(Report):
    """The same first step on both engines (`tui.tensor_views.EngineComparison`)."""

    comparison: Any


@dataclass(frozen=True)
class TensorWalkReport(Report):
    """The backward pass of the tensor graph of step `step`: one
    `micrograd.tensor_grad.TensorStep` per node with a gradient, the loss first."""

    step: int
    steps: tuple[Any, ...]


def command_classes() -> tuple[type[Command], ...]:
    """Every command this module defines."""
    return tuple(Command.__subclasses__())


def report_classes() -> tuple[type[Report], ...]:
    """Every report this module defines."""
    return tuple(Report.__subclasses__())
