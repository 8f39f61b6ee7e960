"""Layers, losses and optimizers on `Tensor`: the tensor engine's counterpart of nn, losses and
optim.

- Layers: `Linear`, `Conv2d`, `MaxPool2d`, `Flatten`, `Activation`, `Sequential`, and `MLP`,
  whose weights are drawn from the same `random.Random` in the same order as the scalar `MLP`
  (neuron by neuron, uniform(-1, 1), biases 0), so the same seed gives the same network in both
  engines. A Linear layer's weight is stored (nin, nout), so its forward is one `x @ W + b` node.
- Losses: the scalar losses' math on a batch (hinge, mse, bce, softmax cross-entropy, l2), each
  the mean over the samples, with the same labels convention (ints; binary losses read one
  score per sample, t = 2*label - 1 for hinge and mse, t = label for bce).
- Optimizers: subclasses of the scalar ones (same hyperparameters, checks, state layout and
  update formulas), whose step runs the formula on whole arrays.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from micrograd import optim
from micrograd.device import Device, get_device, to_host
from micrograd.nn import layer_activations
from micrograd.tensor import (
    ShapeError,
    Tensor,
    check_labels,
    conv2d,
    linear,
    max_pool2d,
    sumsq,
    xp_of,
)

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


class Module:
    """Anything with parameters (Tensors), named for display."""

    def parameters(self) -> list[Tensor]:
        return []

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        return [(p.label, p) for p in self.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def __call__(self, x: Tensor) -> Tensor:
        raise NotImplementedError


def _param(xp: Any, values: Any, dtype: Any, label: str) -> Tensor:
    return Tensor(xp.asarray(np.asarray(values, dtype=np.float64), dtype=dtype), label=label)


class Linear(Module):
    """act(x @ W + b): x (N, nin), W (nin, nout), b (nout,).

    Weights uniform(-1, 1), drawn neuron by neuron (W[:, j] is neuron j's), as the scalar
    Layer draws them; `init="scaled"` draws uniform(-1/sqrt(nin), 1/sqrt(nin)) instead (better
    for wide inputs: PyTorch's default range).
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "linear",
        rng: random.Random | None = None,
        name: str = "L",
        init: str = "uniform",
        dtype: Any = np.float64,
        device: Device | None = None,
    ) -> None:
        if nin < 1 or nout < 1:
            raise ValueError(f"Linear needs positive sizes, got nin={nin}, nout={nout}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {ACTIVATIONS}")
        uniform = (rng or random).uniform
        bound = 1.0 if init == "uniform" else 1.0 / math.sqrt(nin)
        rows = [[uniform(-1, 1) * bound for _ in range(nin)] for _ in range(nout)]
        xp = (device or get_device("cpu")).xp
        self.W = _param(xp, np.asarray(rows).T.copy(), dtype, f"{name}.W")
        self.b = _param(xp, np.zeros(nout), dtype, f"{name}.b")
        self.activation = activation
        self.name = name

    def __call__(self, x: Tensor | Any) -> Tensor:
        out = linear(x, self.W, self.b)
        out.label = self.name
        return _activate(out, self.activation)

    def parameters(self) -> list[Tensor]:
        return [self.W, self.b]

    def __repr__(self) -> str:
        nin, nout = self.W.shape
        return f"Linear({nin}, {nout}, {self.activation})"


class Conv2d(Module):
    """act(conv2d(x, K) + b), K (cout, cin, k, k); weights uniform(+-1/sqrt(cin*k*k))."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int = 3,
        stride: int = 1,
        padding: int = 0,
        activation: str = "linear",
        rng: random.Random | None = None,
        name: str = "C",
        dtype: Any = np.float64,
        device: Device | None = None,
    ) -> None:
        if min(cin, cout, kernel, stride) < 1 or padding < 0:
            raise ValueError(
                f"Conv2d needs positive sizes, got cin={cin}, cout={cout}, kernel={kernel}"
            )
        uniform = (rng or random).uniform
        bound = 1.0 / math.sqrt(cin * kernel * kernel)
        n = cout * cin * kernel * kernel
        values = np.asarray([uniform(-bound, bound) for _ in range(n)])
        xp = (device or get_device("cpu")).xp
        self.K = _param(xp, values.reshape(cout, cin, kernel, kernel), dtype, f"{name}.K")
        self.b = _param(xp, np.zeros(cout), dtype, f"{name}.b")
        self.stride, self.padding, self.activation, self.name = stride, padding, activation, name

    def __call__(self, x: Tensor | Any) -> Tensor:
        out = conv2d(x, self.K, self.b, self.stride, self.padding)
        out.label = self.name
        return _activate(out, self.activation)

    def parameters(self) -> list[Tensor]:
        return [self.K, self.b]

    def __repr__(self) -> str:
        cout, cin, k, _ = self.K.shape
        return f"Conv2d({cin}, {cout}, {k}x{k}, stride {self.stride}, padding {self.padding})"


class MaxPool2d(Module):
    def __init__(self, kernel: int = 2, stride: int | None = None) -> None:
        self.kernel, self.stride = kernel, stride

    def __call__(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel, self.stride)

    def __repr__(self) -> str:
        return f"MaxPool2d({self.kernel})"


class Flatten(Module):
    def __call__(self, x: Tensor) -> Tensor:
        return x.flatten(1)

    def __repr__(self) -> str:
        return "Flatten()"


class Activation(Module):
    def __init__(self, name: str) -> None:
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; choose one of {ACTIVATIONS}")
        self.name = name

    def __call__(self, x: Tensor) -> Tensor:
        return _activate(x, self.name)

    def __repr__(self) -> str:
        return f"Activation({self.name})"


def _activate(x: Tensor, name: str) -> Tensor:
    if name == "relu":
        return x.relu()
    if name == "tanh":
        return x.tanh()
    if name == "sigmoid":
        return x.sigmoid()
    return x


class Sequential(Module):
    """Layers applied in order."""

    def __init__(self, *layers: Module) -> None:
        self.layers = list(layers)

    def __call__(self, x: Tensor | Any) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Tensor]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"Sequential({', '.join(map(repr, self.layers))})"


class MLP(Sequential):
    """The scalar `MLP` on arrays: same arguments, same weights for the same rng or seed."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | Sequence[str] = "relu",
        output_activation: str = "linear",
        rng: random.Random | None = None,
        seed: int | None = None,
        dtype: Any = np.float64,
        device: Device | None = None,
    ) -> None:
        if nin < 1 or not nouts or any(n < 1 for n in nouts):
            raise ValueError(f"MLP needs positive sizes, got nin={nin}, nouts={list(nouts)}")
        if rng is None and seed is not None:
            rng = random.Random(seed)
        acts = layer_activations(activation, output_activation, len(nouts))
        sizes = [nin, *nouts]
        super().__init__(
            *(
                Linear(sizes[i], sizes[i + 1], acts[i], rng, f"L{i}", dtype=dtype, device=device)
                for i in range(len(nouts))
            )
        )


