"""The Trainer: model, optimizer, data and configuration, one step at a time.

`Trainer(config).step()` runs forward, loss, backward and update, and returns a small immutable
`StepReport`. It keeps the history of reports and the last step's graph root (for the app's graph
view). No threads, no printing, no UI: the app and the headless CLI both drive it. The same seed
and configuration give a bit-identical run.
"""

from __future__ import annotations

import gc
import math
import random
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from micrograd import data as datasets
from micrograd.engine import Value
from micrograd.losses import (
    BINARY_LOSSES,
    LOSSES,
    accuracy,
    float_loss,
    l2,
    predict_class,
)
from micrograd.nn import ACTIVATIONS, MLP
from micrograd.optim import OPTIMIZERS, SCHEDULES, make_optimizer, schedule_factor
from micrograd.settings import ConfigError, Setting, check_number

LOSS_CHOICES = ("auto", *LOSSES)
HISTORY_LIMIT = 20_000  # reports kept in memory (and in checkpoints); see History
ENGINES = ("scalar", "tensor")  # one Value per number, or one Tensor per array (numpy/CuPy)
DEVICES = ("cpu", "cuda", "auto")  # the tensor engine's; see micrograd.device
DTYPES = ("float64", "float32")  # the tensor engine's
# A finite loss above DIVERGE_FACTOR times the run's reference (its lowest loss so far, but at
# least a tenth of its first loss and LOSS_FLOOR) is `diverging`: the lecture's example at lr 0.5
# went 16.8 -> 9e7 -> 1.6e19 before reaching inf; this says so at the second step.
DIVERGE_FACTOR = 100.0
LOSS_FLOOR = 0.01
MAX_CONV_BLOCKS = 4
MAX_CHANNELS = 256

# The training settings, one entry per TrainConfig field: TrainConfig's validation, the command
# line (tui/cli.py), the settings form (tui/screens/settings.py) and checkpoint loading all read
# this. The upper limits keep a run possible at all (a scalar engine in pure Python past them
# takes minutes a step or exhausts memory); `form_high`/`form_layers` and MAX_STEP_WORK keep the
# form's runs at an interactive pace. A new setting: a field of TrainConfig and an entry here.
SETTINGS: tuple[Setting, ...] = (
    Setting("dataset", "choice", "a generated dataset", choices=tuple(datasets.DATASETS),
            group="data", form="dataset"),
    Setting("samples", "whole", "how many samples to generate", low=1, high=100_000,
            group="data", form="samples", form_high=5000),
    Setting("noise", "number", "the generated data's noise", low=0, group="data", form="noise"),
    Setting("test_fraction", "number", "share of samples held out for testing",
            label="the test fraction", low=0, high=1, high_open=True, group="data"),
    Setting("hidden", "sizes", "hidden layer sizes, e.g. 16,16", label="the hidden sizes",
            low=1, high=1024, layers=16, form="hidden sizes", form_high=64, form_layers=6),
    Setting("activation", "choice", "the hidden layers' activation", choices=ACTIVATIONS,
            form="activation"),
    Setting("loss", "choice", "auto: softmax for 3+ classes, else hinge (mse for tiny)",
            choices=LOSS_CHOICES, form="loss"),
    Setting("optimizer", "choice", "how the weights are updated", choices=OPTIMIZERS,
            form="optimizer"),
    Setting("lr", "number", "the learning rate", label="the learning rate", low=0,
            low_open=True, form="learning rate"),
    Setting("weight_decay", "number", "weight decay (the optimizer's)", low=0),
    Setting("alpha", "number", "L2 regularisation added to the loss", low=0, form="L2 alpha"),
    Setting("batch_size", "whole", "samples a step; 0 = the full batch",
            label="the batch size", low=0, form="batch size"),
    Setting("steps", "whole", "steps to train", low=1, group="run"),
    Setting("schedule", "choice", "learning-rate schedule", choices=SCHEDULES),
    Setting("seed", "whole", "the seed of the data, the weights and the batches",
            label="the seed", group="data", form="seed"),
    Setting("csv", "path", "your own data: numeric feature columns, the label last",
            group="data"),
    Setting("eval_every", "whole", "test evaluation period in steps", low=1),
    Setting("engine", "choice", "scalar: one Value per number; tensor: one node per array",
            choices=ENGINES, group="tensor engine", form="engine"),
    Setting("conv", "sizes", "tensor: 3x3 conv + ReLU + 2x2 max-pool blocks before the hidden "
            "layers, their channels", label="the conv channels", low=1,
            high=MAX_CHANNELS, layers=MAX_CONV_BLOCKS, empty=True, group="tensor engine",
            parts=("conv blocks", "channels"), example="8,16"),
    Setting("image_shape", "sizes", "each sample's image shape C,H,W (or H,W) for conv "
            "(digits know theirs)", label="the image shape", low=1, layers=3, empty=True,
            group="tensor engine", parts=("sizes", ""), example="1,28,28"),
    Setting("device", "choice", "tensor: cpu (numpy), cuda (CuPy: the gpu extra), auto",
            choices=DEVICES, group="tensor engine"),
    Setting("dtype", "choice", "tensor: the arrays' float type", choices=DTYPES,
            group="tensor engine"),
)  # fmt: skip
SETTING = {s.name: s for s in SETTINGS}

