"""The Trainer: real training to stated accuracies, determinism, lr changes, divergence."""

from __future__ import annotations

import math
import pickle

import pytest

from micrograd.engine import topological_order
from micrograd.train import StepReport, TrainConfig, Trainer


def train(config: TrainConfig, steps: int | None = None) -> Trainer:
    trainer = Trainer(config)
    for _ in range(steps or config.steps):
        trainer.step()
    return trainer


def final_accuracy(trainer: Trainer) -> float:
    return trainer.evaluate(trainer.data.X_train, trainer.data.y_train)[1]


def test_default_config_reaches_97_percent_on_moons_within_300_steps() -> None:
    trainer = Trainer(TrainConfig())
    best = 0.0
    for _ in range(300):
        trainer.step()
        best = max(best, final_accuracy(trainer))
        if best >= 0.97:
            break
    assert best >= 0.97, best
    assert trainer.step_count <= 300


# Each dataset, a configuration, the steps it gets and the training accuracy it must reach.
DATASET_CASES = [
    ("circles", dict(hidden=(8, 8), optimizer="adam", lr=0.05), 100, 0.95),
    ("xor", dict(hidden=(8, 8), optimizer="adam", lr=0.05), 100, 0.95),
    ("blobs", dict(hidden=(8,)), 150, 0.95),
    ("spiral", dict(hidden=(16, 16), optimizer="adam", lr=0.05, samples=60), 100, 0.95),
    ("spiral3", dict(hidden=(12, 12), optimizer="adam", lr=0.05, samples=60), 100, 0.95),
]


@pytest.mark.parametrize(("dataset", "options", "steps", "target"), DATASET_CASES)
def test_each_dataset_trains_headless(dataset: str, options: dict, steps: int, target: float):
    trainer = train(TrainConfig(dataset=dataset, seed=7, **options), steps)
    assert final_accuracy(trainer) >= target, (dataset, final_accuracy(trainer))


def test_tiny_example_learns_with_tanh_and_squared_error() -> None:
    config = TrainConfig(dataset="tiny", hidden=(4, 4), activation="tanh", lr=0.05, alpha=0.0)
    trainer = Trainer(config)
    assert trainer.loss_name == "mse"
    first = trainer.step().loss
    for _ in range(100):
        last = trainer.step()
    assert last.loss < first / 10
    assert last.accuracy == 1.0


def test_three_class_spiral_uses_softmax_with_three_outputs() -> None:
    trainer = Trainer(TrainConfig(dataset="spiral3", hidden=(8,)))
    assert trainer.loss_name == "softmax"
    assert trainer.n_classes == 3
    assert len(trainer.model.layers[-1].neurons) == 3


def test_binary_loss_on_three_classes_is_refused() -> None:
    with pytest.raises(ValueError, match="two classes"):
        Trainer(TrainConfig(dataset="spiral3", loss="hinge"))


def test_same_seed_and_config_give_a_bit_identical_run() -> None:
    config = TrainConfig(batch_size=20, test_fraction=0.2, eval_every=5, steps=30)
    a = [(r.loss, r.accuracy, r.test_loss) for r in train(config).history]
    b = [(r.loss, r.accuracy, r.test_loss) for r in train(config).history]
    assert a == b
    c = [(r.loss, r.accuracy) for r in train(TrainConfig(seed=2, steps=30)).history]
    assert c != [(loss, acc) for loss, acc, _ in a]


def test_lr_changed_mid_run_is_used_from_the_next_step() -> None:
    trainer = Trainer(TrainConfig(lr=0.1))
    assert trainer.step().lr == 0.1
    before = [p.data for p in trainer.params]
    trainer.set_lr(0.4)
    assert trainer.lr == 0.4
    report = trainer.step()
    assert report.lr == 0.4
    # the update that step made used the new rate: delta = -lr * grad (SGD, no momentum)
    for p, old in zip(trainer.params, before):
        assert p.data == pytest.approx(old - 0.4 * p.grad, rel=1e-12, abs=1e-15)