def conv_net(
    image_shape: Sequence[int],
    channels: Sequence[int],
    hidden: Sequence[int],
    n_out: int,
    activation: str = "relu",
    rng: random.Random | None = None,
    dtype: Any = np.float64,
    device: Device | None = None,
) -> Sequential:
    """Blocks of 3x3 conv (padding 1) + activation + 2x2 max-pool, one per entry of
    `channels`, then Flatten and an MLP of `hidden` layers (scaled init) and `n_out` outputs."""
    c, h, w = image_shape
    layers: list[Module] = []
    for i, cout in enumerate(channels):
        if h < 2 or w < 2:
            raise ShapeError(
                f"conv: {len(channels)} pooling blocks do not fit a {image_shape[1]}x"
                f"{image_shape[2]} image (each halves it)"
            )
        layers.append(Conv2d(c, cout, 3, 1, 1, activation, rng, f"C{i}", dtype, device))
        layers.append(MaxPool2d(2))
        c, h, w = cout, h // 2, w // 2
    layers.append(Flatten())
    sizes = [c * h * w, *hidden, n_out]
    acts = [activation] * len(hidden) + ["linear"]
    for i in range(len(sizes) - 1):
        layers.append(
            Linear(sizes[i], sizes[i + 1], acts[i], rng, f"L{i}", "scaled", dtype, device)
        )
    return Sequential(*layers)


