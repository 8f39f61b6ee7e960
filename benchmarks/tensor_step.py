"""The tensor engine's speed, side by side with hand-written numpy (the limit for an engine on
numpy), the scalar engine and PyTorch CPU (if installed), plus accuracy runs on digits.

    python benchmarks/tensor_step.py                 # everything, medians of 5 rounds
    python benchmarks/tensor_step.py --only moons --repeats 9

Parts (each prints a table; ratios are measured in the same invocation, rounds interleaved):
- moons: Karpathy's demo step as `moons_step.py` runs it (100 samples, MLP(2, [16, 16, 1]) from
  seed 1337, hinge + 1e-4 L2, SGD lr 1.0 - 0.9*k/100): tensor engine, hand-written numpy,
  scalar engine, PyTorch.
- digits-mlp: MLP 64-64-10, softmax cross-entropy, SGD, full batch of the 1,437 training images.
- conv: the `--conv 8,16 --hidden 64` model (3x3 conv + ReLU + 2x2 max-pool, twice, then
  64-10) on the same batch, against hand-written numpy with im2col; and the two ways to compute
  a conv (im2col with its column matrix kept for the backward; a strided view contracted with
  tensordot), forward + backward of one layer.
- accuracy: digits MLP and conv model trained with the Trainer (the CLI's headless path),
  steps and seconds to reach the targets (95% and 97% test accuracy), 60 s at most each.
- overhead: one op's cost at tiny sizes (a (1,)-array `+` with its backward) against the
  numpy call alone; memory: the tracemalloc peak of one step of each model.

BLAS threads are set to 1 (before numpy is imported) unless --threads says otherwise: on a
shared 2-core machine OpenBLAS's threads slowed a 1437x64 @ 64x64 product from 0.5 ms to 5-10 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _set_threads(argv: list[str]) -> None:
    threads = "1"
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            threads = argv[i + 1]
        elif a.startswith("--threads="):
            threads = a.split("=", 1)[1]
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, threads)


_set_threads(sys.argv[1:])
sys.path.insert(0, str(REPO))

import gc  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

from micrograd import tensor_nn as tn  # noqa: E402
from micrograd.data import DIGITS_SHAPE, make_digits, make_moons, train_test_split  # noqa: E402
from micrograd.tensor import Tensor  # noqa: E402

try:
    import torch  # type: ignore[import-not-found]
except ImportError:
    torch = None

ALPHA = 1e-4


def rate(step, n: int) -> float:
    """Steps per second of `step(k)` over n steps, GC paused during the steps."""
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for k in range(n):
            step(k)
        return n / (time.perf_counter() - t0)
    finally:
        gc.enable()


def lr_at(k: int) -> float:
    return max(1.0 - 0.9 * k / 100, 0.1)


# -- the moons demo step -----------------------------------------------------------------------


def moons_data():
    X, y = make_moons(100, 0.1, seed=1337)
    return np.asarray(X), np.asarray(y)


def moons_weights():
    model = tn.MLP(2, [16, 16, 1], rng=random.Random(1337))
    return [p.data.copy() for p in model.parameters()]


def moons_tensor():
    X, y = moons_data()
    model = tn.MLP(2, [16, 16, 1], rng=random.Random(1337))
    params = model.parameters()
    opt = tn.SGD(params, 1.0)
    x = Tensor(X, requires_grad=False)
    losses = []

    def step(k: int) -> None:
        loss = tn.hinge(model(x), y) + tn.l2(params, ALPHA)
        for p in params:
            p.grad = None
        loss.backward()
        opt.lr = lr_at(k)
        opt.step()
        losses.append(float(loss.data))

    return step, losses


def moons_numpy():
    """The same step written out by hand: forward, backward, SGD, no engine."""
    X, y = moons_data()
    W1, b1, W2, b2, W3, b3 = moons_weights()
    t = (2.0 * y - 1.0)[:, None]
    n = len(X)
    losses = []

    def step(k: int) -> None:
        nonlocal W1, b1, W2, b2, W3, b3
        z1 = X @ W1 + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ W2 + b2
        h2 = np.maximum(z2, 0)
        s = h2 @ W3 + b3
        margin = 1.0 - t * s
        params = (W1, b1, W2, b2, W3, b3)
        loss = (margin * (margin > 0)).mean() + ALPHA * sum(np.vdot(p, p) for p in params)
        ds = -t * (margin > 0) / n
        dW3, db3 = h2.T @ ds, ds.sum(0)
        dz2 = (ds @ W3.T) * (z2 > 0)
        dW2, db2 = h1.T @ dz2, dz2.sum(0)
        dz1 = (dz2 @ W2.T) * (z1 > 0)
        dW1, db1 = X.T @ dz1, dz1.sum(0)
        lr = lr_at(k)
        for p, g in zip(params, (dW1, db1, dW2, db2, dW3, db3)):
            p -= lr * (g + 2.0 * ALPHA * p)
        losses.append(float(loss))

    return step, losses


def moons_scalar():
    from micrograd import losses as slosses
    from micrograd import nn

    X, y = make_moons(100, 0.1, seed=1337)
    model = nn.MLP(2, [16, 16, 1], rng=random.Random(1337))
    params = model.parameters()
    losses = []

    def step(k: int) -> None:
        loss = slosses.hinge([model(x) for x in X], y) + slosses.l2(params, ALPHA)
        for p in params:
            p.grad = 0.0
        loss.backward()
        lr = lr_at(k)
        for p in params:
            p.data -= lr * p.grad
        losses.append(loss.data)

    return step, losses


def moons_torch():
    X, y = moons_data()
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    ws = [torch.tensor(w, requires_grad=True) for w in moons_weights()]
    x = torch.tensor(X)
    t = torch.tensor(2.0 * y - 1.0)[:, None]
    losses = []

    def step(k: int) -> None:
        W1, b1, W2, b2, W3, b3 = ws
        s = torch.relu(torch.relu(x @ W1 + b1) @ W2 + b2) @ W3 + b3
        loss = torch.relu(1 - t * s).mean() + ALPHA * sum((p * p).sum() for p in ws)
        for p in ws:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in ws:
                p -= lr_at(k) * p.grad
        losses.append(loss.item())

    return step, losses


# -- digits: the MLP and the conv model --------------------------------------------------------


def digits_split():
    X, y = make_digits(1797, 0.0, 1337)
    X_train, y_train, X_test, y_test = train_test_split(X, y, 0.2, 1337)
    return np.asarray(X_train), np.asarray(y_train), np.asarray(X_test), np.asarray(y_test)


def _init(model):
    return [p.data.copy() for p in model.parameters()]


def mlp_tensor(X, y, lr=0.1):
    model = tn.MLP(64, [64, 10], rng=random.Random(1337))
    return _tensor_step(model, Tensor(X, requires_grad=False), y, lr)


def conv_model():
    return tn.conv_net(DIGITS_SHAPE, (8, 16), (64,), 10, rng=random.Random(1337))


def conv_tensor(X, y, lr=0.05):
    images = Tensor(X.reshape(len(X), *DIGITS_SHAPE), requires_grad=False)
    return _tensor_step(conv_model(), images, y, lr)


def _tensor_step(model, x, y, lr):
    params = model.parameters()
    opt = tn.SGD(params, lr)
    losses = []

    def step(k: int) -> None:
        loss = tn.softmax_cross_entropy(model(x), y)
        for p in params:
            p.grad = None
        loss.backward()
        opt.step()
        losses.append(float(loss.data))

    return step, losses


def _softmax_ce_backward(logits, y):
    """(loss, dL/dlogits) of the mean softmax cross-entropy."""
    n = len(y)
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    loss = -(shifted[np.arange(n), y] - np.log(total[:, 0])).mean()
    d = e / total
    d[np.arange(n), y] -= 1.0
    return loss, d / n


def mlp_numpy(X, y, lr=0.1):
    W1, b1, W2, b2 = _init(tn.MLP(64, [64, 10], rng=random.Random(1337)))
    losses = []

    def step(k: int) -> None:
        z1 = X @ W1 + b1
        h1 = np.maximum(z1, 0)
        loss, ds = _softmax_ce_backward(h1 @ W2 + b2, y)
        dW2, db2 = h1.T @ ds, ds.sum(0)
        dz1 = (ds @ W2.T) * (z1 > 0)
        dW1, db1 = X.T @ dz1, dz1.sum(0)
        for p, g in zip((W1, b1, W2, b2), (dW1, db1, dW2, db2)):
            p -= lr * g
        losses.append(float(loss))

    return step, losses


def windows(x, k, pad):
    """A strided view (N, C, OH, OW, k, k) of the stride-1 windows of x padded by `pad`."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    s0, s1, s2, s3 = xp.strides
    return np.lib.stride_tricks.as_strided(xp, (n, c, oh, ow, k, k), (s0, s1, s2, s3, s2, s3))


