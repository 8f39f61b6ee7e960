"""The app in a real terminal: launch time, key-to-screen latency, training speed, memory.

Runs `python -m tui` in a fresh tmux server (its own socket, `-f /dev/null`, a 120x40 window)
and reads the screen with `capture-pane`, as a user would see it. Keys and screen reads go
through one tmux control-mode client (`tmux -C attach -f no-output,ignore-size`), so a poll is
one round trip to the tmux server (about 0.2-0.3 ms, measured and reported) instead of a new
`tmux` process (about 5 ms). Four measurements, in one invocation:

1. Launch to first frame: from `tmux new-session` (which starts the server and the app) until
   the four pane titles (Dataset, Loss, Parameters, Graph) and a status line with `step` are on
   screen; also until the status line shows step >= 1 (training started). --repeats times, each
   in a fresh tmux server; median and max.
2. Key to screen: with training running, send `+` (then `-`, alternately, so the lr stays
   between two values) and poll the status line until it shows the new lr; --presses presses
   with a random gap of 0.1-0.3 s. p50, p95, max, the poll cost and the poll interval.
3. Training speed: the app's step counter over --window seconds of wall clock (from one change
   of the shown step to another), in --rounds windows, against the same config trained
   headless in this process (`micrograd.train.Trainer`, about a window's worth of steps) before,
   between and after the windows while the app is paused (space). Each window's ratio is to the
   mean of the headless runs on its two sides, so a change in the machine's load during the run
   falls on both; the median of the ratios is the figure. Also the CPU share of the UI process
   and of the training process.
4. Memory: RSS (VmRSS) of the UI process and of the training process (the app's child running
   `multiprocessing.spawn`) every --mem-steps/10 steps (as the status line shows them) up to
   --mem-steps, and each one's peak so far (VmHWM); the training process's as the lowest and
   highest of 20 readings over 0.2 s (it moves by MiBs within a step; the lowest is what
   stays), on the default config (about 3 minutes for 10,000 steps; --mem-args to change).
   Not on a tiny fast model: there the app's status line lags training by seconds (see
   benchmarks/README.md), so samples taken "at step n" would bunch up.

--diagnose adds key-latency variations, each in a fresh app: paused, 80x24, one pane zoomed, a
tiny model; and every press records which panes were repainted between the press and the frame
that showed it.

Measurements 2 and 3 share one app, started with `--steps 1000000` so training never stops by
itself (the default of 300 steps would pause it after a few seconds); otherwise the default
config (moons, 100 samples, MLP 2-16-16-1, SGD lr 0.5). Every tmux server is killed on exit,
Ctrl-C included, and every process the app started is checked gone.

    python benchmarks/app_latency.py --diagnose      # the full run, about 7 minutes
    python benchmarks/app_latency.py --quick         # a smoke run, about a minute
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import random
import re
import select
import shlex
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZE = (120, 40)
TITLES = ("Dataset", "Loss", "Parameters", "Graph")
STATUS_RE = re.compile(
    r"\bstep (\d+)  loss (\S+)  (?:test \S+  )?acc (\S+)%  lr (\S+)(?: \((\S+) asked\))?  "
    r"(\S+) steps/s  (\w+)"
)
RUN_ARGS = ["--steps", "1000000"]  # the default config, training that does not stop by itself
# A tiny, fast model (about 2,000 steps/s): a diagnosis case, not the memory default, because at
# steps much shorter than 5 ms the app's report queue stalls for seconds (see the README).
TINY_ARGS = ["--samples", "20", "--hidden", "4", "--steps", "1000000"]
TARGETS = {
    "launch_s": 1.0,
    "latency_p50_ms": 25.0,
    "latency_p95_ms": 60.0,
    "speed_ratio": 0.90,
}
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """Something the benchmark cannot measure around (the app died, a screen never came)."""


# -- /proc ---------------------------------------------------------------------------------------
def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, ...


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from the ppid field of /proc/*/stat)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and int(fields[1]) == pid:
                out.append(int(entry))
    return out


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def rss_kib(pid: int, field: str = "VmRSS") -> int | None:
    """A process's resident memory now (VmRSS) or at its peak so far (VmHWM), KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_burst(pid: int, readings: int = 20, gap: float = 0.01) -> tuple[int, int] | None:
    """The lowest and highest of `readings` RSS readings `gap` s apart: the training process's
    RSS moves by several MiB within a step (a batch's arrays come and go), so one reading says
    more about where in the step it fell than about what stays; the lowest is what stays."""
    got = []
    for _ in range(readings):
        kib = rss_kib(pid)
        if kib is not None:
            got.append(kib)
        time.sleep(gap)
    return (min(got), max(got)) if got else None


