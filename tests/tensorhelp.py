"""Helpers for the tensor tests: the backends present, and a central-difference gradient check."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from micrograd.device import cuda_problem, get_device
from micrograd.tensor import Tensor

_CUDA_PROBLEM = cuda_problem()

# Every array module the tensor engine can run on here: numpy always, CuPy where a GPU is.
BACKENDS = [
    pytest.param("cpu", id="numpy"),
    pytest.param(
        "cuda",
        id="cupy",
        marks=pytest.mark.skipif(
            _CUDA_PROBLEM is not None, reason=f"no CuPy backend here: {_CUDA_PROBLEM}"
        ),
    ),
]


def xp_of(device: str):
    return get_device(device).xp


def host(a) -> np.ndarray:
    return a.get() if hasattr(a, "get") else np.asarray(a)


def check_gradients(
    f: Callable[..., Tensor],
    arrays: Sequence[np.ndarray],
    device: str = "cpu",
    h: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    seed: int = 0,
) -> None:
    """f's gradient for each input against central differences of L = sum(f(...) * R), with R
    a fixed random array (so every output element matters with its own weight)."""
    xp = xp_of(device)
    inputs = [Tensor(xp.asarray(a, dtype=np.float64)) for a in arrays]
    out = f(*inputs)
    r = np.random.default_rng(seed).uniform(0.5, 1.5, size=out.shape)
    out.backward(xp.asarray(r))

    def loss(values: list[np.ndarray]) -> float:
        res = f(*[Tensor(xp.asarray(v), requires_grad=False) for v in values])
        return float((host(res.data) * r).sum())

    base = [np.array(a, dtype=np.float64) for a in arrays]
    for k, a in enumerate(base):
        numeric = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + h
            up = loss(base)
            a[i] = old - h
            down = loss(base)
            a[i] = old
            numeric[i] = (up - down) / (2 * h)
        grad = inputs[k].grad
        analytic = np.zeros_like(a) if grad is None else host(grad)
        assert analytic.shape == a.shape, f"input {k}: grad shape {analytic.shape} != {a.shape}"
        np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol, err_msg=f"input {k}")
