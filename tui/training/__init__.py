"""The training process: the `Trainer` runs in a child process (multiprocessing, spawn), since a
pure-Python step holds the GIL and in the app's own process would freeze the UI.

- `loop`: the loop, its throttling, and the run's state;
- `commands`: what each command does (a command type -> handler table);
- `views`: pure functions that build each report from a Trainer;
- `shown_graph`, `edits`: the shown step's graph (gradient checks, neuron views), data edits.

This package imports no UI code. `child_main` is the process's entry point.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import traceback
from typing import Any

from micrograd.train import TrainConfig
from tui.protocol import Stopped
from tui.training.loop import TrainingLoop

PR_SET_PDEATHSIG = 1  # prctl(2) option: a signal for this process when its parent dies


def die_with_parent(kernel_signal: bool) -> None:
    """End this process within moments of the app's death, whatever the loop is doing: a step
    of a huge run takes tens of seconds, and the loop looks for a dead parent only between steps.

    A daemon thread blocks on the pipe whose write end only the parent holds (multiprocessing's
    parent sentinel): its EOF means the parent is gone, and the thread ends the process. On
    Linux the kernel is also asked for SIGKILL at the parent's death (PR_SET_PDEATHSIG), which
    needs no Python thread to get the GIL; `kernel_signal` says the parent started this process
    from its main thread (the signal comes when that thread ends, not the process)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    if kernel_signal and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if not parent.is_alive() or (parent.pid is not None and os.getppid() != parent.pid):
        os._exit(1)  # it died before the watch began
    threading.Thread(
        target=_exit_at_eof, args=(parent.sentinel,), name="parent-watch", daemon=True
    ).start()


BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread() -> None:
    """One BLAS thread for the tensor engine's matrix products, unless the user set a number:
    read when numpy loads (later, for a tensor run only). The products of a step are small;
    OpenBLAS's threads, one per core, made the conv model's step 4x slower on 2 cores shared
    with the UI (20 ms against 5 ms, benchmarks/README.md) and delayed the UI's frames."""
    for name in BLAS_THREADS:
        os.environ.setdefault(name, "1")


def _exit_at_eof(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def child_main(
    config: TrainConfig,
    paused: bool,
    commands: Any,
    reports: Any,
    load: str | None = None,
    replay: bool = False,
    kernel_signal: bool = False,
) -> None:
    """Entry point of the training process."""
    die_with_parent(kernel_signal)
    one_blas_thread()
    # The terminal belongs to the app: nothing the child prints may reach it.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    error = None
    try:
        TrainingLoop(config, paused, commands, reports, load, replay).run()
    except Exception:  # report it to the app instead of dying silently
        error = traceback.format_exc(limit=-3)
    reports.put(Stopped(error))
    if error is None:
        reports.cancel_join_thread()  # the app may have stopped reading: do not wait for it
    reports.close()