def test_report_is_immutable_and_complete() -> None:
    trainer = Trainer(TrainConfig(test_fraction=0.25, eval_every=2))
    first, second = trainer.step(), trainer.step()
    assert isinstance(first, StepReport)
    assert (first.step, second.step) == (1, 2)
    assert first.test_loss is None and second.test_loss is not None
    assert 0.0 <= second.test_accuracy <= 1.0
    assert first.seconds > 0 and not first.nonfinite
    with pytest.raises(AttributeError):
        first.loss = 0.0  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(second)) == second


def test_minibatches_are_the_configured_size() -> None:
    trainer = Trainer(TrainConfig(batch_size=10))
    trainer.step()
    output_bias = trainer.model.layers[-1].neurons[0].b
    graph = topological_order(trainer.last_root)
    # the output neuron's node: 16 weights, 16 hidden inputs and the bias (the L2 term's dot
    # also ends with that bias, but has all 674 parameter operands)
    outputs = [
        n for n in graph if n._op == "dot" and n._prev[-1] is output_bias and len(n._prev) == 33
    ]
    assert len(outputs) == 10  # one output neuron evaluation per sample of the batch


def test_last_root_is_the_loss_graph_of_the_last_step() -> None:
    trainer = Trainer(TrainConfig())
    report = trainer.step()
    assert trainer.last_root is not None
    assert trainer.last_root.data == report.loss


def test_a_huge_learning_rate_is_flagged_nonfinite_and_weights_stay_finite() -> None:
    trainer = Trainer(TrainConfig(lr=1e6, optimizer="sgd"))
    reports = [trainer.step() for _ in range(40)]
    flagged = [r for r in reports if r.nonfinite]
    assert flagged, [r.loss for r in reports]
    assert all(math.isfinite(p.data) for p in trainer.params)


def test_reset_gives_new_weights_from_a_seed_and_clears_history() -> None:
    trainer = Trainer(TrainConfig())
    initial = [p.data for p in trainer.params]
    trainer.step()
    trainer.reset()
    assert [p.data for p in trainer.params] == initial
    assert trainer.step_count == 0 and trainer.history == []
    trainer.reset(seed=99)
    assert [p.data for p in trainer.params] != initial


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(dataset="nope"), "unknown dataset"),
        (dict(activation="gelu"), "unknown activation"),
        (dict(loss="l1"), "unknown loss"),
        (dict(optimizer="lbfgs"), "unknown optimizer"),
        (dict(lr=0.0), "learning rate"),
        (dict(lr=-1.0), "learning rate"),
        (dict(lr=math.nan), "learning rate"),
        (dict(lr=math.inf), "learning rate"),
        (dict(samples=0), "samples"),
        (dict(steps=-3), "steps"),
        (dict(hidden=(16, 0)), "hidden"),
        (dict(hidden=(2048,)), "at most 1024 neurons"),
        (dict(hidden=(4,) * 17), "at most 16 hidden layers"),
        (dict(samples=10**6), "samples must be a whole number >= 1 and <= 100,000"),
        (dict(test_fraction=1.0), "test fraction"),
        (dict(batch_size=-1), "batch size"),
    ],
)
def test_bad_configs_are_refused_with_a_clear_message(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**change)


def test_batch_larger_than_the_data_is_refused() -> None:
    with pytest.raises(ValueError, match="larger than the 100 training samples"):
        Trainer(TrainConfig(batch_size=500))


def test_a_step_pauses_the_cyclic_collector_and_restores_it() -> None:
    import gc

    trainer = Trainer(TrainConfig(samples=10, hidden=(4,)))
    seen = []
    gc.callbacks.append(lambda phase, info: seen.append(phase))
    try:
        assert gc.isenabled()
        trainer.step()
        assert gc.isenabled()
        gc.disable()
        trainer.step()
        assert not gc.isenabled()  # a caller's choice is left as it was
    finally:
        gc.enable()
        gc.callbacks.pop()
    assert seen == []  # no collection ran inside either step
