"""Checkpoints: exact resume, atomic writes, clear refusals."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from micrograd import checkpoint, fileio
from micrograd.checkpoint import CheckpointError
from micrograd.train import TrainConfig, Trainer

CONFIGS = [
    TrainConfig(),
    TrainConfig(optimizer="adam", lr=0.01, batch_size=16, test_fraction=0.2, eval_every=3),
    TrainConfig(optimizer="momentum", lr=0.05, schedule="cosine", steps=20, weight_decay=1e-3),
]


@pytest.mark.parametrize("config", CONFIGS, ids=["sgd", "adam-minibatch", "momentum-cosine"])
def test_resume_gives_exactly_the_losses_of_an_uninterrupted_run(config, tmp_path: Path) -> None:
    straight = Trainer(config)
    expected = [straight.step().loss for _ in range(12)]

    first = Trainer(config)
    got = [first.step().loss for _ in range(5)]
    path = checkpoint.save(first, tmp_path / "run.json")
    resumed = checkpoint.load(path)
    assert resumed.step_count == 5
    assert [r.loss for r in resumed.history] == got
    got += [resumed.step().loss for _ in range(7)]
    assert got == expected  # bit-identical, not approximately equal


def test_the_checkpoint_is_plain_versioned_json(tmp_path: Path) -> None:
    trainer = Trainer(TrainConfig())
    trainer.step()
    path = checkpoint.save(trainer, tmp_path / "run.json")
    payload = json.loads(path.read_text())
    assert payload["format"] == "microgradtui-checkpoint"
    assert payload["version"] == checkpoint.VERSION
    assert payload["config"]["dataset"] == "moons"
    assert len(payload["weights"]) == 337
    assert payload["parameter_names"][0] == "L0.N0.w0"


def test_a_truncated_checkpoint_is_refused_clearly(tmp_path: Path) -> None:
    trainer = Trainer(TrainConfig())
    path = checkpoint.save(trainer, tmp_path / "run.json")
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(CheckpointError, match=r"run\.json: not valid JSON \(truncated or corrupt"):
        checkpoint.load(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x00\xff\xfe binary", "not UTF-8"),
        (b"[1, 2, 3]", "not a microgradtui checkpoint"),
        (b'{"format": "something-else"}', "not a microgradtui checkpoint"),
        (b'{"format": "microgradtui-checkpoint", "version": 99}', "version 99 is not supported"),
        (b'{"format": "microgradtui-checkpoint", "version": 1}', "damaged"),
    ],
)
def test_bad_checkpoint_files_are_refused(content: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        checkpoint.load(path)


def test_missing_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such file"):
        checkpoint.load(tmp_path / "nope.json")


def test_a_checkpoint_for_another_architecture_is_refused(tmp_path: Path) -> None:
    trainer = Trainer(TrainConfig())
    path = checkpoint.save(trainer, tmp_path / "run.json")
    payload = json.loads(path.read_text())
    payload["weights"] = payload["weights"][:-3]
    path.write_text(json.dumps(payload))
    with pytest.raises(CheckpointError, match="334 weights but this model has 337"):
        checkpoint.load(path)


def test_saving_into_a_missing_folder_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        checkpoint.save(Trainer(TrainConfig()), tmp_path / "missing" / "run.json")
    assert list(tmp_path.iterdir()) == []


def test_saving_into_a_read_only_folder_keeps_the_previous_file(tmp_path: Path, monkeypatch):
    path = checkpoint.save(Trainer(TrainConfig()), tmp_path / "run.json")
    before = path.read_bytes()

    def read_only(*args, **kwargs):  # what mkstemp does in a folder we may not write in
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fileio.tempfile, "mkstemp", read_only)
    with pytest.raises(CheckpointError, match="cannot write in .*Permission denied"):
        checkpoint.save(Trainer(TrainConfig(seed=3)), path)
    assert path.read_bytes() == before


def test_a_crash_mid_save_leaves_the_previous_file_whole(tmp_path: Path, monkeypatch) -> None:
    path = checkpoint.save(Trainer(TrainConfig()), tmp_path / "run.json")
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # the user hits Ctrl-C while the file is being written

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(Trainer(TrainConfig(seed=3)), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temporary file left