# -- losses -----------------------------------------------------------------------------------


def _scores(name: str, outputs: Tensor, n: int) -> Tensor:
    if outputs.shape not in ((n,), (n, 1)):
        raise ShapeError(f"{name}: a binary loss takes one output per sample, got {outputs.shape}")
    return outputs.reshape(n) if outputs.ndim == 2 else outputs


def _labels(name: str, xp: Any, labels: Any, n_outputs: int, n_classes: int) -> Any:
    y = xp.asarray(labels)
    if y.shape != (n_outputs,):
        raise ShapeError(f"{name}: {n_outputs} outputs but labels of shape {tuple(y.shape)}")
    if n_outputs == 0:
        raise ShapeError(f"{name}: no samples (the mean of an empty batch is undefined)")
    check_labels(name, y, n_classes)
    return y


def _sign(xp: Any, y: Any, dtype: Any) -> Any:
    return (2 * y - 1).astype(dtype)


def hinge(outputs: Tensor, labels: Any) -> Tensor:
    """mean relu(1 - t*s), t = 2*label - 1; dL/ds = -t/N where the margin is positive"""
    xp = _xp(outputs)
    y = _labels("hinge", xp, labels, len(outputs), 2)
    s = _scores("hinge", outputs, len(y))
    return (1.0 - s * _sign(xp, y, s.dtype)).relu().mean()


def mse(outputs: Tensor, labels: Any) -> Tensor:
    """mean (s - t)**2, t = 2*label - 1; dL/ds = 2(s - t)/N"""
    xp = _xp(outputs)
    y = _labels("mse", xp, labels, len(outputs), 2)
    s = _scores("mse", outputs, len(y))
    return ((s - _sign(xp, y, s.dtype)) ** 2).mean()


def sse(outputs: Tensor, labels: Any) -> Tensor:
    """sum (s - t)**2, t = 2*label - 1 (the lecture's loss); dL/ds = 2(s - t)"""
    xp = _xp(outputs)
    y = _labels("sse", xp, labels, len(outputs), 2)
    s = _scores("sse", outputs, len(y))
    return ((s - _sign(xp, y, s.dtype)) ** 2).sum()


def bce(outputs: Tensor, labels: Any) -> Tensor:
    """mean softplus(s) for label 0, softplus(-s) for label 1 (cross-entropy of the logit s);
    dL/ds = (sigmoid(s) - label)/N"""
    xp = _xp(outputs)
    y = _labels("bce", xp, labels, len(outputs), 2)
    s = _scores("bce", outputs, len(y))
    return (s * (1 - 2 * y).astype(s.dtype)).softplus().mean()


def softmax_cross_entropy(outputs: Tensor, labels: Any) -> Tensor:
    """mean -log softmax(s)_y over the rows of s (N, k); dL/ds = (softmax(s) - onehot(y))/N"""
    if outputs.ndim != 2 or outputs.shape[1] < 2:
        raise ShapeError(f"softmax_cross_entropy: needs (N, k >= 2) outputs, got {outputs.shape}")
    y = _labels("softmax_cross_entropy", _xp(outputs), labels, len(outputs), outputs.shape[1])
    return -outputs.log_softmax(axis=1).gather(y).mean()


def l2(params: Sequence[Tensor], alpha: float) -> Tensor:
    """alpha * sum(p*p) over every parameter, one sumsq node and one product"""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise ValueError(f"l2: alpha must be a number, got {alpha!r}")
    if not (math.isfinite(alpha) and alpha >= 0.0):
        raise ValueError(f"l2: alpha must be a finite number >= 0, got {alpha!r}")
    return sumsq(params) * float(alpha)


def _xp(t: Tensor) -> Any:
    return xp_of(t.data)


LOSSES: dict[str, Callable[[Tensor, Any], Tensor]] = {
    "hinge": hinge,
    "mse": mse,
    "sse": sse,
    "bce": bce,
    "softmax": softmax_cross_entropy,
}


