"""Signals and processes (issue 13, items 6 to 8): a headless run stops cleanly and saves on
SIGTERM and SIGHUP as on Ctrl-C; the training process never outlives the app, whatever it is
doing; the app in a terminal restores it on SIGTERM and SIGHUP; a served app ends with its
server. Processes are watched through /proc, with bounded polls."""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from micrograd import checkpoint

sys.path.insert(0, os.path.dirname(__file__))
from test_tmux import Terminal  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--samples", "20", "--hidden", "4"]
# A training process that is busy for tens of seconds at once: the first decision boundary of a
# 2-1024-1024-1 network (about 20 s here), with no step (and no memory-hungry graph) needed.
SLOW_ARGS = "--samples 20 --hidden 1024,1024 --seed 1"


def wait_until(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Running (a zombie has ended: only its exit status waits to be collected)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        out += kids
        todo += kids
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def training_process(app_pid: int) -> int | None:
    """The app's training process: a multiprocessing child that is not the resource tracker."""
    for pid in children(app_pid):
        line = cmdline(pid)
        if "multiprocessing" in line and "resource_tracker" not in line:
            return pid
    return None


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


# -- item 6: headless runs on SIGTERM and SIGHUP --------------------------------------------------


def start_headless(save: Path, **kw) -> subprocess.Popen:
    command = [sys.executable, "-m", "tui", "--headless", *SMALL, "--steps", "10000000"]
    command += ["--every", "5", "--save", str(save)]
    return subprocess.Popen(command, env=environment(), cwd=save.parent, **kw)


@pytest.mark.parametrize(
    ("signum", "status", "why"),
    [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP: the terminal hung up")],
)
def test_sigterm_and_sighup_stop_headless_after_the_step_summarise_and_save(
    signum, status, why, tmp_path: Path
) -> None:
    save = tmp_path / "run.json"
    process = start_headless(save, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("training ")
        assert process.stdout.readline().startswith("step 5 ")
        process.send_signal(signum)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == status, (out, err)
    assert err == "" and "Traceback" not in out
    done = int(re.search(rf"interrupted \({re.escape(why)}\) after (\d+) steps", out).group(1))
    lines = out.splitlines()
    assert any(line.startswith(f"done: {done} steps in ") for line in lines), out
    assert lines[-1] == f"saved step {done} to {save}"
    resumed = checkpoint.load(save)  # whole, and a whole step
    assert resumed.step_count == done == len(resumed.history)


def test_a_terminal_that_hangs_up_still_gets_its_run_saved(tmp_path: Path) -> None:
    """A real hang-up: the run's controlling terminal (a pty) closes, as when an SSH session
    drops. Its output can no longer be written (EIO); the save must happen all the same."""
    save = tmp_path / "run.json"
    master, slave = os.openpty()

    def take_the_terminal() -> None:  # after setsid: the pty becomes the controlling terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = start_headless(
        save,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=take_the_terminal,
    )
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while b"step 10 " not in seen:
            assert time.monotonic() < deadline, seen
            if select.select([master], [], [], 1)[0]:
                seen += os.read(master, 4096)
        os.close(master)  # hang up
        status = process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    assert status == 129
    resumed = checkpoint.load(save)
    assert resumed.step_count >= 10 and resumed.step_count == len(resumed.history)


def test_under_nohup_a_hang_up_is_ignored_and_sigterm_still_saves(tmp_path: Path) -> None:
    save = tmp_path / "run.json"

    def nohup() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    process = start_headless(
        save, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=nohup
    )
    try:
        assert process.stdout.readline().startswith("training ")
        assert process.stdout.readline().startswith("step 5 ")
        process.send_signal(signal.SIGHUP)
        for _ in range(3):  # it trains on
            assert process.stdout.readline().startswith("step ")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, (out, err)
    assert "interrupted (SIGTERM)" in out and checkpoint.load(save).step_count > 5


def test_a_closed_output_pipe_stops_headless_after_the_step_and_still_saves(tmp_path) -> None:
    """`microgradtui --headless ... | head -3`: once the reader is gone the run stops, saves and
    exits as a shell reports a closed pipe (141), with no traceback."""
    save = tmp_path / "run.json"
    process = start_headless(save, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(3):
            assert process.stdout.readline()
        process.stdout.close()  # the reader goes away
        status = process.wait(30)
        err = process.stderr.read().decode()
    finally:
        if process.poll() is None:
            process.kill()
    assert status == 141 and "Traceback" not in err, err
    resumed = checkpoint.load(save)
    assert resumed.step_count >= 10 and resumed.step_count == len(resumed.history)


# -- item 7: the training process never outlives the app ------------------------------------------

PARENT = """
import sys, threading, time
from micrograd.train import TrainConfig
from tui.protocol import DatasetView
from tui.session import Session

def start():
    session = Session(TrainConfig(samples=20, hidden=(1024, 1024), seed=1))
    session.start()
    while not isinstance(session.get(timeout=60), DatasetView):
        pass
    print(session.process.pid, flush=True)  # now busy drawing its first boundary

if __name__ == "__main__":
    if sys.argv[1] == "thread":  # started from a thread that lives on: no kernel signal
        threading.Thread(target=start).start()
    else:
        start()
    time.sleep(600)
"""


@pytest.mark.parametrize("started_from", ["main", "thread"])
def test_a_busy_training_process_ends_when_its_parent_is_killed(started_from, tmp_path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen(
        [sys.executable, str(script), started_from],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environment(),
    )
    child = int(parent.stdout.readline())
    try:
        assert alive(child)
        parent.kill()
        parent.wait(10)
        wait_until(lambda: not alive(child), "the orphaned training process to end")
    finally:
        for pid in (parent.pid, child):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


# -- items 7 and 8: the app in a terminal ------------------------------------------------------

pytestmark_tmux = pytest.mark.skipif(
    shutil.which("tmux") is None and not os.environ.get("CI"), reason="needs tmux"
)


@pytest.fixture
def term(tmp_path) -> Iterator[Terminal]:
    t = Terminal(f"mgtui-sig-{os.getpid()}-{time.monotonic_ns()}", str(tmp_path))
    t.started: list[int] = []  # pids app_processes found: none may outlive a failed test
    yield t
    t.tmux("kill-server")
    for pid in t.started:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def flags(term: Terminal) -> dict[str, str]:
    names = ("alternate_on", "cursor_flag", "mouse_any_flag", "mouse_all_flag", "mouse_sgr_flag")
    out = term.tmux("display", "-p", "-t", "app", " ".join(f"#{{{n}}}" for n in names))
    return dict(zip(names, out.split(), strict=True))


def app_processes(term: Terminal) -> tuple[int, int]:
    """The app's pid and its training process's, once both run."""
    shell = int(term.tmux("display", "-p", "-t", "app", "#{pane_pid}"))
    found: dict[str, int] = {}

    def both() -> bool:
        apps = [p for p in children(shell) if " -m tui " in cmdline(p)]
        if apps:
            found["app"] = apps[0]
            training = training_process(apps[0])
            if training is not None:
                found["training"] = training
        return len(found) == 2

    wait_until(both, "the app and its training process", timeout=30)
    term.started += [found["app"], found["training"]]
    return found["app"], found["training"]


@pytestmark_tmux
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_restore_the_terminal_and_end_training(signum, status, term) -> None:
    term.start(100, 30, "--samples 40 --hidden 8 --steps 100000 --seed 7")
    term.wait_for(lambda s: "steps/s" in s and "running" in s, "the app to train")
    assert flags(term)["alternate_on"] == "1"
    app, training = app_processes(term)
    os.kill(app, signum)
    text = term.wait_for(lambda s: f"EXITED {status}" in s, f"the app to exit with {status}")
    assert flags(term) == {
        "alternate_on": "0",  # back on the shell's screen
        "cursor_flag": "1",  # the cursor shown
        "mouse_any_flag": "0",  # no mouse tracking
        "mouse_all_flag": "0",
        "mouse_sgr_flag": "0",
    }
    assert "steps/s" not in text  # the app's screen is gone: the shell's is back
    wait_until(lambda: not alive(app) and not alive(training), "the app's processes to end")


@pytestmark_tmux
def test_a_closed_terminal_ends_the_app_and_its_training(term) -> None:
    """The window closes (tmux kills the pane): a real hang-up, the terminal gone for good."""
    term.start(100, 30, "--samples 40 --hidden 8 --steps 100000 --seed 7")
    term.wait_for(lambda s: "steps/s" in s and "running" in s, "the app to train")
    app, training = app_processes(term)
    term.tmux("kill-server")
    wait_until(lambda: not alive(app) and not alive(training), "the app's processes to end")


def test_sighup_ends_an_app_whose_terminal_went_away_first(tmp_path: Path) -> None:
    """The terminal goes away before any signal (a pty closed that is not the app's controlling
    terminal, as when the signal comes later from whatever ends the session): every write to
    it now fails. A SIGHUP must still end the app and its training process."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    app = subprocess.Popen(
        [sys.executable, "-m", "tui", "--samples", "40", "--hidden", "8", "--seed", "7"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        cwd=tmp_path,
        env={**environment(), "TERM": "xterm-256color"},
    )
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while b"steps/s" not in seen:  # drawing, and training
            assert time.monotonic() < deadline, seen[-500:]
            if select.select([master], [], [], 1)[0]:
                seen += os.read(master, 65536)
        wait_until(lambda: training_process(app.pid), "the training process", timeout=30)
        training = training_process(app.pid)
        os.close(master)
        app.send_signal(signal.SIGHUP)
        wait_until(lambda: app.poll() is not None, "the app to end", timeout=15)
        wait_until(lambda: not alive(training), "its training process to end")
    finally:
        if app.poll() is None:
            app.kill()


@pytestmark_tmux
def test_killing_the_app_ends_its_busy_training_process(term) -> None:
    term.start(100, 30, SLOW_ARGS)
    app, training = app_processes(term)  # building its model, then its first boundary: 20 s
    os.kill(app, signal.SIGKILL)
    wait_until(lambda: not alive(training), "the orphaned training process to end")


# -- item 7: a served app ends with its server ----------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hold_a_browser(port: int, connected: threading.Event) -> None:
    """What a browser does: open the websocket (which starts an app), and keep it open."""
    import aiohttp

    async def browse() -> None:
        async with aiohttp.ClientSession() as client:
            url = f"http://127.0.0.1:{port}/ws?width=100&height=30"
            async with client.ws_connect(url) as ws:
                connected.set()
                async for _ in ws:  # until the server goes away
                    pass

    try:
        asyncio.run(browse())
    except Exception:  # the server was killed: the connection breaks
        pass


def test_killing_the_server_ends_the_served_app_and_its_training(tmp_path: Path) -> None:
    pytest.importorskip("textual_serve")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tui", "--serve", "--port", str(port), *SMALL],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        env=environment(),
    )
    served: list[int] = []
    try:

        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        wait_until(listening, "the server to listen", timeout=30)
        connected = threading.Event()
        threading.Thread(target=hold_a_browser, args=(port, connected), daemon=True).start()
        assert connected.wait(30)
        found: dict[str, int] = {}

        def app_and_training() -> bool:
            apps = [p for p in descendants(server.pid) if " -m tui " in cmdline(p)]
            for app in apps:
                training = training_process(app)
                if training is not None:
                    found.update(app=app, training=training)
            return bool(found)

        wait_until(app_and_training, "the served app and its training process", timeout=30)
        served += descendants(server.pid)
        server.kill()
        server.wait(10)
        wait_until(
            lambda: not any(alive(p) for p in served), "the served app and its training to end"
        )
    finally:
        for pid in [server.pid, *served]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
