"""Leaving when told to: SIGTERM and SIGHUP (a closed terminal or SSH session), or, in a browser,
the end of the server's pipe, stop training and leave through the app's normal exit, which
restores the terminal (main screen, no mouse tracking, cursor shown).

The signal handler only writes the signal to a pipe; a thread reading it asks the UI thread to
leave, and ends the process LEAVE_GRACE seconds later if it is still there: after a real hang-up
every write to the terminal fails, Textual's writer thread dies on the first one, and the UI
thread can block for good on its full queue.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable

LEAVE_GRACE = 5.0  # seconds the app has to exit after a signal or a lost server, else it is ended


def leave_on_hangup(leave: Callable[[int], None], is_web: bool) -> None:
    """From now on (called on the UI thread's loop), a signal or a lost server calls
    `leave(status)` there, and ends the process if the app has not left in time."""
    loop = asyncio.get_running_loop()
    told, tell = os.pipe()
    threading.Thread(
        target=_leave_when, args=(loop, leave, _signal_from(told)), name="signals", daemon=True
    ).start()
    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, lambda signum, frame: os.write(tell, bytes([signum])))
    if is_web:
        threading.Thread(
            target=_leave_when, args=(loop, leave, _server_gone), name="server", daemon=True
        ).start()


def _leave_when(
    loop: asyncio.AbstractEventLoop, leave: Callable[[int], None], wait: Callable[[], int]
) -> None:
    """(A thread.) Once `wait()` returns an exit status, leave; end the process if the UI
    thread has not managed to within LEAVE_GRACE seconds."""
    status = wait()
    loop.call_soon_threadsafe(leave, status)
    time.sleep(LEAVE_GRACE)
    os._exit(status)  # the training process ends with this one (die_with_parent)


def _signal_from(pipe: int) -> Callable[[], int]:
    """Wait for a signal number written to `pipe`; 128 + it, the exit status a shell shows."""
    return lambda: 128 + os.read(pipe, 1)[0]


def _server_gone() -> int:
    """Wait until the pipe to the server (textual-serve) breaks: a server killed outright would
    otherwise leave the app and its training process running for good. 128 + SIGPIPE."""
    poller = select.poll()
    poller.register(sys.__stdout__.fileno(), 0)  # errors and hang-ups are always reported
    while not any(
        event & (select.POLLERR | select.POLLHUP | select.POLLNVAL) for _, event in poller.poll()
    ):
        pass
    return 128 + getattr(signal, "SIGPIPE", 13)
