"""The command line on the tensor engine: --engine, --conv, --image-shape, --device, --dtype."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import run

from micrograd.device import cuda_problem

NO_CUDA = cuda_problem()


def test_headless_tensor_engine_trains_digits_with_a_conv_model(capsys) -> None:
    status, out, err = run(
        [
            "--headless", "--engine", "tensor", "--dataset", "digits", "--samples", "300",
            "--test-fraction", "0.2", "--conv", "4", "--hidden", "16", "--optimizer", "adam",
            "--lr", "0.01", "--batch-size", "64", "--steps", "60", "--every", "30",
            "--dtype", "float32",
        ],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("training digits (240 train, 60 test), conv 4 on 1x8x8, 64-16-10")
    assert lines[0].endswith("tensor engine on cpu (float32) for 60 steps")
    test_acc = float(lines[-1].split("test accuracy ")[1].rstrip("%"))
    assert test_acc >= 80.0


def test_the_same_run_on_both_engines_prints_the_same_losses(capsys) -> None:
    argv = ["--headless", "--steps", "40", "--every", "10", "--hidden", "6"]
    _, scalar, _ = run(argv, capsys)
    _, tensor, _ = run([*argv, "--engine", "tensor"], capsys)

    def losses(out: str) -> list[str]:
        return [line.split()[3] for line in out.splitlines() if line.startswith("step ")]

    assert losses(scalar) == losses(tensor) and len(losses(scalar)) == 4


def test_tensor_save_load_and_export_dot(tmp_path: Path, capsys) -> None:
    path, dot = tmp_path / "run.json", tmp_path / "graph.dot"
    argv = ["--headless", "--engine", "tensor", "--optimizer", "momentum", "--lr", "0.05"]
    status, out, err = run([*argv, "--steps", "5", "--save", str(path)], capsys)
    assert status == 0, err
    status, out, err = run(
        ["--headless", "--load", str(path), "--steps", "3", "--export-dot", str(dot)], capsys
    )
    assert status == 0, err
    assert json.loads(path.read_text())["config"]["engine"] == "tensor"
    text = dot.read_text()
    assert text.startswith("digraph") and "linear 100x16" in text and "sumsq" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--device", "cuda"], "device cuda needs the tensor engine"),
        (["--conv", "8"], "conv 8 needs the tensor engine"),
        (["--engine", "tensor", "--conv", "8"], "--image-shape: conv layers need the image shape"),
        (
            ["--engine", "tensor", "--dataset", "digits", "--image-shape", "2,5,5"],
            "--image-shape: an image of shape 2,5,5 has 50 pixels, but the data has 64",
        ),
        (["--engine", "tensor", "--conv", "8,x"], "--conv: must be whole numbers >= 1 and <= 256"),
        (["--engine", "tensor", "--conv", "1,2,3,4,5"], "--conv: must be at most 4 conv blocks"),
        (["--engine", "tensor", "--conv", "300"], "--conv: must be at most 4 conv blocks of at"),
        (
            ["--engine", "tensor", "--image-shape", "8"],
            "--image-shape: the image shape must be C,H,W",
        ),
        (
            ["--engine", "tensor", "--image-shape", "1,2,3,4"],
            "--image-shape: must be at most 3 sizes,",
        ),
        (["--engine", "gpu"], "--engine: invalid choice"),
    ],
)
def test_bad_tensor_options_exit_2_with_one_line(argv, message, capsys) -> None:
    status, out, err = run(["--headless", *argv], capsys)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert message in err and err.startswith("microgradtui: error: ")


@pytest.mark.skipif(NO_CUDA is None, reason="CuPy and a GPU are here: the refusal cannot happen")
def test_device_cuda_without_cupy_or_a_gpu_says_so_and_exits_2(capsys) -> None:
    status, out, err = run(["--headless", "--engine", "tensor", "--device", "cuda"], capsys)
    assert status == 2 and out == ""
    assert err == f"microgradtui: error: --device cuda: {NO_CUDA}\n"


def test_device_auto_says_what_it_chose(capsys) -> None:
    status, out, err = run(
        ["--headless", "--engine", "tensor", "--device", "auto", "--steps", "2"], capsys
    )
    assert status == 0, err
    note = out.splitlines()[1]
    assert note.startswith("device auto: cpu (")  # the moons demo is far too small to gain


def test_the_app_takes_the_tensor_engine(tmp_path: Path, capsys) -> None:
    """It gets past the engine to the terminal check (no terminal under pytest), for a new run
    and for a tensor checkpoint; the Pilot tests drive the app itself."""
    status, out, err = run(["--engine", "tensor", "--dataset", "digits"], capsys)
    assert status == 2 and "no terminal to draw on" in err
    path = tmp_path / "run.json"
    run(["--headless", "--engine", "tensor", "--steps", "2", "--save", str(path)], capsys)
    for option in ("--load", "--replay"):
        status, out, err = run([option, str(path)], capsys)
        assert status == 2 and "no terminal to draw on" in err, err


@pytest.mark.skipif(NO_CUDA is None, reason="CuPy and a GPU are here: the refusal cannot happen")
def test_a_checkpoint_saved_on_cuda_continues_on_the_cpu(tmp_path: Path, capsys) -> None:
    path = tmp_path / "run.json"
    run(["--headless", "--engine", "tensor", "--steps", "2", "--save", str(path)], capsys)
    saved = json.loads(path.read_text())
    saved["config"]["device"] = "cuda"  # as a GPU machine writes it
    path.write_text(json.dumps(saved))
    status, out, err = run(["--headless", "--load", str(path), "--steps", "1"], capsys)
    assert status == 2 and "--device cpu" in err and len(err.splitlines()) == 1
    status, out, err = run(
        ["--headless", "--load", str(path), "--steps", "1", "--device", "cpu"], capsys
    )
    assert status == 0, err
    assert "tensor engine on cpu" in out


def test_csv_images_train_a_conv_model_with_image_shape(tmp_path: Path, capsys) -> None:
    """A CSV of 4x4 images (16 pixel columns, the label last): bright left or right half."""
    import random

    rng = random.Random(0)
    rows = []
    for i in range(40):
        label = i % 2
        pixels = [
            (1.0 if (col >= 2) == bool(label) else 0.0) + rng.uniform(-0.2, 0.2)
            for _ in range(4)
            for col in range(4)
        ]
        rows.append(",".join(f"{p:.3f}" for p in pixels) + f",{'right' if label else 'left'}")
    path = tmp_path / "images.csv"
    path.write_text("\n".join(rows) + "\n")
    argv = ["--headless", "--engine", "tensor", "--csv", str(path), "--conv", "2", "--steps", "40"]
    status, out, err = run([*argv, "--image-shape", "4,4", "--hidden", "4", "--lr", "0.1"], capsys)
    assert status == 0, err
    assert "conv 2 on 1x4x4, 8-4-1" in out.splitlines()[0]
    assert float(out.splitlines()[-1].split("train accuracy ")[1].rstrip("%")) >= 90.0
    status, out, err = run([*argv, "--image-shape", "3,5"], capsys)
    assert status == 2 and "has 15 pixels, but the data has 16 inputs" in err
