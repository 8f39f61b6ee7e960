"""A tensor-valued reverse-mode autograd engine: `Value`'s principles, one node per array.

A `Tensor` holds an array (`data`, numpy on the CPU or CuPy on a GPU: see `micrograd.device`),
its gradient (`grad`, None until a backward pass reaches it), its operands as an ordered tuple
and the name of the op that made it, plus a small `ctx` tuple of what that op's rule needs (an
axis, a stride, a mask). There is no closure per node: the vector-Jacobian rule of every op
lives in one table, `RULES`, as tinygrad keeps its derivative rules, so a graph holds no
reference cycles and is freed by reference counting alone. Each rule takes the array module
`xp`, the node and the gradient G = dL/d(node) and returns dL/d(operand) for each operand, so
the same rules run on numpy and CuPy.

Semantics follow PyTorch: numpy broadcasting, with each operand's gradient summed back to its
own shape; leaves (parameters) accumulate their gradient across `backward()` calls while
intermediate nodes are reset on each, so calling it twice adds exactly one more gradient to the
leaves. A node that no gradient can reach (all operands constants) records no operands.
float64 is the default (exact parity with the scalar engine and with finite differences);
float32 is an option (`Tensor(x, dtype="float32")`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from micrograd.device import Device, array_module, to_host
from micrograd.engine import topological_order  # the same walk: any node with `_prev`
from micrograd.graph import escape_record

__all__ = [
    "RULES",
    "Rule",
    "ShapeError",
    "Tensor",
    "TensorGraphSnapshot",
    "TensorNodeInfo",
    "check_labels",
    "conv2d",
    "max_pool2d",
    "snapshot",
    "sumsq",
    "to_dot",
    "topological_order",
    "xp_of",
]


class ShapeError(ValueError):
    """Operands whose shapes an op cannot take; the message names the op and the shapes."""


def _shapes(*arrays: Any) -> str:
    return " and ".join(str(tuple(a.shape)) for a in arrays)


# The module of each array type seen so far: one dict lookup per op instead of an import check.
_XP: dict[type, ModuleType] = {np.ndarray: np, np.float64: np, np.float32: np}


def xp_of(data: Any) -> ModuleType:
    xp = _XP.get(type(data))
    if xp is None:
        xp = _XP[type(data)] = array_module(data)
    return xp


_new = object.__new__


class Tensor:
    """One array node of a computation graph: its data, its gradient and how it was made."""

    __slots__ = ("data", "grad", "_prev", "_op", "_ctx", "requires_grad", "label")
    __array_ufunc__ = None  # numpy defers to our reflected ops: `array + tensor` is a Tensor

    def __init__(
        self,
        data: Any,
        requires_grad: bool = True,
        dtype: Any = None,
        label: str = "",
        device: Device | None = None,
    ) -> None:
        if isinstance(data, Tensor):
            raise TypeError("Tensor(...) takes an array or numbers, not another Tensor")
        xp = device.xp if device is not None else xp_of(data) if hasattr(data, "dtype") else np
        arr = xp.asarray(data)
        if dtype is None:
            dtype = arr.dtype if arr.dtype.kind == "f" else np.float64
        elif np.dtype(dtype).kind != "f":
            raise TypeError(f"Tensor(...): dtype must be a float type, got {dtype!r}")
        self.data = arr.astype(dtype, copy=False)
        self.grad: Any = None
        self._prev: tuple[Tensor, ...] = ()
        self._op = ""
        self._ctx: tuple = ()
        self.requires_grad = bool(requires_grad)
        self.label = label

    # -- properties --------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return int(self.data.size)

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def numpy(self) -> np.ndarray:
        """The data as a numpy array (copied back once from a GPU)."""
        return to_host(self.data)

    def item(self) -> float:
        return float(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        op = f", op={self._op!r}" if self._op else ""
        return f"Tensor(shape={self.shape}, dtype={self.data.dtype}{op})"

    # -- elementwise arithmetic (numpy broadcasting) ------------------------------------------

    def _other(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return other
        xp = xp_of(self.data)
        return _constant(xp.asarray(other, dtype=self.data.dtype))

    def __add__(self, other: Any) -> Tensor:
        """a + b; dL/da = G, dL/db = G (each summed back to its shape)"""
        other = self._other(other)
        try:
            return _node(self.data + other.data, (self, other), "+")
        except ValueError:
            raise _broadcast_error("+", self, other) from None

    def __sub__(self, other: Any) -> Tensor:
        """a - b; dL/da = G, dL/db = -G"""
        other = self._other(other)
        try:
            return _node(self.data - other.data, (self, other), "-")
        except ValueError:
            raise _broadcast_error("-", self, other) from None

    def __mul__(self, other: Any) -> Tensor:
        """a * b; dL/da = G * b, dL/db = G * a"""
        other = self._other(other)
        try:
            return _node(self.data * other.data, (self, other), "*")
        except ValueError:
            raise _broadcast_error("*", self, other) from None

    def __truediv__(self, other: Any) -> Tensor:
        """a / b; dL/da = G / b, dL/db = -G * a / b**2"""
        other = self._other(other)
        try:
            return _node(self.data / other.data, (self, other), "/")
        except ValueError:
            raise _broadcast_error("/", self, other) from None

    def __radd__(self, other: Any) -> Tensor:  # other + self
        return self._other(other).__add__(self)

    def __rsub__(self, other: Any) -> Tensor:  # other - self
        return self._other(other).__sub__(self)

    def __rmul__(self, other: Any) -> Tensor:  # other * self
        return self._other(other).__mul__(self)

    def __rtruediv__(self, other: Any) -> Tensor:  # other / self
        return self._other(other).__truediv__(self)

    def __pow__(self, n: float) -> Tensor:
        """a ** n for a constant n; dL/da = G * n * a**(n-1)"""
        if isinstance(n, bool) or not isinstance(n, (int, float)):
            raise TypeError(f"**: the exponent must be an int or a float constant, got {n!r}")
        return _node(self.data**n, (self,), "**", (n,))

    def __neg__(self) -> Tensor:
        """-a; dL/da = -G"""
        return _node(-self.data, (self,), "neg")

    def __matmul__(self, other: Any) -> Tensor:
        """a @ b (matrix product, batched over leading axes); dL/da = G b^T, dL/db = a^T G"""
        other = self._other(other)
        a, b = self.data, other.data
        if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
            raise ShapeError(
                f"@: shapes {_shapes(a, b)} do not fit: both need 2 or more axes and a's last "
                "axis must equal b's second to last"
            )
        try:
            return _node(a @ b, (self, other), "@")
        except ValueError:
            raise _broadcast_error("@", self, other) from None

    def __rmatmul__(self, other: Any) -> Tensor:
        return self._other(other).__matmul__(self)

    # -- functions ---------------------------------------------------------------------------

    def exp(self) -> Tensor:
        """exp(a); dL/da = G * exp(a)"""
        return _node(xp_of(self.data).exp(self.data), (self,), "exp")

    def log(self) -> Tensor:
        """log(a) for a > 0; dL/da = G / a"""
        return _node(xp_of(self.data).log(self.data), (self,), "log")

    def tanh(self) -> Tensor:
        """tanh(a); dL/da = G * (1 - tanh(a)**2)"""
        return _node(xp_of(self.data).tanh(self.data), (self,), "tanh")

    def relu(self) -> Tensor:
        """max(0, a); dL/da = G where a > 0, else 0"""
        return _node(xp_of(self.data).maximum(self.data, 0), (self,), "relu")

    def sigmoid(self) -> Tensor:
        """1 / (1 + exp(-a)), without overflow; dL/da = G * s * (1 - s)"""
        return _node(_sigmoid(xp_of(self.data), self.data), (self,), "sigmoid")

    def softplus(self) -> Tensor:
        """log(1 + exp(a)), without overflow; dL/da = G * sigmoid(a)"""
        xp = xp_of(self.data)
        a = self.data
        return _node(xp.maximum(a, 0) + xp.log1p(xp.exp(-xp.abs(a))), (self,), "softplus")

    # -- reductions --------------------------------------------------------------------------

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """sum over `axis` (all by default); dL/da = G broadcast back to a's shape"""
        axis = _check_axis("sum", self.data, axis)
        return _node(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum", (axis, keepdims))

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """mean over `axis`; dL/da = G / n broadcast back (n the number of elements averaged)"""
        axis = _check_axis("mean", self.data, axis)
        if self.data.size == 0:
            raise ShapeError(f"mean: the mean of an empty array (shape {self.shape}) is undefined")
        a = self.data
        out = a.sum(axis=axis, keepdims=keepdims)  # / count: numpy's mean(), without its wrapper
        return _node(out / (a.size // max(out.size, 1)), (self,), "mean", (axis, keepdims))

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """max over `axis`; dL/da = G at the maxima (shared equally by ties), 0 elsewhere"""
        axis = _check_axis("max", self.data, axis)
        if self.data.size == 0:
            raise ShapeError(f"max: the max of an empty array (shape {self.shape}) is undefined")
        return _node(self.data.max(axis=axis, keepdims=keepdims), (self,), "max", (axis, keepdims))

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(a - m) / sum(exp(a - m)), m the max; dL/da = s * (G - sum(G * s))"""
        axis = _check_axis("softmax", self.data, axis)
        xp = xp_of(self.data)
        e = xp.exp(self.data - self.data.max(axis=axis, keepdims=True))
        return _node(e / e.sum(axis=axis, keepdims=True), (self,), "softmax", (axis,))

    def log_softmax(self, axis: int = -1) -> Tensor:
        """a - m - log(sum(exp(a - m))), m the max; dL/da = G - softmax(a) * sum(G)"""
        axis = _check_axis("log_softmax", self.data, axis)
        xp = xp_of(self.data)
        shifted = self.data - self.data.max(axis=axis, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        return _node(out, (self,), "log_softmax", (axis,))

    # -- shape ---------------------------------------------------------------------------------

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """the same elements in a new shape; dL/da = G reshaped back"""
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])  # type: ignore[assignment]
        try:
            return _node(self.data.reshape(shape), (self,), "reshape")
        except ValueError:
            raise ShapeError(
                f"reshape: cannot make shape {tuple(shape)} from shape {self.shape} "
                f"({self.size} elements)"
            ) from None

    def flatten(self, start: int = 1) -> Tensor:
        """axes from `start` on merged into one: (N, C, H, W) -> (N, C*H*W) by default"""
        if not 0 <= start < max(self.ndim, 1):
            raise ShapeError(f"flatten: start axis {start} for shape {self.shape}")
        return self.reshape(*self.shape[:start], -1)

    def transpose(self, *axes: int) -> Tensor:
        """axes permuted (reversed by default); dL/da = G permuted back"""
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = tuple(axes[0])  # type: ignore[assignment]
        perm = tuple(axes) if axes else tuple(range(self.ndim - 1, -1, -1))
        if sorted(perm) != list(range(self.ndim)):
            raise ShapeError(f"transpose: axes {perm} are not a permutation for shape {self.shape}")
        return _node(self.data.transpose(perm), (self,), "transpose", (perm,))

    def gather(self, labels: Any) -> Tensor:
        """out[i] = a[i, labels[i]] for a of shape (N, C); dL/da[i, labels[i]] = G[i]"""
        a = self.data
        xp = xp_of(a)
        idx = xp.asarray(labels)
        if a.ndim != 2 or idx.shape != (a.shape[0],):
            raise ShapeError(
                f"gather: takes a (N, C) array and N labels, got shapes {_shapes(a, idx)}"
            )
        check_labels("gather", idx, a.shape[1])
        rows = xp.arange(a.shape[0])
        return _node(a[rows, idx], (self,), "gather", (rows, idx))

    # -- backpropagation ---------------------------------------------------------------------

    def backward(self, gradient: Any = None) -> None:
        """Fill `grad` of every node this one depends on with dL/d(node), L = this node (an
        array's L is sum(gradient * self), gradient ones by default)."""
        xp = xp_of(self.data)
        seed = xp.ones_like(self.data) if gradient is None else xp.asarray(gradient)
        if seed.shape != self.data.shape:
            raise ShapeError(f"backward: gradient of shape {seed.shape} for shape {self.shape}")
        order = topological_order(self)
        for node in order:
            if node._prev:
                node.grad = None  # intermediates hold this pass's gradient only
        self.grad = seed if self.grad is None else self.grad + seed
        vjps = _VJPS
        for node in reversed(order):
            prev = node._prev
            g = node.grad
            if not prev or g is None:
                continue
            grads = vjps[node._op](xp, node, g)
            for child, cg in zip(prev, grads):
                if cg is None or not child.requires_grad:
                    continue
                if child.grad is None:
                    child.grad = cg
                else:
                    child.grad = child.grad + cg


def _constant(data: Any) -> Tensor:
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t._prev = ()
    t._op = ""
    t._ctx = ()
    t.requires_grad = False
    t.label = ""
    return t


def _node(data: Any, prev: tuple[Tensor, ...], op: str, ctx: tuple = ()) -> Tensor:
    """A result node: what every op returns. It records its operands only when a gradient can
    flow to one of them; a result of constants is a constant."""
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t._op = op
    t.label = ""
    for p in prev:
        if p.requires_grad:
            t._prev = prev
            t._ctx = ctx
            t.requires_grad = True
            return t
    t._prev = ()
    t._ctx = ()
    t.requires_grad = False
    return t


def _broadcast_error(op: str, a: Tensor, b: Tensor) -> ShapeError:
    return ShapeError(f"{op}: shapes {_shapes(a.data, b.data)} do not broadcast together")


def _check_axis(op: str, a: Any, axis: Any) -> Any:
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if any(isinstance(x, bool) or not isinstance(x, int) for x in axes):
        raise ShapeError(f"{op}: axis must be whole numbers, got {axis!r}")
    if any(not -a.ndim <= x < a.ndim for x in axes) or a.ndim == 0:
        raise ShapeError(f"{op}: axis {axis!r} is out of range for shape {tuple(a.shape)}")
    return axis


def check_labels(op: str, labels: Any, n_classes: int) -> None:
    """ShapeError unless `labels` are whole numbers 0..n_classes-1. Their range is read only
    from host (numpy) arrays: reading a GPU array back would stall the device at every step
    (labels reach the GPU from host data the caller checked, as the Trainer's do)."""
    if labels.dtype.kind not in "iu" or (
        type(labels) is np.ndarray
        and labels.size
        and (int(labels.min()) < 0 or int(labels.max()) >= n_classes)
    ):
        raise ShapeError(f"{op}: labels must be whole numbers 0..{n_classes - 1}")


def _sigmoid(xp: ModuleType, a: Any) -> Any:
    """1 / (1 + exp(-a)) without overflow: exp only ever of a number <= 0."""
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)


# -- n-ary ops and layers' fused ops -----------------------------------------------------------


def sumsq(tensors: Sequence[Tensor]) -> Tensor:
    """sum of every element squared over all `tensors`, one node; dL/dp = 2 * G * p"""
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("sumsq: no tensors")
    xp = xp_of(tensors[0].data)
    total = sum((xp.vdot(t.data, t.data) for t in tensors), xp.asarray(0.0, tensors[0].dtype))
    return _node(xp.asarray(total), tuple(tensors), "sumsq")


def linear(x: Tensor | Any, w: Tensor, b: Tensor | None = None) -> Tensor:
    """x @ w + b as one node, x (N, nin), w (nin, nout), b (nout,);
    dL/dx = G w^T, dL/dw = x^T G, dL/db = sum of G's rows"""
    x = x if isinstance(x, Tensor) else w._other(x)
    a, m = x.data, w.data
    if a.ndim != 2 or m.ndim != 2 or a.shape[1] != m.shape[0]:
        raise ShapeError(
            f"linear: input {tuple(a.shape)} and weights {tuple(m.shape)} do not fit: "
            f"an (N, {m.shape[0] if m.ndim == 2 else 'nin'}) input is needed"
        )
    out = a @ m
    if b is None:
        return _node(out, (x, w), "linear")
    out += b.data
    return _node(out, (x, w, b), "linear")


def _conv_out(size: int, k: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - k) // stride + 1


def _windows(xp: ModuleType, x: Any, kh: int, kw: int, stride: int, oh: int, ow: int) -> Any:
    """A strided view (N, C, OH, OW, KH, KW) of x's sliding windows: no copy."""
    s0, s1, s2, s3 = x.strides
    return xp.lib.stride_tricks.as_strided(
        x, (x.shape[0], x.shape[1], oh, ow, kh, kw), (s0, s1, s2 * stride, s3 * stride, s2, s3)
    )


def _pad(xp: ModuleType, x: Any, padding: int) -> Any:
    if not padding:
        return x
    p = padding
    return xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def conv2d(
    x: Tensor | Any, w: Tensor, b: Tensor | None = None, stride: int = 1, padding: int = 0
) -> Tensor:
    """2-D cross-correlation, x (N, C, H, W), w (F, C, KH, KW), b (F,) -> (N, F, OH, OW):
    out[n, f] = sum over c, i, j of x_pad[n, c, s*y + i, s*z + j] * w[f, c, i, j] + b[f].

    Computed by im2col: the windows as rows of a matrix (N*OH*OW, C*KH*KW), times w as a
    (C*KH*KW, F) matrix. dL/dw = cols^T G, dL/dx = col2im(G w), dL/db = sum of G.
    """
    x = x if isinstance(x, Tensor) else w._other(x)
    a, k = x.data, w.data
    for name, value in (("stride", stride), ("padding", padding)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (name == "stride"):
            raise ShapeError(f"conv2d: {name} must be a whole number, got {value!r}")
    if a.ndim != 4 or k.ndim != 4 or a.shape[1] != k.shape[1]:
        raise ShapeError(
            f"conv2d: input {tuple(a.shape)} and weights {tuple(k.shape)} do not fit: "
            "input (N, C, H, W) and weights (F, C, KH, KW) with the same C"
        )
    if b is not None and b.data.shape != (k.shape[0],):
        raise ShapeError(f"conv2d: bias {b.shape} for {k.shape[0]} filters")
    n, c, h, wd = a.shape
    f, _, kh, kw = k.shape
    oh, ow = _conv_out(h, kh, stride, padding), _conv_out(wd, kw, stride, padding)
    if oh < 1 or ow < 1:
        raise ShapeError(
            f"conv2d: a {kh}x{kw} kernel does not fit input {tuple(a.shape)} with padding {padding}"
        )
    xp = xp_of(a)
    padded = _pad(xp, a, padding)
    win = _windows(xp, padded, kh, kw, stride, oh, ow)
    # im2col, transposed: row (c, i, j), column (n, y, z). One copy; measured faster than the
    # (N*OH*OW, C*KH*KW) layout (its copy and its product), and the product comes out
    # filter-major, so each output plane is contiguous for the ReLU and the pooling after it.
    cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * oh * ow)
    out = k.reshape(f, -1) @ cols
    if b is not None:
        out += b.data[:, None]
    out = out.reshape(f, n, oh, ow).transpose(1, 0, 2, 3)
    prev = (x, w) if b is None else (x, w, b)
    return _node(out, prev, "conv2d", (stride, padding, cols))


def max_pool2d(x: Tensor, kernel: int = 2, stride: int | None = None) -> Tensor:
    """The max of each kernel x kernel window, x (N, C, H, W) -> (N, C, OH, OW), windows
    `stride` apart (default: the kernel, no overlap; a remainder is dropped, as PyTorch does);
    dL/dx = G at each window's first maximum, 0 elsewhere."""
    stride = kernel if stride is None else stride
    a = x.data
    if a.ndim != 4:
        raise ShapeError(f"max_pool2d: takes (N, C, H, W), got shape {tuple(a.shape)}")
    for name, value in (("kernel", kernel), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ShapeError(f"max_pool2d: {name} must be a whole number >= 1, got {value!r}")
    oh, ow = _conv_out(a.shape[2], kernel, stride, 0), _conv_out(a.shape[3], kernel, stride, 0)
    if oh < 1 or ow < 1:
        raise ShapeError(f"max_pool2d: a {kernel}x{kernel} window does not fit {tuple(a.shape)}")
    xp = xp_of(a)
    # The windows' positions one at a time: each a strided view of x; a later position wins
    # only if strictly greater, so a tie goes to the first maximum. (Measured faster than
    # copying the windows side by side for argmax.)
    out = a[:, :, 0 : stride * oh : stride, 0 : stride * ow : stride].copy()
    idx = xp.zeros(out.shape, dtype=np.int8 if kernel * kernel < 128 else np.int32)
    for p in range(1, kernel * kernel):
        i, j = divmod(p, kernel)
        candidate = a[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride]
        idx[candidate > out] = p
        xp.maximum(out, candidate, out=out)  # a NaN anywhere in the window stays visible
    return _node(out, (x,), "max_pool2d", (kernel, stride, idx))


# -- the vector-Jacobian rules ----------------------------------------------------------------


def _unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """g summed over the axes that broadcasting added or stretched, to `shape`."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


def _vjp_add(xp, node, g):
    a, b = node._prev
    return _unbroadcast(g, a.data.shape), _unbroadcast(g, b.data.shape)


def _vjp_sub(xp, node, g):
    a, b = node._prev
    return _unbroadcast(g, a.data.shape), _unbroadcast(-g, b.data.shape)


def _vjp_mul(xp, node, g):
    a, b = node._prev
    return (
        _unbroadcast(g * b.data, a.data.shape) if a.requires_grad else None,
        _unbroadcast(g * a.data, b.data.shape) if b.requires_grad else None,
    )


def _vjp_div(xp, node, g):
    a, b = node._prev
    return (
        _unbroadcast(g / b.data, a.data.shape) if a.requires_grad else None,
        _unbroadcast(-g * node.data / b.data, b.data.shape) if b.requires_grad else None,
    )


def _vjp_pow(xp, node, g):
    (a,) = node._prev
    (n,) = node._ctx
    return (g * (n * a.data ** (n - 1)),)


def _vjp_matmul(xp, node, g):
    a, b = node._prev
    da = _unbroadcast(g @ xp.swapaxes(b.data, -1, -2), a.data.shape) if a.requires_grad else None
    db = _unbroadcast(xp.swapaxes(a.data, -1, -2) @ g, b.data.shape) if b.requires_grad else None
    return da, db


def _vjp_linear(xp, node, g):
    x, w = node._prev[0], node._prev[1]
    dx = g @ w.data.T if x.requires_grad else None
    dw = x.data.T @ g
    if len(node._prev) == 2:
        return dx, dw
    return dx, dw, g.sum(axis=0)


def _expand(g: Any, node: Tensor) -> Any:
    """A reduction's G with the reduced axes put back (as size 1)."""
    axis, keepdims = node._ctx[0], node._ctx[1]
    if axis is not None and not keepdims:
        g = xp_of(g).expand_dims(g, axis)
    return g


def _spread(xp: ModuleType, g: Any, a: Any) -> Any:
    """g copied over a's shape (np.broadcast_to's Python wrapper cost more than this copy)."""
    out = xp.empty(a.shape, dtype=g.dtype)
    out[...] = g
    return out


def _vjp_sum(xp, node, g):
    return (_spread(xp, _expand(g, node), node._prev[0].data),)


def _vjp_mean(xp, node, g):
    a = node._prev[0].data
    count = a.size // max(node.data.size, 1)
    return (_spread(xp, _expand(g, node) / count, a),)


def _vjp_max(xp, node, g):
    a = node._prev[0].data
    axis = node._ctx[0]
    out = _expand(node.data, node)
    mask = a == out
    return (mask * (_expand(g, node) / mask.sum(axis=axis, keepdims=True)),)


def _vjp_softmax(xp, node, g):
    (axis,) = node._ctx
    s = node.data
    return (s * (g - (g * s).sum(axis=axis, keepdims=True)),)


def _vjp_log_softmax(xp, node, g):
    (axis,) = node._ctx
    return (g - xp.exp(node.data) * g.sum(axis=axis, keepdims=True),)


def _vjp_gather(xp, node, g):
    a = node._prev[0].data
    rows, idx = node._ctx
    out = xp.zeros_like(a)
    out[rows, idx] = g
    return (out,)


def _vjp_sumsq(xp, node, g):
    return tuple(2.0 * g * t.data for t in node._prev)


def _vjp_conv2d(xp, node, g):
    x, w = node._prev[0], node._prev[1]
    stride, padding, cols = node._ctx
    f, c, kh, kw = w.data.shape
    n, _, oh, ow = g.shape
    g2 = g.transpose(1, 0, 2, 3).reshape(f, -1)  # (F, N*OH*OW), as the forward made it
    dw = (g2 @ cols.T).reshape(w.data.shape)
    dx = None
    if x.requires_grad:  # col2im: each kernel position adds its slice of K^T G back
        dcols = (w.data.reshape(f, -1).T @ g2).reshape(c, kh, kw, n, oh, ow)
        h, wd = x.data.shape[2], x.data.shape[3]
        # channel-major (C, N, H, W), as dcols is: the adds read and write in one order
        padded = xp.zeros((c, n, h + 2 * padding, wd + 2 * padding), dtype=g.dtype)
        for i in range(kh):
            for j in range(kw):
                rows, cols_ = slice(i, i + stride * oh, stride), slice(j, j + stride * ow, stride)
                padded[:, :, rows, cols_] += dcols[:, i, j]
        if padding:
            padded = padded[:, :, padding : padding + h, padding : padding + wd]
        dx = padded.transpose(1, 0, 2, 3)
    if len(node._prev) == 2:
        return dx, dw
    return dx, dw, g2.sum(axis=1)


def _vjp_max_pool2d(xp, node, g):
    a = node._prev[0].data
    kernel, stride, idx = node._ctx
    oh, ow = g.shape[2], g.shape[3]
    tiled = stride == kernel and a.shape[2] == kernel * oh and a.shape[3] == kernel * ow
    dx = xp.empty_like(a) if tiled else xp.zeros_like(a)
    for p in range(kernel * kernel):  # each window position sends G where it held the max
        i, j = divmod(p, kernel)
        where = (slice(None), slice(None), slice(i, i + stride * oh, stride))
        where += (slice(j, j + stride * ow, stride),)
        if tiled:  # the windows cover x once: each element is written by one position
            xp.multiply(g, idx == p, out=dx[where])
        else:
            dx[where] += g * (idx == p)
    return (dx,)


@dataclass(frozen=True)
class Rule:
    """An op: what it computes, its vector-Jacobian rule as a learner reads it (G = dL/d out),
    and that rule as a function (xp, node, G) -> dL/d(each operand)."""

    forward: str
    text: str
    vjp: Callable[[ModuleType, Tensor, Any], tuple]


RULES: dict[str, Rule] = {
    "+": Rule("a + b", "dL/da = G, dL/db = G (summed to each shape)", _vjp_add),
    "-": Rule("a - b", "dL/da = G, dL/db = -G", _vjp_sub),
    "*": Rule("a * b", "dL/da = G * b, dL/db = G * a", _vjp_mul),
    "/": Rule("a / b", "dL/da = G / b, dL/db = -G * a / b**2", _vjp_div),
    "**": Rule("a ** n", "dL/da = G * n * a**(n-1)", _vjp_pow),
    "neg": Rule("-a", "dL/da = -G", lambda xp, node, g: (-g,)),
    "exp": Rule("exp(a)", "dL/da = G * exp(a)", lambda xp, node, g: (g * node.data,)),
    "log": Rule("log(a)", "dL/da = G / a", lambda xp, node, g: (g / node._prev[0].data,)),
    "tanh": Rule(
        "tanh(a)", "dL/da = G * (1 - tanh(a)**2)", lambda xp, n, g: (g * (1 - n.data * n.data),)
    ),
    "relu": Rule("max(0, a)", "dL/da = G * (a > 0)", lambda xp, n, g: (g * (n._prev[0].data > 0),)),
    "sigmoid": Rule(
        "1 / (1 + exp(-a))",
        "dL/da = G * s * (1 - s)",
        lambda xp, n, g: (g * n.data * (1 - n.data),),
    ),
    "softplus": Rule(
        "log(1 + exp(a))",
        "dL/da = G * sigmoid(a)",
        lambda xp, n, g: (g * _sigmoid(xp, n._prev[0].data),),
    ),
    "@": Rule("A @ B", "dL/dA = G B^T, dL/dB = A^T G", _vjp_matmul),
    "linear": Rule("X @ W + b", "dL/dX = G W^T, dL/dW = X^T G, dL/db = sum_rows G", _vjp_linear),
    "sum": Rule("sum(a, axis)", "dL/da = G broadcast to a's shape", _vjp_sum),
    "mean": Rule("mean(a, axis)", "dL/da = G / n broadcast to a's shape", _vjp_mean),
    "max": Rule("max(a, axis)", "dL/da = G where a is the max (ties share)", _vjp_max),
    "softmax": Rule("s = exp(a) / sum(exp(a))", "dL/da = s * (G - sum(G * s))", _vjp_softmax),
    "log_softmax": Rule(
        "a - log(sum(exp(a)))", "dL/da = G - softmax(a) * sum(G)", _vjp_log_softmax
    ),
    "reshape": Rule(
        "a reshaped",
        "dL/da = G reshaped back",
        lambda xp, n, g: (g.reshape(n._prev[0].data.shape),),
    ),
    "transpose": Rule(
        "a with axes permuted",
        "dL/da = G with the axes permuted back",
        lambda xp, n, g: (g.transpose(tuple(np.argsort(n._ctx[0]).tolist())),),
    ),
    "gather": Rule("a[i, y_i]", "dL/da[i, y_i] = G[i], 0 elsewhere", _vjp_gather),
    "sumsq": Rule("sum of p**2 over all p", "dL/dp = 2 * G * p", _vjp_sumsq),
    "conv2d": Rule(
        "X * K + b (cross-correlation, im2col)",
        "dL/dK = cols(X)^T G, dL/dX = col2im(G K), dL/db = sum G",
        _vjp_conv2d,
    ),
    "max_pool2d": Rule(
        "max over each window", "dL/dX = G at each window's max, 0 elsewhere", _vjp_max_pool2d
    ),
}


_VJPS = {name: rule.vjp for name, rule in RULES.items()}  # what backward() looks up per node


# -- a graph as plain data, for display --------------------------------------------------------

SMALL = 64  # arrays of at most this many elements are copied whole into a snapshot
PREVIEW = (16, 32)  # rows and columns of each array's corner a snapshot keeps for a heatmap


@dataclass(frozen=True)
class TensorNodeInfo:
    """One array node, as host data: op, label, shape, dtype, operands (indices) and summaries
    (min, max, mean, norm) of its data and its grad (None when no gradient reached it).
    `data_values`/`grad_values` hold the elements (flat) of arrays of at most SMALL elements;
    `data_preview`/`grad_preview` the top-left corner (at most PREVIEW) of the array seen as a
    matrix (`as_matrix`: a vector one row, a higher array one row per leading index), whose
    whole size is `matrix_shape`."""

    index: int
    op: str
    label: str
    shape: tuple[int, ...]
    dtype: str
    children: tuple[int, ...]
    data_summary: tuple[float, float, float, float]
    grad_summary: tuple[float, float, float, float] | None
    data_values: tuple[float, ...] | None = None
    grad_values: tuple[float, ...] | None = None
    data_preview: tuple[tuple[float, ...], ...] | None = None
    grad_preview: tuple[tuple[float, ...], ...] | None = None
    matrix_shape: tuple[int, int] = (0, 0)

    @property
    def is_leaf(self) -> bool:
        return not self.children


@dataclass(frozen=True)
class TensorGraphSnapshot:
    """A tensor graph in topological order (the root last), as plain tuples that pickle."""

    nodes: tuple[TensorNodeInfo, ...]

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def root(self) -> int:
        return len(self.nodes) - 1

    def node(self, i: int) -> TensorNodeInfo:
        return self.nodes[i]

    def op_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.op] = counts.get(n.op, 0) + 1
        return counts


def _summary(a: Any) -> tuple[float, float, float, float]:
    h = to_host(a).astype(np.float64, copy=False)
    if h.size == 0:
        return (0.0, 0.0, 0.0, 0.0)
    return (float(h.min()), float(h.max()), float(h.mean()), float(np.sqrt(np.vdot(h, h))))


def _values(a: Any) -> tuple[float, ...] | None:
    if a is None or a.size > SMALL:
        return None
    return tuple(float(v) for v in to_host(a).ravel())


def matrix_shape(shape: Sequence[int]) -> tuple[int, int]:
    """An array's shape as a heatmap's matrix: a scalar 1x1, a vector one row, a higher array
    one row per leading index (a batch a row, a conv kernel a filter a row)."""
    if not shape:
        return (1, 1)
    if len(shape) == 1:
        return (1, int(shape[0]))
    return (int(shape[0]), int(np.prod(shape[1:])))


def _preview(a: Any, size: tuple[int, int]) -> tuple[tuple[float, ...], ...] | None:
    """The top-left corner of `a` as a matrix, as rows of floats (plain data: a snapshot
    compares equal to its pickled copy)."""
    if a is None:
        return None
    rows, cols = size
    m = a.reshape(matrix_shape(a.shape))[:rows, :cols]
    return tuple(map(tuple, np.asarray(to_host(m), dtype=np.float64).tolist()))


def snapshot(root: Tensor, preview: tuple[int, int] = PREVIEW) -> TensorGraphSnapshot:
    """The graph `root` depends on, each node summarised as host data (one copy per array,
    and the corner of it a heatmap shows, at most `preview` rows and columns)."""
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    nodes = []
    for i, t in enumerate(order):
        nodes.append(
            TensorNodeInfo(
                index=i,
                op=t._op,
                label=t.label,
                shape=t.shape,
                dtype=str(t.data.dtype),
                children=tuple(index[c] for c in t._prev),
                data_summary=_summary(t.data),
                grad_summary=None if t.grad is None else _summary(t.grad),
                data_values=_values(t.data),
                grad_values=_values(t.grad),
                data_preview=_preview(t.data, preview),
                grad_preview=_preview(t.grad, preview),
                matrix_shape=matrix_shape(t.shape),
            )
        )
    return TensorGraphSnapshot(tuple(nodes))


def to_dot(graph: Tensor | TensorGraphSnapshot) -> str:
    """The graph as Graphviz DOT text: one record per array node (label, op, shape, the norm
    of its data and grad), operands pointing at their results in operand order."""
    snap = graph if isinstance(graph, TensorGraphSnapshot) else snapshot(graph)
    lines = [
        "digraph micrograd_tensor {",
        "  rankdir=LR;",
        '  node [shape=record, fontname="Helvetica"];',
    ]
    for n in snap.nodes:
        shape = "x".join(map(str, n.shape)) or "scalar"
        name = escape_record(n.label or n.op or "const")
        grad = "-" if n.grad_summary is None else f"{n.grad_summary[3]:.4g}"
        data = f"{n.data_summary[3]:.4g}"
        fields = f"{{ {name} | {escape_record(n.op or 'leaf')} {shape} | data norm {data} | "
        fields += f"grad norm {grad} }}"
        bold = ", style=bold" if n.index == snap.root else ""
        lines.append(f'  n{n.index} [label="{fields}"{bold}];')
    for n in snap.nodes:
        for position, c in enumerate(n.children):
            lines.append(f'  n{c} -> n{n.index} [label="{position}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