def cpu_seconds(pid: int) -> float | None:
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def run_delay_seconds(pid: int) -> float | None:
    """Time the process's threads spent runnable but waiting for a CPU (/proc/.../schedstat)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        return (
            sum(int(Path(f"/proc/{pid}/task/{t}/schedstat").read_text().split()[1]) for t in tasks)
            / 1e9
        )
    except (OSError, ValueError, IndexError):
        return None


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# -- tmux ----------------------------------------------------------------------------------------
class Tmux:
    """A fresh tmux server running the app in one pane, driven by a control-mode client."""

    _ids = itertools.count()
    live: set[Tmux] = set()  # every server not yet closed, for the cleanup on the way out

    def __init__(self, app_args: list[str], size: tuple[int, int] = SIZE) -> None:
        self.socket = f"applat-{os.getpid()}-{next(self._ids)}"
        self.app_args = app_args
        self.size = size
        self.control: subprocess.Popen | None = None
        self.app_pid: int | None = None
        self.seen_pids: set[int] = set()
        self._buf = b""

    def __enter__(self) -> Tmux:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=10,
        )

    def start(self) -> float:
        """Start the server and the app; returns the perf_counter time just before."""
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        w, h = self.size
        cmd = ["tmux", "-L", self.socket, "-f", "/dev/null", "new-session", "-d", "-s", "bench"]
        cmd += ["-x", str(w), "-y", str(h), "-c", str(REPO), sys.executable, "-m", "tui"]
        cmd += [*self.app_args, ";", "set-option", "-g", "remain-on-exit", "on"]
        Tmux.live.add(self)
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, timeout=10, capture_output=True)
        self.control = subprocess.Popen(
            ["tmux", "-L", self.socket, "-C", "attach-session", "-f", "no-output,ignore-size"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        self._block()  # the reply to attach-session itself
        self.app_pid = int(self.cmd("display-message -p '#{pane_pid}'")[0])
        self.seen_pids.add(self.app_pid)
        return t0

    def _block(self, timeout: float = 10.0) -> list[str]:
        """The next %begin ... %end block of the control client's output."""
        assert self.control is not None and self.control.stdout is not None
        fd = self.control.stdout.fileno()
        lines: list[str] = []
        inside = False
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" not in self._buf:
                if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    raise BenchError("tmux did not answer within 10 s")
                data = os.read(fd, 1 << 16)
                if not data:
                    raise BenchError("the tmux control client exited (did the app die?)")
                self._buf += data
            raw, self._buf = self._buf.split(b"\n", 1)
            line = raw.decode("utf-8", "replace")
            if line.startswith("%begin"):
                inside, lines = True, []
            elif inside and line.startswith(("%end", "%error")):
                if line.startswith("%error"):
                    raise BenchError(f"tmux: {' '.join(lines)}")
                return lines
            elif inside:
                lines.append(line)
            elif line.startswith("%exit"):
                raise BenchError("the tmux server went away (did the app die?)")

    def cmd(self, command: str) -> list[str]:
        assert self.control is not None and self.control.stdin is not None
        self.control.stdin.write(command.encode() + b"\n")
        return self._block()

    def screen(self, first: int | None = None, last: int | None = None) -> list[str]:
        rows = "" if first is None else f" -S {first} -E {last if last is not None else first}"
        return self.cmd(f"capture-pane -p -t bench{rows}")

    def send_key(self, key: str) -> None:
        self.cmd(f"send-keys -t bench -- {key}")

    def app_dead(self) -> bool:
        return self.cmd("display-message -p '#{pane_dead}'")[0].strip() == "1"

    def training_pid(self, timeout: float = 10.0) -> int:
        """The app's child that runs the training loop (not the resource tracker)."""
        assert self.app_pid is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid in children(self.app_pid):
                self.seen_pids.add(pid)
                if "spawn_main" in cmdline(pid):
                    return pid
            time.sleep(0.05)
        raise BenchError("no training process found under the app")

    def close(self) -> list[int]:
        """Kill the server and everything the app started; returns pids still alive (none)."""
        if self.app_pid is not None:
            self.seen_pids.update(descendants(self.app_pid))
        if self.control is not None:
            with contextlib.suppress(OSError, ValueError):
                self.control.stdin.close()  # type: ignore[union-attr]
            try:
                self.control.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.control.kill()
                self.control.wait()
            self.control = None
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._tmux("kill-server", check=False)
        deadline = time.monotonic() + 3.0  # the app gets SIGHUP and stops its child
        while time.monotonic() < deadline and any(alive(p) for p in self.seen_pids):
            time.sleep(0.05)
        for pid in self.seen_pids:
            if alive(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
        Tmux.live.discard(self)
        return [p for p in self.seen_pids if alive(p)]


def parse_status(lines: list[str]) -> tuple[int, dict] | None:
    """(row, fields) of the status line on screen, or None."""
    for row, line in enumerate(lines):
        m = STATUS_RE.search(line)
        if m:
            step, loss, acc, lr, asked, rate, state = m.groups()
            fields = {"step": int(step), "lr": lr, "asked": asked, "rate": rate, "state": state}
            return row, fields
    return None


def has_all_panes(lines: list[str]) -> bool:
    text = "\n".join(lines)
    return all(f"─ {title} " in text for title in TITLES)  # a title may go on (Loss · acc)


def wait_screen(t: Tmux, done, timeout: float, interval: float = 0.005) -> tuple[float, list]:
    """Poll the screen until done(lines) is true; (time, lines)."""
    deadline = time.perf_counter() + timeout
    while True:
        lines = t.screen()
        now = time.perf_counter()
        if done(lines):
            return now, lines
        if now > deadline:
            tail = "\n".join(lines[-8:])
            raise BenchError(f"the screen did not reach the expected state in {timeout} s:\n{tail}")
        time.sleep(interval)


def step_of(lines: list[str]) -> int:
    status = parse_status(lines)
    return -1 if status is None else status[1]["step"]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in [0, 100])."""
    ordered = sorted(values)
    k = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[k - 1]


# -- 1. launch -----------------------------------------------------------------------------------
def measure_launch(repeats: int) -> dict:
    frames, started = [], []
    for i in range(repeats):
        with Tmux([]) as t:
            t0 = t.start()
            t_frame, _ = wait_screen(
                t, lambda s: has_all_panes(s) and parse_status(s) is not None, 30
            )
            t_step, _ = wait_screen(t, lambda s: step_of(s) >= 1, 30)
            frames.append(t_frame - t0)
            started.append(t_step - t0)
        print(
            f"  launch {i + 1}/{repeats}: first frame {frames[-1]:.3f} s, "
            f"step >= 1 at {started[-1]:.3f} s",
            file=sys.stderr,
        )
    return {
        "first_frame_s": frames,
        "first_step_s": started,
        "first_frame_median_s": statistics.median(frames),
        "first_frame_max_s": max(frames),
        "first_step_median_s": statistics.median(started),
        "first_step_max_s": max(started),
    }


# -- 3. training speed ---------------------------------------------------------------------------
def headless_rate(steps: int, app_args: list[str] = RUN_ARGS) -> dict:
    """The app's config (its options `app_args`, read by the app's own parser) trained in this
    process for `steps` steps."""
    sys.path.insert(0, str(REPO))
    from micrograd.train import Trainer
    from tui.cli import build_parser, config_from_args

    trainer = Trainer(config_from_args(build_parser().parse_args(app_args)))
    for _ in range(10):  # warm-up, untimed
        trainer.step()
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer.step()
    seconds = time.perf_counter() - t0
    return {"steps": steps, "seconds": seconds, "steps_per_s": steps / seconds}


def next_step_change(t: Tmux, interval: float = 0.005, timeout: float = 10) -> tuple[float, int]:
    """Wait for the shown step to change; (time it was first seen, the new step)."""
    before = step_of(t.screen(0, 0))
    deadline = time.perf_counter() + timeout
    while True:
        step = step_of(t.screen(0, 0))
        now = time.perf_counter()
        if step != before:
            return now, step
        if now > deadline:
            raise BenchError(f"the step counter stayed at {before} for {timeout} s")
        time.sleep(interval)


def measure_speed(t: Tmux, window: float, train_pid: int) -> dict:
    ta, sa = next_step_change(t)
    cpu_a = cpu_seconds(t.app_pid), cpu_seconds(train_pid)  # type: ignore[arg-type]
    wait_a = run_delay_seconds(train_pid)
    shown_rates = []
    while time.perf_counter() < ta + window:
        time.sleep(min(0.5, max(0.0, ta + window - time.perf_counter())))
        status = parse_status(t.screen(0, 0))
        if status is not None:
            shown_rates.append(float(status[1]["rate"]))
    tb, sb = next_step_change(t)
    cpu_b = cpu_seconds(t.app_pid), cpu_seconds(train_pid)  # type: ignore[arg-type]
    wait_b = run_delay_seconds(train_pid)
    seconds = tb - ta
    ui_cpu = (cpu_b[0] - cpu_a[0]) / seconds if None not in (cpu_a[0], cpu_b[0]) else None
    tr_cpu = (cpu_b[1] - cpu_a[1]) / seconds if None not in (cpu_a[1], cpu_b[1]) else None
    return {
        "steps": sb - sa,
        "seconds": seconds,
        "steps_per_s": (sb - sa) / seconds,
        "shown_steps_per_s_median": statistics.median(shown_rates) if shown_rates else None,
        "ui_cpu_fraction": ui_cpu,
        "training_cpu_fraction": tr_cpu,
        "training_runqueue_fraction": (wait_b - wait_a) / seconds
        if wait_a is not None and wait_b is not None
        else None,
        "load_after": load(),
    }


# -- 2. key to screen ----------------------------------------------------------------------------
def quadrants(lines: list[str]) -> dict[str, str]:
    """The text of each pane (by its title's position on screen), for spotting repaints."""
    rows = {
        title: next((r for r, ln in enumerate(lines) if f"─ {title} ─" in ln), None)
        for title in TITLES
    }
    top, mid = rows["Dataset"], rows["Parameters"]
    if top is None or mid is None:
        return {}
    col = lines[top].find("╭─ Loss")
    if col <= 0:
        col = len(lines[top]) // 2
    return {
        "Dataset": "\n".join(ln[:col] for ln in lines[top:mid]),
        "Loss": "\n".join(ln[col:] for ln in lines[top:mid]),
        "Parameters": "\n".join(ln[:col] for ln in lines[mid:]),
        "Graph": "\n".join(ln[col:] for ln in lines[mid:]),
    }


def measure_keys(t: Tmux, presses: int, poll_sleep: float, seed: int, label: str) -> dict:
    """`presses` alternate +/- presses; each until the status line shows the new lr.

    Two times per press: until the screen answers the key (the status line shows the change
    asked for, `lr 0.5 (×2 asked)`, or already the new lr: what the UI thread's responsiveness
    decides), and until it shows the new lr (the training process applied it and said so: a
    round trip through it, a step included). The first is the key-to-screen latency.

    Every poll reads the whole screen, so each press also records which panes were repainted
    between the press and the frame that answered it (what the UI was busy with meanwhile).
    """
    row, status = parse_status(t.screen()) or (None, None)
    if row is None or status is None:
        raise BenchError("no status line on screen")
    rng = random.Random(seed)
    lr = float(status["lr"])
    latencies: list[float] = []
    applied: list[float] = []  # until the new lr is shown
    changed: list[list[str]] = []  # per seen press: the panes repainted meanwhile
    polls: list[float] = []  # cost of one capture-pane round trip
    intervals: list[float] = []  # from one poll's start to the next
    sends: list[float] = []
    timeouts = 0
    not_running = 0
    for i in range(presses):
        key = "+" if i % 2 == 0 else "-"
        new_lr = lr * 2 if key == "+" else lr / 2
        want = f"{new_lr:.4g}"
        time.sleep(rng.uniform(0.1, 0.3))
        before = quadrants(t.screen())
        t0 = time.perf_counter()
        t.send_key(key)
        sends.append(time.perf_counter() - t0)
        last_start = None
        answered = False
        while True:
            start = time.perf_counter()
            if last_start is not None:
                intervals.append(start - last_start)
            last_start = start
            lines = t.screen()
            now = time.perf_counter()
            polls.append(now - start)
            m = STATUS_RE.search(lines[row] if len(lines) > row else "")
            if m and not answered and (m.group(4) == want or m.group(5)):
                answered = True
                latencies.append(now - t0)
                after = quadrants(lines)
                changed.append([k for k in before if before.get(k) != after.get(k)])
                if m.group(7) != "running":
                    not_running += 1
            if m and m.group(4) == want and not m.group(5):
                applied.append(now - t0)
                break
            if now - t0 > 3.0:
                timeouts += 1
                break
            if poll_sleep:
                time.sleep(poll_sleep)
        lr = new_lr
    ms = [x * 1000 for x in latencies]
    applied_ms = [x * 1000 for x in applied]
    slow = [c for x, c in zip(ms, changed) if x > TARGETS["latency_p50_ms"]]
    fast = [c for x, c in zip(ms, changed) if x <= TARGETS["latency_p50_ms"]]
    result = {
        "label": label,
        "presses": presses,
        "seen": len(ms),
        "timeouts": timeouts,
        "not_running": not_running,
        "latencies_ms": ms,
        "repainted": changed,
        "p50_ms": statistics.median(ms) if ms else None,
        "p95_ms": percentile(ms, 95) if ms else None,
        "max_ms": max(ms) if ms else None,
        "applied_p50_ms": statistics.median(applied_ms) if applied_ms else None,
        "applied_p95_ms": percentile(applied_ms, 95) if applied_ms else None,
        "min_ms": min(ms) if ms else None,
        "slow_presses": len(slow),
        "slow_repainted": {k: sum(k in c for c in slow) for k in TITLES},
        "fast_repainted": {k: sum(k in c for c in fast) for k in TITLES},
        "poll_cost_ms": statistics.median(polls) * 1000,
        "poll_interval_ms": statistics.median(intervals) * 1000 if intervals else None,
        "send_cost_ms": statistics.median(sends) * 1000,
        "load_after": load(),
    }
    print(
        f"  keys ({label}): p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
        f"max {result['max_ms']:.1f} ms over {len(ms)}/{presses}; lr applied: "
        f"p50 {result['applied_p50_ms'] or 0:.1f} ms, p95 {result['applied_p95_ms'] or 0:.1f} ms",
        file=sys.stderr,
    )
    return result


def set_running(t: Tmux, running: bool) -> None:
    """Press space if needed, then wait until the status line says running (or paused)."""
    want = "running" if running else "paused"
    status = parse_status(t.screen(0, 0))
    if status is not None and status[1]["state"] == want:
        return
    t.send_key("Space")
    wait_screen(t, lambda s: (parse_status(s) or (0, {}))[1].get("state") == want, 10)


def measure_run(args: argparse.Namespace) -> dict:
    """Speed in --rounds windows, each between two headless runs made while the app is paused
    (so a change in the machine's load falls on both sides of each ratio); then key presses."""
    run_args = shlex.split(args.run_args)
    out: dict = {"app_args": run_args}
    # About as many steps as the app takes in a window (~80 steps/s on 2 shared cores).
    steps = max(50, int(args.window * 80))
    headless: list[dict] = []
    windows: list[dict] = []
    with Tmux(run_args) as t:
        t.start()
        wait_screen(t, lambda s: has_all_panes(s) and step_of(s) >= 1, 30)
        train_pid = t.training_pid()
        time.sleep(args.warmup)
        for r in range(args.rounds + 1):
            set_running(t, False)  # the app idles while the headless run has the CPU
            print(f"  headless, {steps} steps ...", file=sys.stderr)
            headless.append(headless_rate(steps, run_args))
            set_running(t, True)
            if r == args.rounds:
                break
            time.sleep(1.0)
            print(
                f"  app speed over {args.window:g} s ({r + 1}/{args.rounds}) ...", file=sys.stderr
            )
            windows.append(measure_speed(t, args.window, train_pid))
        time.sleep(1.0)
        out["keys"] = measure_keys(t, args.presses, args.poll_sleep, args.seed, "running")
        if t.app_dead():
            raise BenchError("the app exited during the measurement")
        left = t.close()
    if left:
        raise BenchError(f"processes left behind: {left}")
    ratios = [
        w["steps_per_s"] / statistics.mean([a["steps_per_s"], b["steps_per_s"]])
        for w, a, b in zip(windows, headless, headless[1:])
    ]
    median_window = sorted(windows, key=lambda w: w["steps_per_s"])[len(windows) // 2]
    out["app"] = median_window
    out["app_windows"] = windows
    out["headless"] = headless
    out["ratios"] = ratios
    out["ratio"] = statistics.median(ratios)
    return out


# (label, app options, terminal size, keys pressed before measuring)
DIAGNOSES = (
    ("paused 120x40", RUN_ARGS, SIZE, ["space"]),
    ("running 80x24", RUN_ARGS, (80, 24), []),
    ("running, Parameters zoomed", RUN_ARGS, SIZE, ["z"]),
    ("running, tiny model 2-4-1", TINY_ARGS, SIZE, []),
)


def measure_diagnosis(args: argparse.Namespace) -> list[dict]:
    """Key latency in variations of the main case, each in a fresh app, to see what costs."""
    results = []
    for i, (label, app_args, size, keys) in enumerate(DIAGNOSES):
        with Tmux(app_args, size=size) as t:
            t.start()
            wait_screen(t, lambda s: parse_status(s) is not None and step_of(s) >= 1, 30)
            time.sleep(args.warmup)
            for key in keys:
                t.send_key(key)
            time.sleep(1.0)
            result = measure_keys(t, args.diag_presses, args.poll_sleep, args.seed + 1 + i, label)
            result["app_args"], result["size"], result["keys_before"] = app_args, size, keys
            results.append(result)
            left = t.close()
        if left:
            raise BenchError(f"processes left behind: {left}")
    return results


# -- 4. memory -----------------------------------------------------------------------------------
def measure_memory(mem_steps: int, app_args: list[str], points: int = 10) -> dict:
    every = max(1, mem_steps // points)
    marks = [every * k for k in range(1, points + 1)]
    samples: list[dict] = []
    with Tmux(app_args) as t:
        t0 = t.start()
        _, lines = wait_screen(t, lambda s: has_all_panes(s) and step_of(s) >= 1, 30)
        train_pid = t.training_pid()

        def sample(step: int) -> None:
            seconds = time.perf_counter() - t0
            ui_kib = rss_kib(t.app_pid)  # type: ignore[arg-type]
            low, high = rss_burst(train_pid) or (None, None)
            samples.append(
                {
                    "step": step,
                    "seconds": seconds,
                    "ui_kib": ui_kib,
                    "training_kib": low,  # the lowest of a burst: between steps
                    "training_high_kib": high,
                    "ui_peak_kib": rss_kib(t.app_pid, "VmHWM"),  # type: ignore[arg-type]
                    "training_peak_kib": rss_kib(train_pid, "VmHWM"),
                }
            )

        sample(step_of(lines))
        deadline = time.perf_counter() + 1800
        for mark in marks:
            if samples[-1]["step"] >= mark:  # the counter jumped past this mark too
                continue
            while True:
                step = step_of(t.screen(0, 0))
                if step >= mark:
                    break
                if time.perf_counter() > deadline:
                    raise BenchError(f"memory: step {mark} not reached in 30 minutes")
                time.sleep(0.02)
            sample(step)
            print(
                f"  memory at step {step}: UI {samples[-1]['ui_kib'] / 1024:.1f} MiB, "
                f"training {samples[-1]['training_kib'] / 1024:.1f} MiB",
                file=sys.stderr,
            )
        if t.app_dead():
            raise BenchError("the app exited during the memory measurement")
        left = t.close()
    if left:
        raise BenchError(f"processes left behind: {left}")
    warm = samples[1]  # after the first `every` steps
    last = samples[-1]
    span = (last["step"] - warm["step"]) or 1
    return {
        "app_args": app_args,
        "samples": samples,
        "warm_step": warm["step"],
        "ui_growth_kib": last["ui_kib"] - warm["ui_kib"],
        "training_growth_kib": last["training_kib"] - warm["training_kib"],
        "ui_growth_bytes_per_step": (last["ui_kib"] - warm["ui_kib"]) * 1024 / span,
        "training_growth_bytes_per_step": (last["training_kib"] - warm["training_kib"])
        * 1024
        / span,
        "ui_peak_growth_kib": last["ui_peak_kib"] - warm["ui_peak_kib"],
        "training_peak_growth_kib": last["training_peak_kib"] - warm["training_peak_kib"],
        "seconds": last["seconds"] - samples[0]["seconds"],
        "steps_per_s": (last["step"] - samples[0]["step"])
        / (last["seconds"] - samples[0]["seconds"]),
    }


# -- report --------------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def report(res: dict) -> None:
    print(f"\napp_latency: python {res['python']}, {res['tmux']}, {res['cpus']} CPUs")
    print(f"load average (1/5/15 min): start {res['load_start']}, end {res['load_end']}")
    rows: list[tuple[str, str, str, str]] = []
    if "launch" in res:
        L = res["launch"]
        n = len(L["first_frame_s"])
        frame, step = L["first_frame_median_s"] * 1000, L["first_step_median_s"] * 1000
        rows.append(
            (
                f"launch -> all panes + status (median of {n})",
                f"{frame:.0f} ms (max {L['first_frame_max_s'] * 1000:.0f})",
                "<= 1000 ms",
                verdict(L["first_frame_max_s"] <= TARGETS["launch_s"]),
            )
        )
        rows.append(
            (
                "launch -> status shows step >= 1 (median)",
                f"{step:.0f} ms (max {L['first_step_max_s'] * 1000:.0f})",
                "-",
                "",
            )
        )
    if "run" in res:
        R = res["run"]
        k = R["keys"]
        rows.append(
            (
                f"key -> screen p50 ({k['seen']}/{k['presses']} seen)",
                f"{k['p50_ms']:.1f} ms",
                "<= 25 ms",
                verdict(k["p50_ms"] <= TARGETS["latency_p50_ms"]),
            )
        )
        rows.append(
            (
                "key -> screen p95",
                f"{k['p95_ms']:.1f} ms",
                "<= 60 ms",
                verdict(k["p95_ms"] <= TARGETS["latency_p95_ms"]),
            )
        )
        rows.append(
            ("key -> screen min / max", f"{k['min_ms']:.1f} / {k['max_ms']:.1f} ms", "-", "")
        )
        if k["applied_p50_ms"] is not None:
            rows.append(
                (
                    "key -> new lr shown (training process round trip) p50 / p95",
                    f"{k['applied_p50_ms']:.1f} / {k['applied_p95_ms']:.1f} ms",
                    "-",
                    "",
                )
            )
        rows.append(
            (
                "poll: capture-pane cost / interval (median)",
                f"{k['poll_cost_ms']:.2f} / {k['poll_interval_ms']:.2f} ms",
                "-",
                "",
            )
        )
        A = R["app"]
        rows.append(
            (
                f"app steps/s, {len(R['app_windows'])} windows of {A['seconds']:.0f} s",
                ", ".join(f"{w['steps_per_s']:.1f}" for w in R["app_windows"]),
                "-",
                "",
            )
        )
        rows.append(
            (
                "headless steps/s, before/between/after",
                ", ".join(f"{h['steps_per_s']:.1f}" for h in R["headless"]),
                "-",
                "",
            )
        )
        rows.append(
            (
                "app / headless on each side, per window",
                ", ".join(f"{100 * r:.1f}%" for r in R["ratios"]),
                "-",
                "",
            )
        )
        rows.append(
            (
                "app / headless steps/s (median of the windows)",
                f"{100 * R['ratio']:.1f}%",
                ">= 90%",
                verdict(R["ratio"] >= TARGETS["speed_ratio"]),
            )
        )
        ui, tr = A["ui_cpu_fraction"] or 0.0, A["training_cpu_fraction"] or 0.0
        rq = A.get("training_runqueue_fraction") or 0.0
        rows.append(
            (
                "CPU: UI / training / training waiting for CPU",
                f"{100 * ui:.0f}% / {100 * tr:.0f}% / {100 * rq:.0f}%",
                "-",
                "",
            )
        )
    if "memory" in res:
        M = res["memory"]
        span = f"steps {M['warm_step']}->{M['samples'][-1]['step']}"
        for who in ("ui", "training"):
            rows.append(
                (
                    f"{'UI' if who == 'ui' else 'training (low)'} RSS growth, {span}",
                    f"{M[who + '_growth_kib'] / 1024:+.2f} MiB",
                    "flat",
                    f"{M[who + '_growth_bytes_per_step']:.0f} B/step",
                )
            )
            rows.append(
                (
                    f"{'UI' if who == 'ui' else 'training'} peak RSS (VmHWM) growth",
                    f"{M[who + '_peak_growth_kib'] / 1024:+.2f} MiB",
                    "flat",
                    "",
                )
            )
    print(f"\n{'measure':45} {'figure':>22}  {'target':>10}  verdict")
    for name, figure, target, ok in rows:
        print(f"{name:45} {figure:>22}  {target:>10}  {ok}")
    if "run" in res:
        run_args = " ".join(res["run"]["app_args"])
        print(f"\nspeed and keys: app options {run_args} (otherwise the default config:")
        print("  moons, 100 samples, MLP 2-16-16-1, relu, hinge, sgd lr 0.5), 120x40")
        k = res["run"]["keys"]
        print(
            f"  presses slower than {TARGETS['latency_p50_ms']:g} ms: {k['slow_presses']}; "
            "panes repainted between press and frame, slow / other presses:"
        )
        others = k["seen"] - k["slow_presses"]
        print(
            "  "
            + ", ".join(
                f"{t} {k['slow_repainted'][t]}/{k['slow_presses']} vs "
                f"{k['fast_repainted'][t]}/{others}"
                for t in TITLES
            )
        )
    if "diagnosis" in res:
        print("\nkey -> screen, variations (each a fresh app):")
        print(f"  {'case':30} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
        for d in res["diagnosis"]:
            print(f"  {d['label']:30} {d['p50_ms']:7.1f} {d['p95_ms']:7.1f} {d['max_ms']:7.1f}")
    if "memory" in res:
        M = res["memory"]
        print(
            f"\nmemory: app options {' '.join(M['app_args'])}, 120x40, "
            f"{M['steps_per_s']:.0f} steps/s, {M['seconds']:.0f} s"
        )
        print(
            f"  {'step':>6} {'s':>6} {'UI MiB':>8} {'UI peak':>8} "
            f"{'training low-high MiB':>22} {'peak':>7}"
        )
        for x in M["samples"]:
            spread = f"{x['training_kib'] / 1024:.2f}-{x['training_high_kib'] / 1024:.2f}"
            print(
                f"  {x['step']:6d} {x['seconds']:6.1f} {x['ui_kib'] / 1024:8.2f} "
                f"{x['ui_peak_kib'] / 1024:8.2f} {spread:>22} "
                f"{x['training_peak_kib'] / 1024:7.2f}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="launches (default 5)")
    parser.add_argument("--presses", type=int, default=60, help="key presses (default 60)")
    parser.add_argument("--window", type=float, default=10.0, help="speed window, s (default 10)")
    parser.add_argument(
        "--mem-steps", type=int, default=10_000, help="steps of the memory run (default 10000)"
    )
    parser.add_argument(
        "--mem-args",
        default=" ".join(RUN_ARGS),
        help=f"app options of the memory run (default {' '.join(RUN_ARGS)!r}: the default "
        "config, about 3 minutes for 10,000 steps)",
    )
    parser.add_argument(
        "--run-args",
        default=" ".join(RUN_ARGS),
        help="app options of the speed and key measurements (default "
        f"{' '.join(RUN_ARGS)!r}); e.g. the conv model on digits: '--engine tensor --dataset "
        "digits --samples 1797 --test-fraction 0.2 --conv 8,16 --hidden 64 --optimizer adam "
        "--lr 0.01 --batch-size 128 --steps 1000000'",
    )
    parser.add_argument(
        "--poll-sleep", type=float, default=0.001, help="sleep between polls, s (default 0.001)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="speed windows, each between headless runs"
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="s of training before measuring")
    parser.add_argument(
        "--parts",
        default="launch,run,memory",
        help="which parts to run, of launch,run,memory,diagnose (default launch,run,memory)",
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="also measure key latency paused, at 80x24, zoomed and with a tiny model",
    )
    parser.add_argument("--diag-presses", type=int, default=30, help="presses per variation")
    parser.add_argument("--seed", type=int, default=5, help="seed of the gaps between presses")
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer of everything")
    parser.add_argument("--json", metavar="PATH", help="also write all figures to PATH as JSON")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tui.training import one_blas_thread

    one_blas_thread()  # the headless runs as the app's training process has it (numpy loads later)
    if args.quick:
        args.repeats, args.presses, args.window, args.rounds = 2, 10, 3.0, 1
        args.mem_steps, args.warmup, args.diag_presses = 2000, 1.0, 10
    for name in ("repeats", "presses", "mem_steps", "diag_presses"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.window <= 0:
        parser.error("--window must be positive")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    parts = {x.strip() for x in args.parts.split(",") if x.strip()}
    if args.diagnose:
        parts.add("diagnose")
    unknown = parts - {"launch", "run", "memory", "diagnose"}
    if unknown:
        parser.error(f"--parts: unknown part(s) {', '.join(sorted(unknown))}")
    if subprocess.run(["which", "tmux"], capture_output=True).returncode != 0:
        parser.exit(2, "app_latency: tmux is not installed\n")

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # even if inherited ignored
        signal.signal(signum, interrupted)
    res: dict = {
        "python": sys.version.split()[0],
        "tmux": subprocess.run(["tmux", "-V"], capture_output=True, text=True).stdout.strip(),
        "cpus": os.cpu_count(),
        "load_start": load(),
        "args": vars(args),
        "targets": TARGETS,
    }
    print(f"load average at start: {res['load_start']}", file=sys.stderr)
    try:
        if "launch" in parts:
            print(f"1. launch x {args.repeats} ...", file=sys.stderr)
            res["launch"] = measure_launch(args.repeats)
            res["load_after_launch"] = load()
        if "run" in parts:
            print("2+3. speed and keys ...", file=sys.stderr)
            res["run"] = measure_run(args)
            res["load_after_run"] = load()
        if "diagnose" in parts:
            print("diagnosis: key latency in variations ...", file=sys.stderr)
            res["diagnosis"] = measure_diagnosis(args)
            res["load_after_diagnosis"] = load()
        if "memory" in parts:
            print(f"4. memory over {args.mem_steps} steps ...", file=sys.stderr)
            res["memory"] = measure_memory(args.mem_steps, args.mem_args.split())
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        return 130
    except (BenchError, subprocess.SubprocessError) as exc:
        print(f"app_latency: {exc}", file=sys.stderr)
        return 1
    finally:
        for t in list(Tmux.live):
            t.close()
    res["load_end"] = load()
    report(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
