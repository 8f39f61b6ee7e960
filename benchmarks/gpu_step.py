"""The tensor engine on a GPU (CuPy) against hand-written CuPy and PyTorch CUDA, and the tiny
moons step on the GPU against the CPU.

    python benchmarks/gpu_step.py                   # on a machine with CuPy and a GPU
    python benchmarks/gpu_step.py --repeats 5 --quick

One training step: forward, softmax cross-entropy, backward, SGD, float32, on random inputs
(784 features, 10 classes; no data set needed, nothing downloaded), for
- MLP 784-1024-1024-10 at batch 1,024 (overhead-bound: the engine's Python cost per op decides),
- MLP 784-4096-4096-10 at batch 8,192 (compute-bound),
each as: our engine on CuPy, a hand-written CuPy forward/backward of the same step (the limit
for an engine on CuPy), PyTorch CUDA (if installed), and our engine on numpy (the CPU, fewer
steps). Weights come from one numpy generator, identical for every contestant; each timing
synchronises the device before reading the clock. Then the moons demo step (100 samples,
MLP 2-16-16-1, hinge + L2) on the GPU and on the CPU: tiny, so the GPU loses (what
`--device auto` has to know).

Targets (issue 16): >= 0.9x hand-written CuPy and >= 1x PyTorch on the first model; >= 0.9x
PyTorch on the second. Exit status 2 with one line if CuPy or a GPU is missing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from micrograd import tensor_nn as tn  # noqa: E402
from micrograd.device import DeviceError, get_device  # noqa: E402
from micrograd.tensor import Tensor, linear  # noqa: E402

try:
    import torch  # type: ignore[import-not-found]
except ImportError:
    torch = None

MODELS = (
    ("784-1024-1024-10", (784, 1024, 1024, 10), 1024),
    ("784-4096-4096-10", (784, 4096, 4096, 10), 8192),
)
LR = 0.01


def weights(sizes, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for nin, nout in zip(sizes, sizes[1:]):
        bound = 1.0 / np.sqrt(nin)
        out += [
            rng.uniform(-bound, bound, (nin, nout)).astype(np.float32),
            np.zeros(nout, np.float32),
        ]
    return out


def batch(sizes, n, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, sizes[0])).astype(np.float32), rng.integers(0, sizes[-1], n)


def ours(xp, sizes, n):
    params = [Tensor(xp.asarray(w), dtype="float32") for w in weights(sizes)]
    Xh, yh = batch(sizes, n)
    x = Tensor(xp.asarray(Xh), requires_grad=False)
    y = xp.asarray(yh)
    opt = tn.SGD(params, LR)

    def step() -> None:
        h = x
        for i in range(0, len(params) - 2, 2):
            h = linear(h, params[i], params[i + 1]).relu()
        loss = tn.softmax_cross_entropy(linear(h, params[-2], params[-1]), y)
        for p in params:
            p.grad = None
        loss.backward()
        opt.step()

    return step


def by_hand(xp, sizes, n):
    """The same step written out on the array module: the limit for an engine on it."""
    params = [xp.asarray(w) for w in weights(sizes)]
    Xh, yh = batch(sizes, n)
    x, y = xp.asarray(Xh), xp.asarray(yh)
    rows = xp.arange(n)

    def step() -> None:
        hs, zs = [x], []
        for i in range(0, len(params) - 2, 2):
            z = hs[-1] @ params[i] + params[i + 1]
            zs.append(z)
            hs.append(z * (z > 0))
        logits = hs[-1] @ params[-2] + params[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        d = e / e.sum(axis=1, keepdims=True)
        d[rows, y] -= 1.0
        d /= n
        grads = [None] * len(params)
        for layer in range(len(params) // 2 - 1, -1, -1):
            w = params[2 * layer]
            grads[2 * layer] = hs[layer].T @ d
            grads[2 * layer + 1] = d.sum(axis=0)
            if layer:
                d = (d @ w.T) * (zs[layer - 1] > 0)
        for p, g in zip(params, grads):
            p -= LR * g

    return step


def pytorch(sizes, n):
    dev = torch.device("cuda")
    params = [torch.tensor(w, device=dev, requires_grad=True) for w in weights(sizes)]
    Xh, yh = batch(sizes, n)
    x, y = torch.tensor(Xh, device=dev), torch.tensor(yh, device=dev)

    def step() -> None:
        h = x
        for i in range(0, len(params) - 2, 2):
            h = torch.relu(h @ params[i] + params[i + 1])
        loss = torch.nn.functional.cross_entropy(h @ params[-2] + params[-1], y)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad

    return step


def moons(xp):
    from micrograd.data import make_moons

    X, y = make_moons(100, 0.1, 1337)
    model = tn.MLP(2, [16, 16, 1], seed=1337, dtype=np.float32, device=_device_of(xp))
    params = model.parameters()
    x = Tensor(xp.asarray(np.asarray(X, np.float32)), requires_grad=False)
    labels = xp.asarray(np.asarray(y))
    opt = tn.SGD(params, 0.1)

    def step() -> None:
        loss = tn.hinge(model(x), labels) + tn.l2(params, 1e-4)
        for p in params:
            p.grad = None
        loss.backward()
        opt.step()

    return step


def _device_of(xp):
    return get_device("cuda" if xp.__name__ == "cupy" else "cpu")


def timed(step, n: int, sync) -> float:
    step()  # warm-up: kernels compiled, memory pool filled
    sync()
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    sync()
    return n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer steps per timing")
    args = parser.parse_args(argv)
    try:
        cp = get_device("cuda").xp
    except DeviceError as exc:
        print(f"gpu_step: {exc}", file=sys.stderr)
        return 2
    sync_gpu = cp.cuda.Device().synchronize
    if torch is not None and not torch.cuda.is_available():
        print("gpu_step: PyTorch is installed but sees no GPU: left out", file=sys.stderr)
    use_torch = torch is not None and torch.cuda.is_available()
    name = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(
        f"GPU {name}, CuPy {cp.__version__}, numpy {np.__version__}, "
        f"PyTorch {torch.__version__ if torch else 'not installed'}"
    )
    scale = 0.2 if args.quick else 1.0
    for title, sizes, n in MODELS:
        big = sizes[1] > 2000
        steps = max(3, int((30 if big else 200) * scale))
        contestants = {
            "ours on CuPy": (partial(ours, cp, sizes, n), sync_gpu, steps),
            "hand-written CuPy": (partial(by_hand, cp, sizes, n), sync_gpu, steps),
        }
        if use_torch:
            contestants["PyTorch CUDA"] = (
                partial(pytorch, sizes, n),
                torch.cuda.synchronize,
                steps,
            )
        contestants["ours on numpy (CPU)"] = (
            partial(ours, np, sizes, n),
            lambda: None,
            max(2, int((2 if big else 10) * scale)),
        )
        rates: dict[str, list[float]] = {k: [] for k in contestants}
        for _ in range(args.repeats):
            for key, (make, sync, count) in contestants.items():
                rates[key].append(timed(make(), count, sync))
        med = {k: statistics.median(v) for k, v in rates.items()}
        print(f"\n## MLP {title}, batch {n:,}, float32 (median of {args.repeats})\n")
        print("| engine | steps/s | runs | x hand-written CuPy | x PyTorch |")
        print("| --- | --- | --- | --- | --- |")
        for key, v in rates.items():
            vs_torch = f"{med[key] / med['PyTorch CUDA']:.2f}" if use_torch else "-"
            runs = ", ".join(f"{r:.1f}" for r in v)
            print(
                f"| {key} | {med[key]:.1f} | {runs} | "
                f"{med[key] / med['hand-written CuPy']:.2f} | {vs_torch} |"
            )
    gpu = [timed(moons(cp), int(300 * scale), sync_gpu) for _ in range(args.repeats)]
    cpu = [timed(moons(np), int(300 * scale), lambda: None) for _ in range(args.repeats)]
    print("\n## moons demo step (MLP 2-16-16-1, 100 samples), our engine\n")
    print(f"- GPU (CuPy): {statistics.median(gpu):.0f} steps/s")
    print(
        f"- CPU (numpy): {statistics.median(cpu):.0f} steps/s "
        f"({statistics.median(cpu) / statistics.median(gpu):.1f}x the GPU)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
