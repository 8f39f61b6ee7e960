"""The app's side of the training process: starts it, numbers and sends its commands
(`tui.protocol`), reads its reports, and stops it.

One thread worker in the app blocks on `Session.get` and hands each report to the UI.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import threading
import time

from micrograd.train import TrainConfig
from tui.protocol import Command, Report, Stop
from tui.training import child_main


class Session:
    """Starts, commands and stops the training process. Owns both queues."""

    def __init__(
        self,
        config: TrainConfig,
        paused: bool = False,
        load: str | None = None,
        replay: bool = False,
    ) -> None:
        self.config = config
        self.paused = paused
        self.load = load
        self.replay = replay
        ctx = multiprocessing.get_context("spawn")
        self._ctx = ctx
        self.commands = ctx.Queue()
        self.reports = ctx.Queue()
        self.process: multiprocessing.process.BaseProcess | None = None
        self.serial = 0  # of the last command sent

    def start(self) -> None:
        self.process = self._ctx.Process(
            target=child_main,
            args=(self.config, self.paused, self.commands, self.reports, self.load, self.replay)
            + (threading.current_thread() is threading.main_thread(),),
            name="microgradtui-training",
            daemon=True,
        )
        self.process.start()
        self._release_report_writer()

    def _release_report_writer(self) -> None:
        """Close this process's copy of the report pipe's write end (only the child writes).

        Otherwise a training process that dies in the middle of sending a report (killed, or
        terminated by `stop`) leaves half a message in the pipe that no EOF will ever end, and
        the app's report thread blocks in `get` for good (seen as a hang at quit in a test
        run). With the child as the only writer, its death is an EOF and `get` returns.
        multiprocessing.Queue has no public call for this, hence the private attribute.
        """
        writer = getattr(self.reports, "_writer", None)
        if writer is not None:
            writer.close()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def send(self, command: Command) -> int:
        """Queue a command; the training loop reads it before its next step. Returns its serial."""
        self.serial += 1
        with contextlib.suppress(OSError, ValueError):
            self.commands.put((self.serial, command))
        return self.serial

    def get(self, timeout: float) -> Report | None:
        """The next report, or None after `timeout` seconds."""
        try:
            return self.reports.get(timeout=timeout)
        except (queue.Empty, OSError, ValueError, EOFError):
            return None

    def stop(self, timeout: float = 0.6) -> None:
        """Ask the loop to stop, wait a little, then terminate. Leaves no child behind."""
        process = self.process
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            self.commands.put((self.serial + 1, Stop()))
        deadline = time.monotonic() + timeout
        # The child flushes its report queue before exiting: keep draining it meanwhile.
        while process.is_alive() and time.monotonic() < deadline:
            self.get(timeout=0.02)
        if process.is_alive():
            process.terminate()
            process.join(0.3)
        if process.is_alive():
            process.kill()
            process.join(0.3)
        for q in (self.commands, self.reports):
            q.cancel_join_thread()
            q.close()
        self.process = None
