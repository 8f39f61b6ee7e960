"""Optimizers that update `Value` parameters in place from their `.grad`, and lr schedules.

The update rules follow PyTorch's (so numbers can be checked against it), with g = p.grad:

    SGD        g += wd * p;  v = momentum * v + g;  p -= lr * v     (v = g when momentum = 0)
    Adam       g += wd * p;  m = b1*m + (1-b1)*g;  s = b2*s + (1-b2)*g*g;
               p -= lr * (m / (1 - b1**t)) / (sqrt(s / (1 - b2**t)) + eps)
    AdamW      p -= lr * wd * p  (decoupled decay), then Adam with g = p.grad

`lr` is a plain attribute: set it between any two steps and the next `step()` uses it. The
state (`state_dict()`) is plain JSON: numbers, lists of floats and a step counter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from micrograd.engine import Value
from micrograd.settings import check_number

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
SCHEDULES = ("constant", "linear", "step", "cosine")


class Optimizer:
    """Holds the parameters, the learning rate and the weight decay; subclasses define step()."""

    kind = "optimizer"
    _buffers: tuple[str, ...] = ()

    def __init__(self, params: Sequence[Value], lr: float, weight_decay: float = 0.0) -> None:
        params = list(params)
        if not params:
            raise ValueError("the optimizer got no parameters")
        seen: dict[int, int] = {}
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise ValueError(f"parameter {i} is a {type(p).__name__}, not a Value")
            if id(p) in seen:
                raise ValueError(f"parameter {i} is the same Value as parameter {seen[id(p)]}")
            seen[id(p)] = i
        self.params = params
        self.lr = check_number("lr", lr, low=0.0, low_open=True)
        self.weight_decay = check_number("weight_decay", weight_decay, low=0.0)
        self.steps = 0

    def zero_grad(self) -> None:
        """p.grad = 0 for every parameter."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError

    def _current_lr(self) -> float:
        """`lr` as it is now, checked: it may have been changed since the last step."""
        return check_number("lr", self.lr, low=0.0, low_open=True)

    # -- state -----------------------------------------------------------------------------

    def _hyper(self) -> dict[str, Any]:
        return {"lr": self.lr, "weight_decay": self.weight_decay}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: hyperparameters, step count, buffers."""
        state: dict[str, Any] = {"type": self.kind, "step": self.steps, **self._hyper()}
        for name in self._buffers:
            state[name] = list(getattr(self, name))
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()`; checks everything first, so a bad dict changes nothing."""
        if not isinstance(state, dict):
            raise ValueError(f"optimizer state must be a dict, got {type(state).__name__}")
        if state.get("type") != self.kind:
            raise ValueError(
                f"optimizer state is for {state.get('type')!r}, this optimizer is {self.kind!r}"
            )
        expected = {"type", "step", *self._hyper(), *self._buffers}
        missing = sorted(expected - set(state))
        extra = sorted(set(state) - expected)
        if missing or extra:
            raise ValueError(f"optimizer state: missing keys {missing}, unknown keys {extra}")
        steps = state["step"]
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"optimizer state: step must be an int >= 0, got {steps!r}")
        hyper = self._check_hyper(state)
        buffers = {}
        for name in self._buffers:
            buf = state[name]
            if not isinstance(buf, list) or len(buf) != len(self.params):
                size = len(buf) if isinstance(buf, list) else type(buf).__name__
                raise ValueError(
                    f"optimizer state: {name} must be a list of {len(self.params)} numbers "
                    f"(one per parameter), got {size}"
                )
            for i, v in enumerate(buf):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ValueError(f"optimizer state: {name}[{i}] is not a number: {v!r}")
            buffers[name] = [float(v) for v in buf]
        for key, value in hyper.items():
            setattr(self, key, value)
        for name, buf in buffers.items():
            setattr(self, name, buf)
        self.steps = steps

    def _check_hyper(self, state: dict[str, Any]) -> dict[str, Any]:
        return {
            "lr": check_number("lr", state["lr"], low=0.0, low_open=True),
            "weight_decay": check_number("weight_decay", state["weight_decay"], low=0.0),
        }

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's form).

    g = grad + wd * p;  v = momentum * v + g;  p -= lr * v.  With momentum 0 this is
    Karpathy's `p.data -= learning_rate * p.grad`.
    """

    kind = "sgd"
    _buffers = ("velocity",)

    def __init__(
        self,
        params: Sequence[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = check_number("momentum", momentum, low=0.0, high=1.0, high_open=True)
        self.velocity = [0.0] * len(self.params)

    def step(self) -> None:
        lr, wd, mu = self._current_lr(), self.weight_decay, self.momentum
        velocity = self.velocity
        for i, p in enumerate(self.params):
            g = p.grad + wd * p.data if wd else p.grad
            if mu:
                g = mu * velocity[i] + g
                velocity[i] = g
            p.data -= lr * g
        self.steps += 1

    def _hyper(self) -> dict[str, Any]:
        return {**super()._hyper(), "momentum": self.momentum}

    def _check_hyper(self, state: dict[str, Any]) -> dict[str, Any]:
        return {
            **super()._check_hyper(state),
            "momentum": check_number(
                "momentum", state["momentum"], low=0.0, high=1.0, high_open=True
            ),
        }


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction; weight_decay is L2 added to the gradient.

    m = b1*m + (1-b1)*g;  s = b2*s + (1-b2)*g**2;  p -= lr * m_hat / (sqrt(s_hat) + eps),
    m_hat = m / (1 - b1**t), s_hat = s / (1 - b2**t), t the step number from 1.
    """

    kind = "adam"
    _buffers = ("m", "v")
    _decoupled = False

    def __init__(
        self,
        params: Sequence[Value],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.betas = self._check_betas(betas)
        self.eps = check_number("eps", eps, low=0.0, low_open=True)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    @staticmethod
    def _check_betas(betas: object) -> tuple[float, float]:
        if not isinstance(betas, (list, tuple)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (b1, b2), got {betas!r}")
        return (
            check_number("betas[0]", betas[0], low=0.0, high=1.0, high_open=True),
            check_number("betas[1]", betas[1], low=0.0, high=1.0, high_open=True),
        )

    def step(self) -> None:
        lr, wd, eps = self._current_lr(), self.weight_decay, self.eps
        b1, b2 = self.betas
        t = self.steps + 1
        correction1 = 1.0 - b1**t
        correction2 = 1.0 - b2**t
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            g = p.grad
            if wd:
                if self._decoupled:
                    p.data -= lr * wd * p.data
                else:
                    g = g + wd * p.data
            m[i] = b1 * m[i] + (1.0 - b1) * g
            v[i] = b2 * v[i] + (1.0 - b2) * g * g
            p.data -= lr * (m[i] / correction1) / (math.sqrt(v[i] / correction2) + eps)
        self.steps = t

    def _hyper(self) -> dict[str, Any]:
        return {**super()._hyper(), "betas": list(self.betas), "eps": self.eps}

    def _check_hyper(self, state: dict[str, Any]) -> dict[str, Any]:
        return {
            **super()._check_hyper(state),
            "betas": self._check_betas(state["betas"]),
            "eps": check_number("eps", state["eps"], low=0.0, low_open=True),
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p -= lr * wd * p, then Adam on
    the plain gradient, so the decay does not pass through the adaptive scaling."""

    kind = "adamw"
    _decoupled = True


def make_optimizer(
    name: str, params: Sequence[Value], lr: float, weight_decay: float = 0.0
) -> Optimizer:
    """An optimizer by name: sgd, momentum (SGD with momentum 0.9), adam, adamw."""
    if name == "sgd":
        return SGD(params, lr, weight_decay=weight_decay)
    if name == "momentum":
        return SGD(params, lr, momentum=0.9, weight_decay=weight_decay)
    if name == "adam":
        return Adam(params, lr, weight_decay=weight_decay)
    if name == "adamw":
        return AdamW(params, lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def schedule_factor(name: str, step: int, total_steps: int) -> float:
    """The multiplier in (0, 1] applied to the base lr at `step` (0-based) of `total_steps`.

    constant: 1
    linear:   max(0.1, 1 - 0.9 * step / total)   (Karpathy's demo; 0.1 from the end on)
    step:     0.5 ** (step // max(1, total // 4)), halved at most 4 times (floor 1/16)
    cosine:   0.1 + 0.9 * (1 + cos(pi * min(step, total) / total)) / 2
    """
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"schedule step must be an int >= 0, got {step!r}")
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"schedule total_steps must be an int >= 1, got {total_steps!r}")
    if name == "constant":
        return 1.0
    if name == "linear":
        return max(0.1, 1.0 - 0.9 * step / total_steps)
    if name == "step":
        return 0.5 ** min(4, step // max(1, total_steps // 4))
    return 0.1 + 0.9 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps)) / 2.0