def predict_classes(name: str, outputs: Any) -> np.ndarray:
    """The class of each output row (host ints): binary losses s > 0, softmax the argmax
    (ties to the lowest class), as `losses.predict_class` decides for one sample."""
    a = to_host(outputs.data if isinstance(outputs, Tensor) else outputs)
    if name == "softmax":
        return a.argmax(axis=1)
    return (a.reshape(len(a)) > 0).astype(np.int64)


# -- optimizers: the scalar ones' hyperparameters, checks and state, on arrays ------------------


class _OnArrays:
    """What a scalar optimizer needs to hold Tensors: array buffers and their JSON form (nested
    lists). Everything else (the parameter and hyperparameter checks, the state's layout) is
    the scalar class's own, so both engines accept and refuse the same values."""

    params: list[Tensor]
    _buffers: tuple[str, ...]
    _param_type = Tensor

    def _array_buffers(self) -> None:
        for name in self._buffers:
            setattr(self, name, [_zeros(p) for p in self.params])

    def step(self) -> None:
        """The scalar optimizer's own step, its formula run on whole arrays (in place on each
        parameter's data). A parameter no gradient reached gets a zero one first, as the
        scalar engine's grad is 0.0 then."""
        for p in self.params:
            if p.grad is None:
                p.grad = _zeros(p)
        super().step()  # type: ignore[misc]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()  # type: ignore[misc]
        for name in self._buffers:
            state[name] = [to_host(b).tolist() for b in getattr(self, name)]
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()`: the buffers' shapes are checked here, everything else by
        the scalar optimizer; a bad dict changes nothing."""
        buffers: dict[str, list[Any]] = {}
        placeholder = dict(state) if isinstance(state, dict) else state
        for name in self._buffers if isinstance(state, dict) else ():
            raw = state.get(name)
            if not isinstance(raw, list) or len(raw) != len(self.params):
                continue  # the scalar check below names the problem
            arrays = []
            for i, (value, p) in enumerate(zip(raw, self.params)):
                try:
                    a = np.asarray(value, dtype=np.float64)
                except (TypeError, ValueError):
                    raise ValueError(
                        f"optimizer state: {name}[{i}] is not an array of numbers"
                    ) from None
                if a.shape != p.shape:
                    raise ValueError(
                        f"optimizer state: {name}[{i}] has shape {a.shape}, the parameter {p.shape}"
                    )
                arrays.append(_like(p, a))
            buffers[name] = arrays
            placeholder[name] = [0.0] * len(self.params)
        super().load_state_dict(placeholder)  # type: ignore[misc]
        for name, arrays in buffers.items():
            setattr(self, name, arrays)


def _zeros(p: Tensor) -> Any:
    return xp_of(p.data).zeros_like(p.data)


def _like(p: Tensor, values: np.ndarray) -> Any:
    return xp_of(p.data).asarray(values, dtype=p.data.dtype)


class SGD(_OnArrays, optim.SGD):
    """`optim.SGD` on Tensors: g = grad + wd * p;  v = momentum * v + g;  p -= lr * v."""

    def __init__(
        self, params: Sequence[Tensor], lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, lr, momentum, weight_decay)  # type: ignore[arg-type]
        self._array_buffers()


class Adam(_OnArrays, optim.Adam):
    """`optim.Adam` on Tensors (bias-corrected; L2 weight decay added to the gradient)."""

    _sqrt = staticmethod(np.sqrt)  # CuPy arrays too (numpy dispatches its ufuncs to them)

    def __init__(
        self,
        params: Sequence[Tensor],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)  # type: ignore[arg-type]
        self._array_buffers()


class AdamW(Adam):
    """`optim.AdamW` on Tensors: p -= lr * wd * p, then Adam on the plain gradient."""

    kind = "adamw"
    _decoupled = True


def make_optimizer(
    name: str, params: Sequence[Tensor], lr: float, weight_decay: float = 0.0
) -> optim.Optimizer:
    """An optimizer by name, as `optim.make_optimizer`: sgd, momentum (0.9), adam, adamw."""
    return optim.make_optimizer(name, params, lr, weight_decay, (SGD, Adam, AdamW))  # type: ignore[arg-type]