# Per dataset, the settings that train it well where TrainConfig's defaults (the moons demo's) do
# not; tests/test_train.py checks that each dataset's default run reaches a good accuracy. The
# lecture's tiny example needs its own network, loss and rate: with 16,16 ReLU and lr 0.5 its
# loss went 16.8 -> 9e7 -> 1.6e19 (issue 12).
DATASET_DEFAULTS: dict[str, dict[str, object]] = {
    "tiny": {"hidden": (4, 4), "activation": "tanh", "loss": "sse", "lr": 0.05, "alpha": 0.0},
}
# Per dataset and engine, over DATASET_DEFAULTS. The tensor engine trains all 1,797 digits with
# a test split (so `--batch-size 128` is taken); the scalar engine keeps 100 samples and no split,
# as a full-batch step of 1,437 digits through the 64-16-16-10 MLP is over MAX_STEP_WORK.
ENGINE_DEFAULTS: dict[tuple[str, str], dict[str, object]] = {
    ("digits", "tensor"): {"samples": 1797, "test_fraction": 0.2},
}
_DEFAULTS = (*DATASET_DEFAULTS.values(), *ENGINE_DEFAULTS.values())


def _own_defaults(dataset: str, engine: str) -> dict[str, object]:
    return {**DATASET_DEFAULTS.get(dataset, {}), **ENGINE_DEFAULTS.get((dataset, engine), {})}


def config_for_dataset(
    config: TrainConfig, dataset: str | None = None, given: Iterable[str] = ()
) -> TrainConfig:
    """`config` on `dataset` (default: its own), with that dataset's defaults on the config's
    engine for every setting that some dataset has its own default for and that the user did not
    set (`given` names the settings they set). A CSV run is left as it is."""
    dataset = config.dataset if dataset is None else dataset
    if config.csv is not None:
        return replace(config, dataset=dataset)
    given = set(given)
    general = TrainConfig()
    own = _own_defaults(dataset, config.engine)
    changes: dict[str, object] = {"dataset": dataset}
    for name in {name for values in _DEFAULTS for name in values}:
        if name not in given:
            changes[name] = own.get(name, getattr(general, name))
    return replace(config, **changes)


def scaled_lr(lr: float, factor: float) -> float:
    """lr * factor rounded to 12 significant digits: a factor and its inverse give lr back."""
    return float(f"{lr * factor:.12g}")


def chosen_settings(config: TrainConfig) -> set[str]:
    """The settings some dataset has its own default for on which `config` differs from its
    dataset's defaults: what the user chose (a choice equal to the default looks the same)."""
    own = config_for_dataset(config)
    return {
        name
        for values in _DEFAULTS
        for name in values
        if getattr(config, name) != getattr(own, name)
    }


# The settings form's cap on a step's work (`step_work`: samples a step times weights): the moons
# demo is 100 x 304; the cap keeps a step near a second (figures in benchmarks/README.md).
MAX_STEP_WORK = 2_000_000
# The tensor engine does a step of the same work this many times faster or more (the moons step:
# 0.25 ms against 22 ms; `t` in the app measures it for any run), so its cap is this much higher.
TENSOR_PACE = 50


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run. Defaults train Karpathy's moons demo. Each field is
    described and checked by its entry in SETTINGS."""

    dataset: str = "moons"
    samples: int = 100
    noise: float = 0.1
    test_fraction: float = 0.0
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "relu"
    loss: str = "auto"
    optimizer: str = "sgd"
    lr: float = 0.5
    weight_decay: float = 0.0
    alpha: float = 1e-4
    batch_size: int = 0
    steps: int = 300
    schedule: str = "constant"
    seed: int = 1337
    csv: str | None = None
    eval_every: int = 10
    engine: str = "scalar"
    conv: tuple[int, ...] = ()  # tensor engine: 3x3 conv + ReLU + 2x2 max-pool blocks
    image_shape: tuple[int, ...] | None = None  # (C, H, W) of each sample, for conv
    device: str = "cpu"
    dtype: str = "float64"

    def __post_init__(self) -> None:
        if isinstance(self.hidden, list):
            object.__setattr__(self, "hidden", tuple(self.hidden))
        for name in ("conv", "image_shape"):  # lists from JSON or the form
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        if isinstance(self.image_shape, tuple) and len(self.image_shape) == 2:
            object.__setattr__(self, "image_shape", (1, *self.image_shape))  # H, W: 1 channel
        problems = self.problems_by_setting()
        if problems:
            name, message = next(iter(problems.items()))
            raise ConfigError(name, message)

    def problems_by_setting(self) -> dict[str, str]:
        """Every reason this configuration cannot run: {setting name: one sentence}."""
        out: dict[str, str] = {}
        for setting in SETTINGS:
            if setting.name == "dataset" and self.csv is not None:
                continue  # the CSV is the data
            try:
                setting.check(getattr(self, setting.name))
            except ConfigError as exc:
                out[setting.name] = str(exc)
        for name, problem in _engine_problems(self).items():
            out.setdefault(name, problem)
        return out

    def problems(self) -> list[str]:
        """Every reason this configuration cannot run, one sentence each."""
        return list(self.problems_by_setting().values())

    def to_dict(self) -> dict:
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        out["conv"] = list(self.conv)
        out["image_shape"] = None if self.image_shape is None else list(self.image_shape)
        return out

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown configuration keys: {', '.join(unknown)}")
        return cls(**values)


def _engine_problems(config: TrainConfig) -> dict[str, str]:
    """What the engine settings' own rules (in SETTINGS) cannot see: the tensor engine's
    options given to the scalar one, and an image shape of 2 or 3 sizes. {setting: sentence}."""
    out: dict[str, str] = {}
    shape = config.image_shape
    if isinstance(shape, (tuple, list)) and len(shape) not in (2, 3):
        out["image_shape"] = f"the image shape must be C,H,W or H,W, got {_shown(shape)}"
    if config.engine == "scalar":
        conv = tuple(config.conv) if isinstance(config.conv, (tuple, list)) else config.conv
        for name, value, default in (
            ("device", config.device, "cpu"),
            ("dtype", config.dtype, "float64"),
            ("conv", conv, ()),
        ):
            if value != default:
                out[name] = (
                    f"{name} {_shown(value)} needs the tensor engine (engine tensor): the "
                    "scalar engine is one Python float per number, on the CPU"
                )
    return out


@dataclass(frozen=True, slots=True)
class StepReport:
    """What one training step did. Loss and accuracy are on the step's batch, before the update."""

    step: int
    loss: float
    accuracy: float
    lr: float
    seconds: float
    test_loss: float | None = None
    test_accuracy: float | None = None
    nonfinite: bool = False
    diverging: bool = False  # finite, but far above the run's lowest loss (Trainer.divergence)

    def to_list(self) -> list:
        return [getattr(self, f.name) for f in fields(self)]

    @classmethod
    def from_list(cls, values: Sequence) -> StepReport:
        return cls(*values)


