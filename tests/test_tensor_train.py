"""The Trainer on the tensor engine: the same run as the scalar engine, checkpoints, settings."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from tensorhelp import BACKENDS

from micrograd import checkpoint
from micrograd.tensor import Tensor, TensorGraphSnapshot, snapshot
from micrograd.train import ConfigError, TrainConfig, Trainer

PARITY = TrainConfig(
    dataset="moons", samples=24, hidden=(5, 4), steps=100, batch_size=10, alpha=1e-3,
    weight_decay=0.01, schedule="cosine", test_fraction=0.25, eval_every=25, seed=3,
)  # fmt: skip
LR = {"sgd": 0.2, "momentum": 0.05, "adam": 0.02, "adamw": 0.02}


def same(a, b) -> bool:
    """Two reports equal but for the time they took."""
    return replace(a, seconds=0.0) == replace(b, seconds=0.0)


def run_both(config: TrainConfig, steps: int = 100) -> tuple[list, list, Trainer, Trainer]:
    scalar, tensor = Trainer(config), Trainer(replace(config, engine="tensor"))
    a = [scalar.step() for _ in range(steps)]
    b = [tensor.step() for _ in range(steps)]
    return a, b, scalar, tensor


def assert_same_run(a, b) -> None:
    for r, s in zip(a, b):
        assert abs(r.loss - s.loss) <= 1e-9, (r.step, r.loss, s.loss)
        assert r.accuracy == s.accuracy and r.lr == s.lr and r.nonfinite == s.nonfinite
        if r.test_loss is not None:
            assert abs(r.test_loss - s.test_loss) <= 1e-9
            assert r.test_accuracy == s.test_accuracy
    assert len(a) == len(b)


@pytest.mark.parametrize("optimizer", list(LR))
@pytest.mark.parametrize("loss", ["hinge", "mse", "bce"])
def test_both_engines_give_the_same_losses_for_100_steps(loss, optimizer) -> None:
    config = replace(PARITY, loss=loss, optimizer=optimizer, lr=LR[optimizer])
    a, b, scalar, tensor = run_both(config)
    assert_same_run(a, b)
    assert a[-1].loss < a[0].loss  # it learned something: the comparison is not of constants
    weights = np.asarray(tensor._weights())
    assert weights.size == len(scalar.params)


@pytest.mark.parametrize("optimizer", list(LR))
def test_both_engines_agree_with_softmax_on_three_classes(optimizer) -> None:
    config = replace(
        PARITY, dataset="blobs", loss="softmax", optimizer=optimizer, lr=LR[optimizer],
        activation="tanh",
    )  # fmt: skip
    a, b, *_ = run_both(config)
    assert_same_run(a, b)
    assert a[-1].loss < a[0].loss


def test_the_tensor_step_keeps_a_graph_of_tensor_nodes() -> None:
    trainer = Trainer(replace(PARITY, engine="tensor"))
    trainer.step()
    root = trainer.last_root
    assert isinstance(root, Tensor) and root.label == "loss"
    snap = snapshot(root)
    assert isinstance(snap, TensorGraphSnapshot)
    ops = snap.op_counts()
    assert ops["linear"] == 3 and ops["sumsq"] == 1
    linear_nodes = [n for n in snap.nodes if n.op == "linear"]
    assert {n.shape for n in linear_nodes} == {(10, 5), (10, 4), (10, 1)}
    assert all(n.grad_summary is not None for n in linear_nodes)


def test_a_tensor_checkpoint_continues_exactly(tmp_path) -> None:
    config = replace(PARITY, engine="tensor", optimizer="adam", lr=0.02)
    trainer = Trainer(config)
    for _ in range(7):
        trainer.step()
    path = checkpoint.save(trainer, tmp_path / "run.json")
    saved = json.loads(path.read_text())
    assert saved["config"]["engine"] == "tensor"
    loaded = checkpoint.load(path)
    assert loaded.tensor_run is not None and loaded.step_count == 7
    for _ in range(5):
        assert same(trainer.step(), loaded.step())


def test_a_checkpoint_without_the_new_settings_still_loads(tmp_path) -> None:
    trainer = Trainer(PARITY)
    trainer.step()
    state = {"format": checkpoint.FORMAT, "version": checkpoint.VERSION, **trainer.state_dict()}
    for key in ("engine", "conv", "image_shape", "device", "dtype"):
        del state["config"][key]  # as written before the tensor engine existed
    path = tmp_path / "old.json"
    path.write_text(json.dumps(state))
    loaded = checkpoint.load(path)
    assert loaded.config.engine == "scalar" and loaded.tensor_run is None
    assert same(loaded.step(), trainer.step())


def test_a_conv_checkpoint_with_the_wrong_weight_count_is_refused(tmp_path) -> None:
    config = TrainConfig(
        dataset="digits", samples=60, hidden=(8,), engine="tensor", conv=(2,), steps=5
    )
    trainer = Trainer(config)
    trainer.step()
    state = {"format": checkpoint.FORMAT, "version": checkpoint.VERSION, **trainer.state_dict()}
    n = len(state["weights"])
    assert n == 2 * 9 + 2 + (2 * 4 * 4 + 1) * 8 + 9 * 10
    state["weights"] = state["weights"][:-1]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(state))
    with pytest.raises(checkpoint.CheckpointError, match=f"{n - 1} weights but this model has {n}"):
        checkpoint.load(path)


@pytest.mark.parametrize("device", BACKENDS)
def test_a_conv_model_trains_on_digits_from_the_config(device) -> None:
    config = TrainConfig(
        dataset="digits", samples=300, test_fraction=0.2, hidden=(16,), conv=(4,),
        engine="tensor", optimizer="adam", lr=0.01, steps=60, batch_size=64, device=device,
        dtype="float32", eval_every=60,
    )  # fmt: skip
    trainer = Trainer(config)
    assert trainer.tensor_run.X_train.shape == (240, 1, 8, 8)
    reports = [trainer.step() for _ in range(60)]
    assert reports[-1].test_accuracy >= 0.8
    assert trainer.predict_grid(trainer.data.X_test[:5]) == trainer.tensor_run.predict(
        trainer.data.X_test[:5]
    )


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(engine="numpy"), ["unknown engine 'numpy'", "scalar, tensor"]),
        (dict(device="cuda"), ["device cuda needs the tensor engine"]),
        (dict(dtype="float32"), ["dtype float32 needs the tensor engine"]),
        (dict(conv=(8,)), ["conv 8 needs the tensor engine"]),
        (dict(engine="tensor", device="tpu"), ["unknown device 'tpu'"]),
        (dict(engine="tensor", conv=(0,)), ["conv channels"]),
        (dict(engine="tensor", image_shape=(1, 0, 3)), ["image shape"]),
    ],
)
def test_bad_engine_settings_are_one_sentence(changes, words) -> None:
    with pytest.raises(ValueError) as info:
        TrainConfig(**changes)
    assert all(w in str(info.value) for w in words)


def test_conv_settings_that_do_not_fit_the_data_name_their_option() -> None:
    with pytest.raises(ConfigError) as info:
        Trainer(TrainConfig(engine="tensor", conv=(4,)))  # moons: no image shape
    assert info.value.option == "image_shape" and "--image-shape" in str(info.value)
    with pytest.raises(ConfigError) as info:
        Trainer(TrainConfig(engine="tensor", conv=(4,), image_shape=(1, 3, 3)))
    assert info.value.option == "image_shape" and "9 pixels" in str(info.value)
    with pytest.raises(ConfigError) as info:
        Trainer(TrainConfig(dataset="digits", engine="tensor", conv=(2, 2, 2, 2)))
    assert info.value.option == "conv" and "8x8" in str(info.value)


def test_image_shape_of_two_numbers_means_one_channel() -> None:
    assert TrainConfig(engine="tensor", image_shape=[8, 8]).image_shape == (1, 8, 8)
    config = TrainConfig(engine="tensor", image_shape=(2, 3))
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_every_engine_setting_is_in_the_schema_and_only_the_engine_in_the_apps_form() -> None:
    """The app shows the tensor engine since issue 15: the engine is a field of its settings
    form; the options of a tensor model (conv, image shape, device, dtype) stay on the command
    line."""
    from micrograd.train import SETTING

    for name in ("engine", "conv", "image_shape", "device", "dtype"):
        assert SETTING[name].group == "tensor engine"
        assert bool(SETTING[name].form) == (name == "engine")
    config = TrainConfig(engine="tensor", conv=[4, 8], image_shape=[1, 8, 8])
    assert config.conv == (4, 8) and TrainConfig.from_dict(config.to_dict()) == config


def test_a_diverging_run_is_flagged_at_the_same_step_on_both_engines_without_warnings() -> None:
    import warnings

    config = TrainConfig(samples=20, hidden=(4,), loss="mse", lr=1e8, steps=10)
    scalar = Trainer(config)
    a = [scalar.step() for _ in range(5)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warnings would be noise on stderr
        tensor = Trainer(replace(config, engine="tensor"))
        b = [tensor.step() for _ in range(5)]
    assert [r.nonfinite for r in a] == [r.nonfinite for r in b] == [False] * 3 + [True] * 2
    assert np.isfinite(tensor._weights()).all()  # the diverged updates were skipped


def test_reset_on_the_tensor_engine_starts_the_same_run_again_in_float32() -> None:
    trainer = Trainer(TrainConfig(engine="tensor", dtype="float32", steps=5))
    first = [trainer.step().loss for _ in range(3)]
    trainer.reset()
    assert [trainer.step().loss for _ in range(3)] == first
    assert trainer.tensor_run.params[0].data.dtype == np.float32
    trainer.reset(seed=5)
    assert trainer.step().loss != first[0]


def test_the_work_auto_weighs_counts_the_conv_blocks_and_the_dense_layers() -> None:
    from micrograd.device import AUTO_GPU_MIN_MACS, auto_reason, get_device
    from micrograd.tensor_train import conv_macs, macs_per_step

    assert conv_macs((1, 8, 8), (8, 16)) == 8 * 8 * 8 * 9 + 4 * 4 * 16 * 8 * 9
    assert conv_macs(None, ()) == 0
    assert macs_per_step(10, 2, (16, 16), 1) == 10 * (2 * 16 + 16 * 16 + 16)
    assert macs_per_step(3, 64, (64,), 10, conv_macs((1, 8, 8), (8, 16))) == 3 * (
        64 * 64 + 64 * 10 + 23_040
    )
    # below the threshold auto stays on the CPU, and says why
    small = macs_per_step(100, 2, (16, 16), 1)
    assert small < AUTO_GPU_MIN_MACS and get_device("auto", small).name == "cpu"
    assert auto_reason(get_device("auto", small), small).startswith("device auto: cpu (")
