"""Where a tensor's arrays live: the array module of a device.

`cpu` is numpy; `cuda` is CuPy (the optional `gpu` extra), which offers numpy's API on an NVIDIA
GPU, so the tensor engine's rules are written once against `xp` and run on both. `auto` picks
`cuda` when CuPy and a GPU are there and the model is large enough to gain from it (a tiny
model's step is Python overhead and kernel launches: faster on the CPU), else `cpu`.

Everything that leaves a training process (reports, graph snapshots, checkpoints) is host data:
`to_host` copies an array back once, whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

DEVICES = ("cpu", "cuda", "auto")
# `auto` chooses the GPU from about this many multiply-adds per step (weights x batch): below
# it, a step is bound by Python and kernel-launch overhead, which a GPU does not shorten.
AUTO_GPU_MIN_MACS = 50_000_000


class DeviceError(ValueError):
    """A device that cannot be used here; the message says why in one line."""


@dataclass(frozen=True)
class Device:
    """A device's name and its array module (numpy or cupy)."""

    name: str
    xp: ModuleType

    def __repr__(self) -> str:
        return f"Device({self.name!r})"


def _numpy() -> ModuleType:
    import numpy

    return numpy


def cuda_problem() -> str | None:
    """Why `cuda` cannot be used here (one sentence), or None when CuPy sees a GPU."""
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed: pip install 'microgradtui[gpu]' (CUDA 12) or '[gpu-cuda13]'"
    except Exception as exc:  # a broken CUDA install fails at import with its own error
        return f"CuPy cannot load: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return f"CuPy finds no usable GPU ({str(exc).splitlines()[0] if str(exc) else exc!r})"
    if count < 1:
        return "CuPy finds no GPU on this machine"
    return None


def get_device(name: str = "cpu", macs_per_step: int | None = None) -> Device:
    """The device `name` (cpu, cuda or auto); DeviceError if `cuda` cannot run here.

    For `auto`, `macs_per_step` (multiply-adds of one training step) decides: the GPU from
    AUTO_GPU_MIN_MACS on, when there is one.
    """
    if name == "cpu":
        return Device("cpu", _numpy())
    if name == "cuda":
        problem = cuda_problem()
        if problem is not None:
            raise DeviceError(f"--device cuda: {problem}")
        import cupy

        return Device("cuda", cupy)
    if name == "auto":
        large = macs_per_step is not None and macs_per_step >= AUTO_GPU_MIN_MACS
        if large and cuda_problem() is None:
            return get_device("cuda")
        return Device("cpu", _numpy())
    raise DeviceError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")


def auto_reason(device: Device, macs_per_step: int | None) -> str:
    """One line saying what `auto` chose and why."""
    macs = f"{macs_per_step:,}" if macs_per_step is not None else "unknown"
    if device.name == "cuda":
        return f"device auto: cuda ({macs} multiply-adds a step is enough to gain on a GPU)"
    problem = cuda_problem()
    if problem is not None:
        return f"device auto: cpu ({problem})"
    return (
        f"device auto: cpu ({macs} multiply-adds a step is below {AUTO_GPU_MIN_MACS:,}: "
        "Python overhead dominates, a GPU would be slower)"
    )


def array_module(array: object) -> ModuleType:
    """numpy or cupy, whichever `array` belongs to."""
    if type(array).__module__.startswith("cupy"):
        import cupy

        return cupy
    return _numpy()


def to_host(array: object):
    """`array` as a numpy array (one copy from a GPU; numpy arrays are returned as they are)."""
    if type(array).__module__.startswith("cupy"):
        return array.get()  # type: ignore[attr-defined]
    return _numpy().asarray(array)
