"""Loss functions on `Value` graphs, the same math on plain floats, and accuracy.

Labels are always ints 0..k-1. The binary losses (hinge, mse, bce) take one output per sample,
a score s whose sign is the prediction; hinge and mse use the target t = 2*label - 1 (+1 or -1),
bce reads s as a logit and uses t = label (0 or 1). Softmax cross-entropy takes k outputs per
sample. Every loss is the mean over the samples, built with `Value.sum` (one node for the sum).

Each loss has a float twin (`float_loss`) that performs the same operations in the same order,
so a test loss computed without a graph equals the training loss to the last bits. A non-finite
output (NaN or inf, after a diverged step) gives a NaN or inf loss, never an exception, so the
trainer can flag the step instead of crashing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from micrograd.engine import Value
from micrograd.operators import safe_pow, softplus

BINARY_LOSSES = ("hinge", "mse", "sse", "bce")

_NAN = float("nan")


# -- checks ------------------------------------------------------------------------------------


def _check_labels(name: str, n_outputs: int, labels: Sequence[int], n_classes: int) -> None:
    if n_outputs != len(labels):
        raise ValueError(f"{name}: {n_outputs} outputs but {len(labels)} labels")
    if n_outputs == 0:
        raise ValueError(f"{name}: no samples (the mean of an empty batch is undefined)")
    for i, label in enumerate(labels):
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < n_classes:
            raise ValueError(
                f"{name}: label {label!r} of sample {i} is not a class 0..{n_classes - 1}"
            )


def _as_value(s: Value | float) -> Value:
    return s if isinstance(s, Value) else Value(s)


def _binary_output(name: str, s: object) -> object:
    """Accept one output as a scalar or as a one-element sequence (a 1-output model's list)."""
    if isinstance(s, (list, tuple)):
        if len(s) != 1:
            raise ValueError(f"{name}: a binary loss takes one output per sample, got {len(s)}")
        return s[0]
    return s


def _softmax_rows(name: str, outputs: Sequence[Sequence[object]], labels: Sequence[int]) -> int:
    if not outputs:
        raise ValueError(f"{name}: no samples (the mean of an empty batch is undefined)")
    k = len(outputs[0])
    if k < 2:
        raise ValueError(f"{name}: softmax needs at least 2 outputs per sample, got {k}")
    for i, row in enumerate(outputs):
        if len(row) != k:
            raise ValueError(f"{name}: sample {i} has {len(row)} outputs, sample 0 has {k}")
    _check_labels(name, len(outputs), labels, k)
    return k


def _add_all(terms: Sequence[float]) -> float:
    """Left-to-right float sum, exactly as `Value.sum` adds."""
    total = 0.0
    for t in terms:
        total += t
    return total


# -- binary losses on Values -------------------------------------------------------------------


def hinge(outputs: Sequence[Value], labels: Sequence[int]) -> Value:
    """mean relu(1 - t*s) with t = 2*label - 1 (max-margin loss of Karpathy's demo).

    d/ds = -t where the margin 1 - t*s is positive, 0 elsewhere.
    """
    _check_labels("hinge", len(outputs), labels, 2)
    terms = []
    for s, label in zip(outputs, labels):
        s = _as_value(_binary_output("hinge", s))
        if s.data != s.data:  # NaN: keep it visible (relu would turn it into 0)
            terms.append(s)
        else:  # 1 - t*s, written without constant nodes for t
            terms.append((1.0 - s if label == 1 else 1.0 + s).relu())
    return Value.sum(terms) / len(terms)


def _squared_errors(name: str, outputs: Sequence[Value], labels: Sequence[int]) -> list[Value]:
    """(s - t)**2 per sample, t = 2*label - 1."""
    _check_labels(name, len(outputs), labels, 2)
    return [
        (_as_value(_binary_output(name, s)) - float(2 * label - 1)) ** 2
        for s, label in zip(outputs, labels)
    ]


def mse(outputs: Sequence[Value], labels: Sequence[int]) -> Value:
    """mean (s - t)**2 with t = 2*label - 1; d/ds = 2(s - t)/N."""
    terms = _squared_errors("mse", outputs, labels)
    return Value.sum(terms) / len(terms)


def sse(outputs: Sequence[Value], labels: Sequence[int]) -> Value:
    """sum (s - t)**2, t = 2*label - 1: the lecture's `sum((yout - ygt)**2)`; d/ds = 2(s - t)."""
    return Value.sum(_squared_errors("sse", outputs, labels))


def _softplus(x: Value) -> Value:
    """log(1 + exp(x)), stable: for x > 0 it is x + log(1 + exp(-x)); d/dx = sigmoid(x).

    Both branches are exact for every x and each only ever exponentiates a number <= 0, so
    nothing overflows; the branch is chosen by the value, the gradient is right on both sides.
    """
    if x.data != x.data:
        return x  # NaN in, NaN out (log would refuse it)
    if x.data <= 0.0:
        return (1.0 + x.exp()).log()
    return x + (1.0 + (-x).exp()).log()


def bce(outputs: Sequence[Value], labels: Sequence[int]) -> Value:
    """Binary cross-entropy on a logit s: mean -[t log p + (1-t) log(1-p)], p = sigmoid(s).

    Per sample that is softplus(s) for t = 0 and softplus(-s) for t = 1, computed without
    overflow for any |s| (see `_softplus`); d/ds = sigmoid(s) - t.
    """
    _check_labels("bce", len(outputs), labels, 2)
    terms = []
    for s, label in zip(outputs, labels):
        s = _as_value(_binary_output("bce", s))
        terms.append(_softplus(-s if label == 1 else s))
    return Value.sum(terms) / len(terms)


# -- multi-class -------------------------------------------------------------------------------


def softmax_cross_entropy(outputs: Sequence[Sequence[Value]], labels: Sequence[int]) -> Value:
    """mean over samples of log(sum_j exp(s_j - m)) - (s_y - m), m = max_j s_j.

    That is -log softmax(s)_y. Subtracting the constant m changes nothing in value or gradient
    (d/ds_j = softmax(s)_j - [j == y]) but keeps every exp() <= 1, so no logit overflows.
    A non-finite logit gives a NaN loss for that sample.
    """
    _softmax_rows("softmax_cross_entropy", outputs, labels)
    terms = []
    for row, label in zip(outputs, labels):
        row = [_as_value(s) for s in row]
        m = max(s.data for s in row)
        if not all(math.isfinite(s.data) for s in row):
            terms.append(Value.sum(row) * _NAN)
            continue
        shifted = [s - m for s in row]
        terms.append(Value.sum([z.exp() for z in shifted]).log() - shifted[label])
    return Value.sum(terms) / len(terms)


def l2(params: Sequence[Value], alpha: float) -> Value:
    """alpha * sum(p*p), as one dot node (p . p) and one product; d/dp = 2 * alpha * p."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise ValueError(f"l2: alpha must be a number, got {alpha!r}")
    if not (math.isfinite(alpha) and alpha >= 0.0):
        raise ValueError(f"l2: alpha must be a finite number >= 0, got {alpha!r}")
    params = list(params)
    return Value.dot(params, params) * float(alpha)


LOSSES: dict[str, Callable[..., Value]] = {
    "hinge": hinge,
    "mse": mse,
    "sse": sse,
    "bce": bce,
    "softmax": softmax_cross_entropy,
}


# -- the same math on floats -------------------------------------------------------------------


def _float_scalar(name: str, s: object) -> float:
    s = _binary_output(name, s)
    if isinstance(s, Value):
        return s.data
    return float(s)  # type: ignore[arg-type]


def float_loss(
    name: str, outputs: Sequence[float | Sequence[float]], labels: Sequence[int]
) -> float:
    """The loss `name` (a key of LOSSES) on plain floats: no graph, same value as the Value loss.

    Binary losses take one float per sample (or a one-element list), softmax a list per sample.
    """
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {tuple(LOSSES)}")
    if name == "softmax":
        _softmax_rows("softmax_cross_entropy", outputs, labels)  # type: ignore[arg-type]
        terms = []
        for row, label in zip(outputs, labels):
            row = [float(s) for s in row]  # type: ignore[union-attr]
            m = max(row)
            if not all(math.isfinite(s) for s in row):
                terms.append(_NAN)
                continue
            shifted = [s - m for s in row]
            terms.append(math.log(_add_all([math.exp(z) for z in shifted])) - shifted[label])
        return _add_all(terms) / len(terms)
    _check_labels(name, len(outputs), labels, 2)
    scores = [_float_scalar(name, s) for s in outputs]
    if name == "hinge":
        terms = []
        for s, label in zip(scores, labels):
            if s != s:
                terms.append(s)
            else:
                margin = 1.0 - s if label == 1 else 1.0 + s
                terms.append(margin if margin > 0.0 else 0.0)
    elif name in ("mse", "sse"):
        terms = [safe_pow(s - float(2 * label - 1), 2) for s, label in zip(scores, labels)]
        if name == "sse":
            return _add_all(terms)
    else:
        terms = [softplus(-s if label == 1 else s) for s, label in zip(scores, labels)]
    return _add_all(terms) / len(terms)


# -- predictions -------------------------------------------------------------------------------


def predict_class(name: str, output: float | Sequence[float]) -> int:
    """The class an output stands for: binary losses 1 if s > 0 else 0; softmax the argmax.

    For bce, s > 0 is p = sigmoid(s) > 0.5. Ties in the argmax go to the lowest class.
    """
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {tuple(LOSSES)}")
    if name == "softmax":
        if isinstance(output, (int, float, Value)) or len(output) < 2:
            raise ValueError("predict_class: softmax needs a list of at least 2 outputs")
        row = [s.data if isinstance(s, Value) else float(s) for s in output]
        best = 0
        for j in range(1, len(row)):
            if row[j] > row[best]:
                best = j
        return best
    s = _float_scalar(name, output)
    return 1 if s > 0.0 else 0


def accuracy(predicted: Sequence[int], labels: Sequence[int]) -> float:
    """The fraction of predictions equal to their label, in [0, 1]."""
    if len(predicted) != len(labels):
        raise ValueError(f"accuracy: {len(predicted)} predictions but {len(labels)} labels")
    if not labels:
        raise ValueError("accuracy: no samples")
    hits = 0
    for p, label in zip(predicted, labels):
        if p == label:
            hits += 1
    return hits / len(labels)