class History(Sequence[StepReport]):
    """The reports of a run, oldest first, in compact columns, with bounded memory.

    A report is stored as one entry in each of a few `array` columns (about 60 bytes a step,
    against about 300 for a list of `StepReport` objects) and rebuilt when read. At most `limit`
    are kept: when full, every other one is dropped and from then on every `stride`-th report of
    the run is kept (stride 1, 2, 4, ...), so the whole run stays evenly covered, from the first
    report, and the latest report is always the last entry (the step numbers say which steps
    are held). Reading gives `StepReport`s; it compares equal to a list of the same reports.
    """

    __hash__ = None  # type: ignore[assignment]  # mutable, compares by content

    def __init__(self, reports: Iterable[StepReport] = (), limit: int | None = None) -> None:
        limit = HISTORY_LIMIT if limit is None else limit
        if limit < 4:
            raise ValueError(f"the history limit must be >= 4, got {limit!r}")
        self.limit = limit
        self.clear()
        self.extend(reports)

    def clear(self) -> None:
        self._step = array("q")
        # loss, accuracy, lr, seconds, test loss, test accuracy
        self._floats = tuple(array("d") for _ in range(6))
        # 1: has a test loss, 2: has a test accuracy, 4: nonfinite, 8: diverging
        self._flags = bytearray()
        self.stride = 1  # every stride-th report appended is kept
        self._seen = 0  # reports appended so far
        self._floating = False  # the last entry is off the stride: the next report replaces it

    def append(self, r: StepReport) -> None:
        has_loss, has_acc = r.test_loss is not None, r.test_accuracy is not None
        values = (
            r.loss,
            r.accuracy,
            r.lr,
            r.seconds,
            r.test_loss if has_loss else 0.0,
            r.test_accuracy if has_acc else 0.0,
        )
        for v in values:  # check first: a bad report must not leave the columns uneven
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeError(f"a step report holds numbers, got {v!r}")
        if isinstance(r.step, bool) or not isinstance(r.step, int):
            raise TypeError(f"a step number is a whole number, got {r.step!r}")
        if self._floating:
            self._pop()
        self._step.append(r.step)
        for column, v in zip(self._floats, values):
            column.append(v)
        self._flags.append(
            has_loss | has_acc << 1 | bool(r.nonfinite) << 2 | bool(r.diverging) << 3
        )
        self._floating = self._seen % self.stride != 0
        self._seen += 1
        if not self._floating and len(self._step) >= self.limit:
            self._thin()

    def extend(self, reports: Iterable[StepReport]) -> None:
        for r in reports:
            self.append(r)

    def _columns(self) -> list:
        return [self._step, *self._floats, self._flags]

    def _pop(self) -> None:
        for column in self._columns():
            column.pop()

    def _thin(self) -> None:
        """Keep every other entry (the first included) and double the stride; the latest
        report, if dropped, stays as the floating last entry."""
        latest_dropped = len(self._step) % 2 == 0
        latest = [column[-1] for column in self._columns()]
        self._step, *floats, self._flags = (column[::2] for column in self._columns())
        self._floats = tuple(floats)
        self.stride *= 2
        if latest_dropped:
            for column, v in zip(self._columns(), latest):
                column.append(v)
            self._floating = True

    def _report(self, i: int) -> StepReport:
        loss, acc, lr, seconds, test_loss, test_acc = (c[i] for c in self._floats)
        flags = self._flags[i]
        return StepReport(
            self._step[i],
            loss,
            acc,
            lr,
            seconds,
            test_loss if flags & 1 else None,
            test_acc if flags & 2 else None,
            bool(flags & 4),
            bool(flags & 8),
        )

    def __len__(self) -> int:
        return len(self._step)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._report(i) for i in range(*index.indices(len(self)))]
        n = len(self)
        if not -n <= index < n:
            raise IndexError("history index out of range")
        return self._report(index % n)

    def __iter__(self) -> Iterator[StepReport]:
        for i in range(len(self)):
            yield self._report(i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (History, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"History({len(self)} reports, limit {self.limit})"


@dataclass
class Data:
    """A train/test split of labelled samples."""

    X_train: list[list[float]]
    y_train: list[int]
    X_test: list[list[float]] = field(default_factory=list)
    y_test: list[int] = field(default_factory=list)
    classes: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        return max(2, len(set(self.y_train) | set(self.y_test)), len(self.classes))

    @property
    def input_dim(self) -> int:
        return len(self.X_train[0])

    def add_point(self, x: Sequence[float], label: int) -> None:
        """Add a training sample of class `label` (one of the data's classes: a model's
        outputs are sized by them). Checked first: a bad point changes nothing."""
        point = [float(v) for v in x] if isinstance(x, (list, tuple)) else []
        if len(point) != self.input_dim or not all(math.isfinite(v) for v in point):
            raise ValueError(f"a point needs {self.input_dim} finite numbers, got {x!r}")
        n = self.n_classes
        if not _is_whole(label) or not 0 <= label < n:
            raise ValueError(f"class {label!r} is not in this data: use 0 to {n - 1}")
        self.X_train.append(point)
        self.y_train.append(label)

    def remove_nearest(self, x: Sequence[float]) -> tuple[list[float], int, bool]:
        """Remove the sample (train or test) nearest to `x` in its first two inputs; returns it
        as (point, label, was_test). The last training sample and the last sample of a class
        stay (the model's outputs are sized by the classes): ValueError says why."""
        candidates = [(p, i, False) for i, p in enumerate(self.X_train)]
        candidates += [(p, i, True) for i, p in enumerate(self.X_test)]
        px, py = float(x[0]), float(x[1]) if len(x) > 1 else 0.0
        point, i, is_test = min(
            candidates,
            key=lambda c: (c[0][0] - px) ** 2 + ((c[0][1] if len(c[0]) > 1 else 0.0) - py) ** 2,
        )
        label = (self.y_test if is_test else self.y_train)[i]
        if not is_test and len(self.X_train) == 1:
            raise ValueError("the last training sample stays")
        if (self.y_train + self.y_test).count(label) == 1:
            raise ValueError(f"the last sample of class {label} stays")
        del (self.X_test if is_test else self.X_train)[i]
        del (self.y_test if is_test else self.y_train)[i]
        return point, label, is_test


def load_data(config: TrainConfig) -> Data:
    """The configured dataset (generated or read from CSV), split into train and test."""
    if config.csv is not None:
        loaded = datasets.load_csv(config.csv)
        X, y, classes = loaded.X, loaded.y, tuple(loaded.classes)
    else:
        X, y = datasets.DATASETS[config.dataset](config.samples, config.noise, config.seed)
        classes = ()
    if config.test_fraction > 0:
        X_train, y_train, X_test, y_test = datasets.train_test_split(
            X, y, config.test_fraction, config.seed
        )
    else:
        X_train, y_train, X_test, y_test = X, y, [], []
    if not X_train:
        raise ValueError("no training samples are left after the train/test split")
    return Data(X_train, y_train, X_test, y_test, classes)


PHASES = ("forward", "loss", "zero_grad", "backward", "update")  # of a step (`step_phase`)


@dataclass
class PartialStep:
    """A step under way, phase by phase: its batch, its outputs, its loss once computed."""

    X: list[list[float]]
    y: list[int]
    outputs: list
    start: float
    loss: Value | None = None
    done: str = ""  # the last phase done


class Trainer:
    """Owns a run: the model, the optimizer, the data, the batch RNG and the history."""

    def __init__(self, config: TrainConfig | None = None, data: Data | None = None) -> None:
        self.config = config or TrainConfig()
        self.data = data or load_data(self.config)
        self.loss_name = check_fit(self.config, self.data)
        self.base_lr = self.config.lr
        self.device_note = ""  # what --device auto chose, and why
        self._build(self.config.seed)

    def _build(self, seed: int) -> None:
        n_out = self.data.n_classes if self.loss_name == "softmax" else 1
        self.tensor_run = None
        if self.config.engine == "tensor":
            self._build_tensor(seed, n_out)
            return
        self.model = MLP(
            self.data.input_dim,
            [*self.config.hidden, n_out],
            activation=self.config.activation,
            rng=random.Random(seed),
        )
        self.params = self.model.parameters()
        self.optimizer = make_optimizer(
            self.config.optimizer, self.params, self.base_lr, self.config.weight_decay
        )
        self.rng = random.Random(seed + 1)
        self.step_count = 0
        self.history = History()
        self.last_root: Value | None = None
        # the last graph's samples: (index in the training data, its output Value or Values)
        self.last_samples: list[tuple[int, Any]] = []
        self._batch_idx: list[int] | None = None
        self._partial: PartialStep | None = None  # a step done phase by phase, under way
        self._first_loss = self._lowest_loss = math.nan  # for `divergence`

    def _build_tensor(self, seed: int, n_out: int) -> None:
        """The tensor engine's model, optimizer and data arrays (micrograd.tensor_train; numpy
        is imported here, not with this module)."""
        from micrograd.device import auto_reason, get_device
        from micrograd.tensor_train import TensorRun, conv_macs, conv_shapes, macs_per_step

        c = self.config
        n_batch = c.batch_size or len(self.data.X_train)
        shape = image_shape_of(c, self.data)
        flat = self.data.input_dim
        if c.conv and shape is not None:
            flat = conv_shapes(shape, c.conv, c.hidden, n_out)[2 * len(c.conv)][0]
        macs = macs_per_step(n_batch, flat, c.hidden, n_out, conv_macs(shape, c.conv))
        device = get_device(c.device, macs)
        self.device_note = auto_reason(device, macs) if c.device == "auto" else ""
        run = TensorRun(
            self.data.X_train, self.data.y_train, n_out, self.loss_name, c.hidden,
            c.activation, c.optimizer, self.base_lr, c.weight_decay, seed, c.conv, shape,
            device, c.dtype,
        )  # fmt: skip
        self.tensor_run = run
        self.model = run.model  # type: ignore[assignment]
        self.params = run.params  # type: ignore[assignment]
        self.optimizer = run.optimizer
        self.rng = random.Random(seed + 1)
        self.step_count = 0
        self.history = History()
        self.last_root = None
        self.last_samples = []
        self._partial = None
        self._first_loss = self._lowest_loss = math.nan  # for `divergence`

    # -- the learning rate -------------------------------------------------------------------

    @property
    def lr(self) -> float:
        """The learning rate the next step will use (the base rate times the schedule)."""
        factor = schedule_factor(self.config.schedule, self.step_count, self.config.steps)
        return self.base_lr * factor

    def set_lr(self, lr: float) -> None:
        """Set the base learning rate; the next step uses it."""
        self.base_lr = SETTING["lr"].check(lr)

    def scale_lr(self, factor: float) -> float:
        """Multiply the base learning rate by `factor` from the next step, and return it. The
        product is rounded to 12 significant digits, so a factor and its inverse (x1.1 then
        /1.1) return to the same rate exactly; float arithmetic alone can miss it by an ulp."""
        self.set_lr(scaled_lr(self.base_lr, factor))
        return self.base_lr

    # -- training ----------------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> None:
        """New weights (from `seed`, or the configured seed), same data and configuration."""
        self._build(self.config.seed if seed is None else seed)

    def batch_indices(self) -> list[int] | None:
        """The training samples of the next step (None: all of them), drawn by the batch RNG
        the same way for both engines."""
        size, n = self.config.batch_size, len(self.data.X_train)
        if not size or size >= n:
            return None
        return self.rng.sample(range(n), size)

    def batch(self) -> tuple[list[list[float]], list[int]]:
        X, y = self.data.X_train, self.data.y_train
        idx = self._batch_idx = self.batch_indices()
        if idx is None:
            return X, y
        return [X[i] for i in idx], [y[i] for i in idx]

    def step(self, zero_grad: bool = True) -> StepReport:
        """One step: forward, loss, backward, update. A non-finite loss or gradient skips the
        update (the weights stay usable) and sets `nonfinite` in the report. `zero_grad=False`
        skips zeroing the parameters' gradients before backward, which then adds to the last
        step's: the lecture's accumulation bug (the scalar engine only).

        The cyclic garbage collector is paused during the step: the engine makes no reference
        cycles, so it would find nothing, yet with the previous step's graph alive it walked
        every node again and again (the cost is in benchmarks/README.md).
        Reference counting frees each graph as usual; the collector resumes after the step.
        """
        if not zero_grad and self.tensor_run is not None:
            raise ValueError("skipping zero_grad needs the scalar engine (--engine scalar)")
        self._partial = None  # a step under way phase by phase is dropped
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._step(zero_grad)
        finally:
            if was_enabled:
                gc.enable()

    def _step(self, zero_grad: bool = True) -> StepReport:
        if self.tensor_run is not None:
            return self._tensor_step()
        start = time.perf_counter()
        X, y = self.batch()
        outputs = [self.model(x) for x in X]
        loss = self._loss(outputs, y)
        if zero_grad:
            for p in self.params:
                p.grad = 0.0
        loss.backward()
        return self._update(loss, outputs, y, start)

    def _loss(self, outputs: list, y: list[int]) -> Value:
        loss = LOSSES[self.loss_name](outputs, y)
        loss.label = "data loss"
        if self.config.alpha:
            penalty = l2(self.params, self.config.alpha)
            penalty.label = "L2 penalty"
            loss = loss + penalty
        loss.label = "loss"
        return loss

    def _update(self, loss: Value, outputs: list, y: list[int], start: float) -> StepReport:
        """The update from the gradients there are, then the step's report."""
        lr = self.lr
        nonfinite = not math.isfinite(loss.data) or not all(
            math.isfinite(p.grad) for p in self.params
        )
        if not nonfinite:
            self.optimizer.lr = lr
            self.optimizer.step()
            nonfinite = not all(math.isfinite(p.data) for p in self.params)
        acc = accuracy([predict_class(self.loss_name, _floats(o)) for o in outputs], y)
        self.step_count += 1
        test_loss = test_acc = None
        if self.data.X_test and self.step_count % self.config.eval_every == 0:
            test_loss, test_acc = self.evaluate(self.data.X_test, self.data.y_test)
        report = StepReport(
            step=self.step_count,
            loss=loss.data,
            accuracy=acc,
            lr=lr,
            seconds=time.perf_counter() - start,
            test_loss=test_loss,
            test_accuracy=test_acc,
            nonfinite=nonfinite,
            diverging=self._diverging(loss.data),
        )
        self.history.append(report)
        self.last_root = loss
        self.last_samples = self._samples(outputs)
        return report

    def _samples(self, outputs: list) -> list[tuple[int, Any]]:
        idx = self._batch_idx
        return list(zip(range(len(outputs)) if idx is None else idx, outputs))

    # -- one phase at a time (the lecture's loop, to watch) -----------------------------------

    @property
    def phase(self) -> str:
        """The last phase done of the step under way ("" between steps): one of PHASES."""
        return self._partial.done if self._partial is not None else ""

    @property
    def phase_loss(self) -> float | None:
        """The loss of the step under way once its loss phase is done (None before, between
        steps)."""
        part = self._partial
        return part.loss.data if part is not None and part.loss is not None else None

    @property
    def phase_samples(self) -> list[tuple[int, Any]]:
        """The outputs of the step under way once its forward phase is done: (index in the
        training data, output Value or Values) per sample; [] between steps."""
        part = self._partial
        return self._samples(part.outputs) if part is not None else []

    def step_phase(self, zero_grad: bool = True) -> tuple[str, StepReport | None]:
        """Do the next phase of a step, forward -> loss -> zero_grad -> backward -> update,
        and return its name (and the step's report after update). A full cycle gives what
        `step()` gives. `zero_grad=False` skips zeroing the parameters' gradients (the phase
        is still named, and does nothing): backward then adds to the last step's gradients,
        the lecture's accumulation bug. The scalar engine only (the tensor engine steps whole).
        """
        if self.tensor_run is not None:
            raise ValueError("phase stepping needs the scalar engine (--engine scalar)")
        part = self._partial
        if part is None:
            X, y = self.batch()
            start = time.perf_counter()
            part = self._partial = PartialStep(X, y, [self.model(x) for x in X], start)
        elif part.done == "forward":
            part.loss = self._loss(part.outputs, part.y)
            self.last_root = part.loss
            self.last_samples = self._samples(part.outputs)
        elif part.done == "loss":
            if zero_grad:
                for p in self.params:
                    p.grad = 0.0
        elif part.done == "zero_grad":
            part.loss.backward()  # type: ignore[union-attr]
        else:  # after backward: the update ends the step
            self._partial = None
            report = self._update(part.loss, part.outputs, part.y, part.start)  # type: ignore[arg-type]
            return "update", report
        part.done = PHASES[PHASES.index(part.done) + 1] if part.done else "forward"
        return part.done, None

    def _tensor_step(self) -> StepReport:
        """`_step` on the tensor engine: the same batch, lr, report and history."""
        start = time.perf_counter()
        lr = self.lr
        loss, acc, nonfinite, root = self.tensor_run.step(  # type: ignore[union-attr]
            self.batch_indices(), lr, self.config.alpha
        )
        self.step_count += 1
        test_loss = test_acc = None
        if self.data.X_test and self.step_count % self.config.eval_every == 0:
            test_loss, test_acc = self.evaluate(self.data.X_test, self.data.y_test)
        report = StepReport(
            self.step_count, loss, acc, lr, time.perf_counter() - start, test_loss, test_acc,
            nonfinite, self._diverging(loss),
        )  # fmt: skip
        self.history.append(report)
        self.last_root = root  # type: ignore[assignment]
        self.last_samples = []
        return report

    # -- divergence ---------------------------------------------------------------------------

    def _diverging(self, loss: float) -> bool:
        """Track the run's first and lowest finite loss; is `loss` far above them?"""
        if not math.isfinite(loss):
            return False  # NaN/inf is `nonfinite`: diverged, not diverging
        if self._first_loss != self._first_loss:
            self._first_loss = self._lowest_loss = loss
        self._lowest_loss = min(self._lowest_loss, loss)
        return loss > DIVERGE_FACTOR * self.reference_loss

    @property
    def reference_loss(self) -> float:
        """What a loss is compared with to call it diverging: the lowest loss so far, but at
        least a tenth of the first one and LOSS_FLOOR (a loss that reached 1e-20 may wobble)."""
        if self._first_loss != self._first_loss:
            return LOSS_FLOOR
        return max(self._lowest_loss, 0.1 * self._first_loss, LOSS_FLOOR)

    def divergence(self, report: StepReport) -> str:
        """What a diverging report means and what to do, in one sentence ("" if it is not)."""
        if not report.diverging:
            return ""
        best = self.reference_loss
        return (
            f"diverging: the loss {report.loss:.3g} is {report.loss / best:.0e} times the run's "
            f"best level {best:.3g}; lower the learning rate (now {report.lr:g}) or reset"
        )

    def evaluate(self, X: list[list[float]], y: list[int]) -> tuple[float, float]:
        """Loss (without regularisation) and accuracy on (X, y), float-only: no graph."""
        if self.tensor_run is not None:
            return self.tensor_run.evaluate(X, y)
        outputs = self.model.predict_batch(X)
        predicted = [predict_class(self.loss_name, o) for o in outputs]
        return float_loss(self.loss_name, outputs, y), accuracy(predicted, y)

    def predict_grid(self, points: Sequence[Sequence[float]]) -> list[int]:
        """The predicted class at each point (for drawing a decision boundary)."""
        if self.tensor_run is not None:
            return self.tensor_run.predict(points)
        return [predict_class(self.loss_name, o) for o in self.model.predict_batch(points)]

    @property
    def input_dim(self) -> int:
        return self.data.input_dim

    @property
    def n_classes(self) -> int:
        return self.data.n_classes

    # -- checkpoints -------------------------------------------------------------------------

    @property
    def architecture(self) -> str:
        """The network's layer sizes as the lecture writes them, input to output: `2-16-16-1`
        (with conv blocks first: `conv 8,16 on 1x8x8, 64-64-10`). The app and the headless
        run both say this."""
        c = self.config
        n_out = self.n_classes if self.loss_name == "softmax" else 1
        n_in = self.input_dim
        conv = ""
        if c.conv:
            channels, h, w = image_shape_of(c, self.data) or (0, 0, 0)
            conv = f"conv {','.join(map(str, c.conv))} on {channels}x{h}x{w}, "
            n_in = c.conv[-1] * (h >> len(c.conv)) * (w >> len(c.conv))  # each block halves
        return conv + "-".join(map(str, (n_in, *c.hidden, n_out)))

    def state_dict(self) -> dict:
        """Everything needed to continue this run exactly, as JSON-able plain data."""
        version, internal, gauss = self.rng.getstate()
        return {
            "config": self.config.to_dict(),
            "base_lr": self.base_lr,
            "step": self.step_count,
            "weights": self._weights(),
            "parameter_names": [p.label for p in self.params],
            "optimizer": self.optimizer.state_dict(),
            "rng": [version, list(internal), gauss],
            "history": [r.to_list() for r in self.history],
            "data": {
                "X_train": self.data.X_train,
                "y_train": self.data.y_train,
                "X_test": self.data.X_test,
                "y_test": self.data.y_test,
                "classes": list(self.data.classes),
            },
        }

    def _weights(self) -> list[float]:
        """Every weight as a flat list: the scalar engine's parameters in order, or the tensor
        engine's arrays one after another, each in C order."""
        if self.tensor_run is not None:
            return self.tensor_run.weights()
        return [p.data for p in self.params]

    @classmethod
    def from_state_dict(cls, state: dict) -> Trainer:
        """Rebuild a run saved by `state_dict`; malformed state raises KeyError, TypeError etc."""
        config = TrainConfig.from_dict(dict(state["config"]))
        data = _checked_data(state["data"])
        # Count the weights the configuration needs before building the model: a damaged or
        # hostile file must not make us build a huge network just to refuse it.
        n_out = data.n_classes if resolve_loss(config, data) == "softmax" else 1
        sizes = [data.input_dim, *config.hidden, n_out]
        needed = sum((nin + 1) * nout for nin, nout in zip(sizes, sizes[1:]))
        if config.conv:
            from micrograd.tensor_train import conv_shapes

            shape = image_shape_of(config, data)
            if shape is None:
                raise ValueError("the checkpoint's conv model has no image shape")
            needed = sum(
                math.prod(s) for s in conv_shapes(shape, config.conv, config.hidden, n_out)
            )
        if len(state["weights"]) != needed:
            raise ValueError(
                f"the checkpoint has {len(state['weights'])} weights but this model has "
                f"{needed} ({'-'.join(map(str, sizes))})"
            )
        trainer = cls(config, data)
        trainer.load_state_dict(state)
        return trainer

    def load_state_dict(self, state: dict) -> None:
        weights = state["weights"]
        count = self.tensor_run.weight_count() if self.tensor_run else len(self.params)
        if len(weights) != count:
            raise ValueError(
                f"the checkpoint has {len(weights)} weights but this model has {count}"
            )
        if not all(_is_number(w) and math.isfinite(w) for w in weights):
            raise ValueError("the weights must all be finite numbers")
        if self.tensor_run is not None:
            self.tensor_run.load_weights(weights)
        else:
            for p, w in zip(self.params, weights):
                p.data = float(w)
                p.grad = 0.0
        self.set_lr(state["base_lr"])
        self.optimizer.load_state_dict(state["optimizer"])
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
        self.step_count = check_number("the step", state["step"], whole=True, low=0)
        self.history = History(StepReport.from_list(r) for r in state["history"])
        self.last_root = None
        self.last_samples = []
        losses = [r.loss for r in self.history if math.isfinite(r.loss)]
        self._first_loss = losses[0] if losses else math.nan
        self._lowest_loss = min(losses, default=math.nan)


def check_fit(config: TrainConfig, data: Data) -> str:
    """The loss `config` trains `data` with; ConfigError (naming the option) if they do not
    fit: a batch larger than the training set, a two-class loss for more classes."""
    n_train = len(data.X_train)
    if config.batch_size > n_train:
        raise ConfigError(
            "batch_size",
            f"batch size {config.batch_size} is larger than the {n_train} training "
            f"samples; use 1 to {n_train}, or 0 for the full batch",
        )
    if config.conv or config.image_shape is not None:
        shape = image_shape_of(config, data)
        if shape is None:
            raise ConfigError(
                "image_shape",
                "conv layers need the image shape of each sample: give C,H,W (or H,W) "
                f"with --image-shape; the data has {data.input_dim} inputs",
            )
        if math.prod(shape) != data.input_dim:
            raise ConfigError(
                "image_shape",
                f"an image of shape {_shown(shape)} has {math.prod(shape)} pixels, but the "
                f"data has {data.input_dim} inputs per sample",
            )
        h, w = shape[1], shape[2]
        if config.conv and min(h, w) < 2 ** len(config.conv):
            raise ConfigError(
                "conv",
                f"{len(config.conv)} conv blocks halve a {h}x{w} image {len(config.conv)} "
                f"times: it needs at least {2 ** len(config.conv)} pixels a side",
            )
    loss_name = resolve_loss(config, data)
    if loss_name in BINARY_LOSSES and data.n_classes > 2:
        raise ConfigError(
            "loss",
            f"the {loss_name} loss is for two classes, but the data has "
            f"{data.n_classes}; use softmax (or auto)",
        )
    return loss_name


def image_shape_of(config: TrainConfig, data: Data) -> tuple[int, ...] | None:
    """The (C, H, W) of each sample: the configured one, the digits' own, or None."""
    if config.image_shape is not None:
        return tuple(config.image_shape)
    if config.csv is None and config.dataset == "digits":
        return datasets.DIGITS_SHAPE
    return None


def step_work(config: TrainConfig, data: Data) -> int:
    """Multiply-adds of one step's forward pass: samples a step times the model's weights.
    A step's time and memory grow with it (each product is an operand of a graph node)."""
    n_out = data.n_classes if resolve_loss(config, data) == "softmax" else 1
    sizes = [data.input_dim, *config.hidden, n_out]
    weights = sum(a * b for a, b in zip(sizes, sizes[1:]))
    return (config.batch_size or len(data.X_train)) * weights


def check_pace(config: TrainConfig, data: Data, limit: int = MAX_STEP_WORK) -> None:
    """ConfigError (naming the batch size, or the samples for a full batch) if a step of this
    run does more than `limit` multiply-adds (TENSOR_PACE times that on the tensor engine): the
    app's settings form keeps runs interactive."""
    work = step_work(config, data)
    if config.engine == "tensor":
        limit *= TENSOR_PACE
    if work <= limit:
        return
    batch = config.batch_size or len(data.X_train)
    option = "batch_size" if config.batch_size else "samples"
    raise ConfigError(
        option,
        f"{batch:,} samples a step through {work // batch:,} weights is {work:,} multiply-adds a "
        f"step, over the app's {limit:,} (about a second a step): use fewer samples, a smaller "
        "batch or smaller layers (--headless trains larger runs)",
    )


def resolve_loss(config: TrainConfig, data: Data) -> str:
    """The loss to use: the configured one, or for "auto" softmax with 3+ classes, squared
    error for the tiny example, and Karpathy's hinge otherwise."""
    if config.loss != "auto":
        return config.loss
    if data.n_classes > 2:
        return "softmax"
    if config.csv is None and config.dataset == "tiny":
        return "mse"
    return "hinge"


def _floats(output: Value | list[Value]) -> float | list[float]:
    if isinstance(output, Value):
        return output.data
    return [o.data for o in output]


def _is_whole(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _checked_data(d: dict) -> Data:
    """The data of a checkpoint, checked as strictly as `load_csv` checks a file."""
    X_train, y_train, X_test, y_test = d["X_train"], d["y_train"], d["X_test"], d["y_test"]
    classes = d["classes"]
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ValueError("data: the class names must be a list of strings")
    if not isinstance(X_train, list) or not X_train:
        raise ValueError("data: no training samples")
    width = len(X_train[0]) if isinstance(X_train[0], list) else 0
    for name, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        if not (isinstance(X, list) and isinstance(y, list) and len(X) == len(y)):
            raise ValueError(f"data: the {name} samples and labels must be lists of one length")
        for x in X:
            if not (isinstance(x, list) and len(x) == width >= 1):
                raise ValueError(f"data: every sample must be a list of {width or 'some'} inputs")
            if not all(_is_number(v) and math.isfinite(v) for v in x):
                raise ValueError(f"data: a {name} sample holds {x!r}, not finite numbers")
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in y):
            raise ValueError(f"data: the {name} labels must be class numbers 0, 1, ...")
    data = Data(X_train, y_train, X_test, y_test, tuple(classes))
    if data.n_classes > datasets.MAX_CLASSES:
        raise ValueError(f"data: {data.n_classes} classes; at most {datasets.MAX_CLASSES}")
    if any(c >= data.n_classes for c in y_train + y_test):
        raise ValueError(f"data: a label is not a class number 0 to {data.n_classes - 1}")
    return data


def _shown(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    return str(value)
