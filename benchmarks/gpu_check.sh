#!/usr/bin/env bash
# One short check on a machine with an NVIDIA GPU and CuPy (run from anywhere):
# the tensor engine's tests on the CuPy backend, then benchmarks/gpu_step.py.
# Needs numpy and CuPy; pytest and hypothesis for the tests (skipped with a line if absent);
# PyTorch for its column of gpu_step.py (left out with a line if absent).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python -c "import cupy; print('CuPy', cupy.__version__, '-', cupy.cuda.runtime.getDeviceCount(), 'GPU(s)')" 2>/dev/null \
    || { echo "gpu_check: CuPy or a GPU is missing here" >&2; exit 2; }
if python -c "import pytest, hypothesis" 2>/dev/null; then
    python -m pytest -q -p no:cacheprovider -k cupy \
        tests/test_tensor.py tests/test_tensor_nn.py tests/test_tensor_train.py
else
    echo "pytest or hypothesis is not installed: the CuPy tests are skipped"
fi
python benchmarks/gpu_step.py --repeats "${REPEATS:-5}"
