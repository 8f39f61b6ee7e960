"""The Trainer's tensor engine: the same run as the scalar engine, one node per array.

`TensorRun` holds what the scalar `Trainer` holds for its engine (the model, its parameters and
the optimizer) plus the data as arrays on the device, and does one step on a batch the Trainer
chose: forward, loss (+ L2), backward, update. The same seed draws the same MLP weights, in the
same order, from the same `random.Random`; the losses and update formulas are the scalar ones on
arrays, so both engines give the same losses (to rounding, 1e-9 over 100 steps: tested).
A configuration with `conv` channels builds `tensor_nn.conv_net` on image-shaped inputs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from micrograd import tensor_nn
from micrograd.device import Device, get_device, to_host
from micrograd.tensor import Tensor


def model_sizes(input_dim: int, hidden: Sequence[int], n_out: int) -> list[int]:
    return [input_dim, *hidden, n_out]


def conv_shapes(
    image_shape: Sequence[int], channels: Sequence[int], hidden: Sequence[int], n_out: int
) -> list[tuple[int, ...]]:
    """The parameter shapes of `tensor_nn.conv_net` (K and b of each block, W and b of each
    dense layer), without building it."""
    c, h, w = image_shape
    shapes: list[tuple[int, ...]] = []
    for cout in channels:
        shapes += [(cout, c, 3, 3), (cout,)]
        c, h, w = cout, h // 2, w // 2
    sizes = [c * h * w, *hidden, n_out]
    for nin, nout in zip(sizes, sizes[1:]):
        shapes += [(nin, nout), (nout,)]
    return shapes


def conv_macs(image_shape: Sequence[int] | None, channels: Sequence[int]) -> int:
    """Multiply-adds of the conv blocks of `conv_net` for one sample (3x3, padding 1)."""
    if not channels or image_shape is None:
        return 0
    c, h, w = image_shape
    total = 0
    for cout in channels:
        total += h * w * cout * c * 9
        c, h, w = cout, h // 2, w // 2
    return total


def macs_per_step(
    batch: int, input_dim: int, hidden: Sequence[int], n_out: int, conv_macs: int = 0
) -> int:
    """Multiply-adds of one forward pass over a batch (what `--device auto` weighs); for a
    conv model `input_dim` is the flattened size after the conv blocks."""
    sizes = model_sizes(input_dim, hidden, n_out)
    return batch * (sum(a * b for a, b in zip(sizes, sizes[1:])) + conv_macs)


class TensorRun:
    """The tensor engine's model, optimizer and data (as device arrays) for one Trainer."""

    def __init__(
        self,
        X_train: Sequence[Sequence[float]],
        y_train: Sequence[int],
        n_out: int,
        loss_name: str,
        hidden: Sequence[int],
        activation: str,
        optimizer: str,
        lr: float,
        weight_decay: float,
        seed: int,
        conv: Sequence[int] = (),
        image_shape: Sequence[int] | None = None,
        device: Device | None = None,
        dtype: str = "float64",
    ) -> None:
        self.device = device or get_device("cpu")
        self.dtype = np.dtype(dtype)
        self.loss_name = loss_name
        self.image_shape = tuple(image_shape) if image_shape else None
        self.conv = tuple(conv)
        input_dim = len(X_train[0])
        rng = random.Random(seed)
        if self.conv:
            if self.image_shape is None:
                raise ValueError("a conv model needs the image shape of the inputs")
            self.model = tensor_nn.conv_net(
                self.image_shape, self.conv, hidden, n_out, activation, rng, self.dtype, self.device
            )
        else:
            self.model = tensor_nn.MLP(
                input_dim,
                [*hidden, n_out],
                activation=activation,
                rng=rng,
                dtype=self.dtype,
                device=self.device,
            )
        self.params = self.model.parameters()
        self.optimizer = tensor_nn.make_optimizer(optimizer, self.params, lr, weight_decay)
        self.X_train = self.inputs(X_train)
        self.y_train = self.device.xp.asarray(np.asarray(y_train, dtype=np.int64))
        self.loss = tensor_nn.LOSSES[loss_name]

    def inputs(self, X: Sequence[Sequence[float]] | np.ndarray) -> Tensor:
        """Samples as a constant Tensor on the device: (N, d), or (N, C, H, W) for a conv."""
        a = np.asarray(X, dtype=self.dtype)
        if self.conv and self.image_shape:
            a = a.reshape(len(a), *self.image_shape)
        return Tensor(self.device.xp.asarray(a), requires_grad=False, label="x")

    def step(
        self, indices: Sequence[int] | None, lr: float, alpha: float
    ) -> tuple[float, float, bool, Tensor]:
        """One step on the training samples at `indices` (all: None): (loss, accuracy on the
        batch, non-finite, the loss node). A non-finite loss or gradient skips the update;
        numpy's overflow warnings are silenced (the report says it), as the scalar engine's
        float math gives inf without a word."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._step(indices, lr, alpha)

    def _step(
        self, indices: Sequence[int] | None, lr: float, alpha: float
    ) -> tuple[float, float, bool, Tensor]:
        X, y = self.X_train, self.y_train
        if indices is not None:
            idx = self.device.xp.asarray(np.asarray(indices, dtype=np.int64))
            X = Tensor(X.data[idx], requires_grad=False, label="x")
            y = y[idx]
        outputs = self.model(X)
        loss = self.loss(outputs, y)
        loss.label = "data loss"
        if alpha:
            penalty = tensor_nn.l2(self.params, alpha)
            penalty.label = "L2 penalty"
            loss = loss + penalty
        loss.label = "loss"
        for p in self.params:
            p.grad = None
        loss.backward()
        value = float(loss.data)
        nonfinite = not math.isfinite(value) or not self._all_finite(p.grad for p in self.params)
        if not nonfinite:
            self.optimizer.lr = lr
            self.optimizer.step()
            nonfinite = not self._all_finite(p.data for p in self.params)
        predicted = tensor_nn.predict_classes(self.loss_name, outputs)
        acc = float((predicted == to_host(y)).mean())
        return value, acc, nonfinite, loss

    def _all_finite(self, arrays) -> bool:
        """Every element of every array finite, read back once (one sync on a GPU)."""
        xp = self.device.xp
        flags = [xp.isfinite(a).all() for a in arrays if a is not None]
        return bool(xp.stack(flags).all()) if flags else True

    def outputs(self, X: Sequence[Sequence[float]] | np.ndarray) -> Tensor:
        return self.model(self.inputs(X))

    def evaluate(self, X: Sequence[Sequence[float]], y: Sequence[int]) -> tuple[float, float]:
        """Loss (without L2) and accuracy on (X, y)."""
        labels = self.device.xp.asarray(np.asarray(y, dtype=np.int64))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            outputs = self.outputs(X)
            loss = float(self.loss(outputs, labels).data)
        predicted = tensor_nn.predict_classes(self.loss_name, outputs)
        return loss, float((predicted == np.asarray(y)).mean())

    def predict(self, X: Sequence[Sequence[float]]) -> list[int]:
        return tensor_nn.predict_classes(self.loss_name, self.outputs(X)).tolist()

    # -- weights as one flat list (checkpoints) ------------------------------------------------

    def weights(self) -> list[float]:
        """Every parameter's elements, parameter after parameter, each in C order."""
        return [float(v) for p in self.params for v in to_host(p.data).ravel()]

    def weight_count(self) -> int:
        return sum(p.size for p in self.params)

    def load_weights(self, weights: Sequence[float]) -> None:
        flat = np.asarray(weights, dtype=np.float64)
        start = 0
        for p in self.params:
            part = flat[start : start + p.size].reshape(p.shape)
            p.data = self.device.xp.asarray(part, dtype=self.dtype)
            p.grad = None
            start += p.size
        for name in self.optimizer._buffers:  # a fresh optimizer state: loaded next, if saved
            setattr(self.optimizer, name, [p.data * 0 for p in self.params])

    def describe(self) -> str:
        return repr(self.model)


def host_weights(run: TensorRun) -> list[Any]:
    return [to_host(p.data) for p in run.params]