def im2col(x, k, pad):
    """(N*OH*OW, C*k*k) columns, the textbook layout, and the out size."""
    win = windows(x, k, pad)
    n, c, oh, ow = win.shape[:4]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * k * k), oh, ow


def im2col_t(x, k, pad):
    """(C*k*k, N*OH*OW) columns, the engine's layout, and the out size."""
    win = windows(x, k, pad)
    n, c, oh, ow = win.shape[:4]
    return win.transpose(1, 4, 5, 0, 2, 3).reshape(c * k * k, n * oh * ow), oh, ow


def col2im(dcols, shape, k, pad, oh, ow):
    """The textbook col2im of (N*OH*OW, C*k*k) gradients."""
    n, c, h, w = shape
    d = dcols.reshape(n, oh, ow, c, k, k)
    out = np.zeros((n, c, h + 2 * pad, w + 2 * pad))
    for i in range(k):
        for j in range(k):
            out[:, :, i : i + oh, j : j + ow] += d[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return out[:, :, pad : pad + h, pad : pad + w]


def col2im_t(dcols, shape, k, pad, oh, ow):
    """col2im of (C*k*k, N*OH*OW) gradients, summed channel-major; returns (N, C, H, W)."""
    n, c, h, w = shape
    d = dcols.reshape(c, k, k, n, oh, ow)
    out = np.zeros((c, n, h + 2 * pad, w + 2 * pad))
    for i in range(k):
        for j in range(k):
            out[:, :, i : i + oh, j : j + ow] += d[:, i, j]
    return out[:, :, pad : pad + h, pad : pad + w].transpose(1, 0, 2, 3)


def pool_forward(x):
    """2x2 max-pool: the four positions as strided views, the first maximum wins a tie."""
    oh, ow = x.shape[2] // 2, x.shape[3] // 2
    out = x[:, :, 0 : 2 * oh : 2, 0 : 2 * ow : 2].copy()
    idx = np.zeros(out.shape, np.int8)
    for p in range(1, 4):
        i, j = divmod(p, 2)
        cand = x[:, :, i : i + 2 * oh : 2, j : j + 2 * ow : 2]
        idx[cand > out] = p
        np.maximum(out, cand, out=out)
    return out, idx


def pool_backward(g, idx, like):
    oh, ow = g.shape[2], g.shape[3]
    d = np.empty_like(like)
    for p in range(4):
        i, j = divmod(p, 2)
        np.multiply(g, idx == p, out=d[:, :, i : i + 2 * oh : 2, j : j + 2 * ow : 2])
    return d


def conv_numpy(X, y, lr=0.05):
    """The conv model's step by hand, with the engine's algorithms (transposed im2col, pooling
    by window positions): ReLU convs, 2x2 pools, a dense ReLU layer, softmax CE, SGD."""
    K1, c1, K2, c2, W1, b1, W2, b2 = _init(conv_model())
    x = X.reshape(len(X), *DIGITS_SHAPE)
    n = len(x)
    losses = []

    def conv_fwd(a, K, b):
        cols, oh, ow = im2col_t(a, 3, 1)
        out = K.reshape(len(K), -1) @ cols
        out += b[:, None]
        return out.reshape(len(K), len(a), oh, ow).transpose(1, 0, 2, 3), cols

    def conv_bwd(g, cols, K, a_shape, need_dx):
        f = len(K)
        g2 = g.transpose(1, 0, 2, 3).reshape(f, -1)
        dK = (g2 @ cols.T).reshape(K.shape)
        db = g2.sum(1)
        dx = None
        if need_dx:
            dx = col2im_t(K.reshape(f, -1).T @ g2, a_shape, 3, 1, g.shape[2], g.shape[3])
        return dx, dK, db

    def step(k: int) -> None:
        z1, cols1 = conv_fwd(x, K1, c1)
        r1 = np.maximum(z1, 0)
        p1, i1 = pool_forward(r1)
        z2, cols2 = conv_fwd(p1, K2, c2)
        r2 = np.maximum(z2, 0)
        p2, i2 = pool_forward(r2)
        f = p2.reshape(n, -1)
        z3 = f @ W1 + b1
        h3 = np.maximum(z3, 0)
        loss, ds = _softmax_ce_backward(h3 @ W2 + b2, y)
        dW2, db2 = h3.T @ ds, ds.sum(0)
        dz3 = (ds @ W2.T) * (z3 > 0)
        dW1, db1 = f.T @ dz3, dz3.sum(0)
        df = (dz3 @ W1.T).reshape(p2.shape)
        dz2 = pool_backward(df, i2, r2) * (z2 > 0)
        dp1, dK2, dc2 = conv_bwd(dz2, cols2, K2, p1.shape, True)
        dz1 = pool_backward(dp1, i1, r1) * (z1 > 0)
        _, dK1, dc1 = conv_bwd(dz1, cols1, K1, x.shape, False)
        params = (K1, c1, K2, c2, W1, b1, W2, b2)
        for p, g in zip(params, (dK1, dc1, dK2, dc2, dW1, db1, dW2, db2)):
            p -= lr * g
        losses.append(float(loss))

    return step, losses


def conv_torch(X, y, lr=0.05):
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    K1, c1, K2, c2, W1, b1, W2, b2 = (
        torch.tensor(a, requires_grad=True) for a in _init(conv_model())
    )
    params = (K1, c1, K2, c2, W1, b1, W2, b2)
    x = torch.tensor(X.reshape(len(X), *DIGITS_SHAPE))
    labels = torch.tensor(y)
    F = torch.nn.functional
    losses = []

    def step(k: int) -> None:
        h = F.max_pool2d(F.relu(F.conv2d(x, K1, c1, padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, K2, c2, padding=1)), 2)
        out = F.relu(h.flatten(1) @ W1 + b1) @ W2 + b2
        loss = F.cross_entropy(out, labels)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        losses.append(loss.item())

    return step, losses


def conv_methods(X):
    """One conv layer (16 filters on 8 channels of 4x4, the model's second), forward and
    backward (dL/dK and dL/dx), three ways: im2col in the textbook layout (N*OH*OW, C*9);
    im2col transposed (C*9, N*OH*OW), the engine's; a strided view contracted by tensordot."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(len(X), 8, 4, 4))
    K = rng.normal(size=(16, 8, 3, 3))
    g = rng.normal(size=(len(X), 16, 4, 4))
    K2 = K.reshape(16, -1)

    def by_im2col(_k):
        cols, oh, ow = im2col(x, 3, 1)
        out = (cols @ K2.T).reshape(len(x), oh, ow, 16).transpose(0, 3, 1, 2)
        g2 = g.transpose(0, 2, 3, 1).reshape(-1, 16)
        dK = (g2.T @ cols).reshape(K.shape)
        dx = col2im(g2 @ K2, x.shape, 3, 1, oh, ow)
        return out, dK, dx

    def by_im2col_t(_k):
        cols, oh, ow = im2col_t(x, 3, 1)
        out = (K2 @ cols).reshape(16, len(x), oh, ow).transpose(1, 0, 2, 3)
        g2 = g.transpose(1, 0, 2, 3).reshape(16, -1)
        dK = (g2 @ cols.T).reshape(K.shape)
        dx = col2im_t(K2.T @ g2, x.shape, 3, 1, oh, ow)
        return out, dK, dx

    def by_tensordot(_k):
        win = windows(x, 3, 1)
        out = np.tensordot(win, K, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
        dK = np.tensordot(g, win, axes=([0, 2, 3], [0, 2, 3]))
        dwin = np.tensordot(g, K, axes=([1], [0]))  # (N, OH, OW, C, KH, KW)
        dx = col2im(dwin, x.shape, 3, 1, 4, 4)
        return out, dK, dx

    results = [f(0) for f in (by_im2col, by_im2col_t, by_tensordot)]
    for other in results[1:]:
        for u, v in zip(results[0], other):
            np.testing.assert_allclose(u, v, atol=1e-9)
    return by_im2col, by_im2col_t, by_tensordot


# -- tiny-size overhead and memory -------------------------------------------------------------


def overhead() -> dict[str, float]:
    """Microseconds per call: one Tensor op (+ its share of backward) vs the numpy call."""
    a, b = np.ones(1), np.ones(1)
    ta, tb = Tensor(a), Tensor(b)
    n = 20_000

    def per_call(fn) -> float:
        best = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            best.append((time.perf_counter() - t0) / n * 1e6)
        return statistics.median(best)

    chain = 50

    def forward_backward() -> None:
        out = ta
        for _ in range(chain):
            out = out + tb
        out.backward()

    rounds = n // chain
    t0 = time.perf_counter()
    for _ in range(rounds):
        forward_backward()
    fb = (time.perf_counter() - t0) / (rounds * chain) * 1e6
    return {
        "numpy a + b": per_call(lambda: a + b),
        "Tensor a + b (forward)": per_call(lambda: ta + tb),
        "Tensor relu (forward)": per_call(lambda: ta.relu()),
        "Tensor a @ b, 1x1 (forward)": per_call(lambda: Tensor.__matmul__(ta2, tb2)),
        "Tensor + with its backward, per op": fb,
    }


ta2, tb2 = Tensor(np.ones((1, 1))), Tensor(np.ones((1, 1)))


def peak_mib(step) -> float:
    step(0)
    gc.collect()
    tracemalloc.start()
    step(1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


# -- accuracy with the Trainer -----------------------------------------------------------------


def accuracy_run(config_kwargs: dict, target: float, budget: float) -> dict:
    from micrograd.train import TrainConfig, Trainer

    config = TrainConfig(**config_kwargs)
    trainer = Trainer(config)
    start = time.perf_counter()
    steps, best = 0, 0.0
    reached = None
    while time.perf_counter() - start < budget and steps < config.steps:
        trainer.step()
        steps += 1
        if steps % 10 == 0:
            _, acc = trainer.evaluate(trainer.data.X_test, trainer.data.y_test)
            best = max(best, acc)
            if acc >= target and reached is None:
                reached = (steps, time.perf_counter() - start, acc)
                break
    return {"reached": reached, "steps": steps, "best": best}


# -- main --------------------------------------------------------------------------------------


def compare(title: str, makers: dict, steps: int, repeats: int, ref: str) -> dict[str, float]:
    """Rounds interleaved: each round runs every maker once (fresh weights)."""
    rates: dict[str, list[float]] = {name: [] for name in makers}
    losses: dict[str, list[float]] = {}
    for _ in range(repeats):
        for name, (make, n) in makers.items():
            step, trace = make()
            rates[name].append(rate(step, n or steps))
            losses.setdefault(name, trace)
    med = {name: statistics.median(r) for name, r in rates.items()}
    print(f"\n## {title}\n")
    print(f"| engine | steps/s (median of {repeats}) | runs | x {ref} |")
    print("| --- | --- | --- | --- |")
    for name, r in rates.items():
        runs = ", ".join(f"{v:.1f}" for v in r)
        print(f"| {name} | {med[name]:.1f} | {runs} | {med[name] / med[ref]:.2f} |")
    first = losses[ref]
    for name, trace in losses.items():
        common = min(len(trace), len(first))
        if name != ref and common:
            diff = max(abs(a - b) for a, b in zip(trace[:common], first[:common]))
            print(f"\nlosses of {name} vs {ref}: max difference {diff:.2g} over {common} steps")
    return med


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument(
        "--only",
        choices=("moons", "digits-mlp", "conv", "accuracy", "overhead"),
        action="append",
        help="run only these parts (repeatable)",
    )
    args = parser.parse_args(argv)
    parts = args.only or ["moons", "digits-mlp", "conv", "accuracy", "overhead"]
    print(
        f"numpy {np.__version__}, BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}, "
        f"PyTorch {torch.__version__ if torch else 'not installed'}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    if "moons" in parts:
        makers = {"tensor engine": (moons_tensor, 300), "hand-written numpy": (moons_numpy, 300)}
        makers["scalar engine"] = (moons_scalar, 20)
        if torch:
            makers["PyTorch CPU"] = (moons_torch, 300)
        compare("moons demo step", makers, 300, args.repeats, "hand-written numpy")
        tensor_step, _ = moons_tensor()
        print(f"\nmemory of a tensor step (tracemalloc peak): {peak_mib(tensor_step):.3f} MiB")
    X, y, X_test, y_test = digits_split()
    if "digits-mlp" in parts:
        makers = {
            "tensor engine": (lambda: mlp_tensor(X, y), 0),
            "hand-written numpy": (lambda: mlp_numpy(X, y), 0),
        }
        compare(
            "digits MLP 64-64-10, full batch (1,437)",
            makers,
            100,
            args.repeats,
            "hand-written numpy",
        )
        print(f"\nmemory of a tensor step: {peak_mib(mlp_tensor(X, y)[0]):.2f} MiB")
    if "conv" in parts:
        makers = {
            "tensor engine": (lambda: conv_tensor(X, y), 0),
            "hand-written numpy im2col": (lambda: conv_numpy(X, y), 0),
        }
        if torch:
            makers["PyTorch CPU"] = (lambda: conv_torch(X, y), 0)
        compare(
            "digits conv 8,16 + 64, full batch (1,437)",
            makers,
            10,
            args.repeats,
            "hand-written numpy im2col",
        )
        print(f"\nmemory of a tensor step: {peak_mib(conv_tensor(X, y)[0]):.2f} MiB")
        a, b, c = conv_methods(X)
        compare(
            "one conv layer (8 -> 16 channels, 4x4, batch 1,437), forward + backward",
            {
                "im2col (N*OH*OW, C*9)": (lambda: (a, []), 0),
                "im2col transposed (C*9, N*OH*OW)": (lambda: (b, []), 0),
                "strided view + tensordot": (lambda: (c, []), 0),
            },
            30,
            args.repeats,
            "im2col (N*OH*OW, C*9)",
        )
    if "accuracy" in parts:
        print("\n## accuracy on digits (Trainer, tensor engine; test split 20%, seed 1337)\n")
        common = dict(
            dataset="digits",
            samples=1797,
            test_fraction=0.2,
            engine="tensor",
            optimizer="adam",
            lr=0.01,
            alpha=1e-4,
            steps=100_000,
            eval_every=10_000,
        )
        for name, extra, target in (
            ("MLP 64-64-10", dict(hidden=(64,)), 0.95),
            ("conv 8,16 + 64", dict(hidden=(64,), conv=(8, 16), batch_size=128), 0.97),
        ):
            r = accuracy_run({**common, **extra}, target, 60.0)
            if r["reached"]:
                steps, seconds, acc = r["reached"]
                print(
                    f"- {name}: {100 * acc:.1f}% test accuracy after {steps} steps, "
                    f"{seconds:.1f} s (target {100 * target:.0f}%)"
                )
            else:
                print(
                    f"- {name}: target {100 * target:.0f}% NOT reached in 60 s "
                    f"({r['steps']} steps, best {100 * r['best']:.1f}%)"
                )
    if "overhead" in parts:
        print("\n## per-op overhead at tiny sizes (microseconds per call, median of 5)\n")
        for name, us in overhead().items():
            print(f"- {name}: {us:.2f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
