"""The `microgradtui` command: options -> a run configuration -> the app, or a headless run.

Bad options exit with status 2 and one line naming the option and what it accepts; a headless
run that diverges (NaN/inf) stops with status 3; Ctrl-C stops a headless run after the step in
progress, prints the summary, saves if `--save` was given and exits with status 130. Nothing
here prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from micrograd.data import DATASETS
from micrograd.losses import LOSSES
from micrograd.nn import ACTIVATIONS
from micrograd.optim import OPTIMIZERS, SCHEDULES
from micrograd.train import (
    MAX_LAYERS,
    MAX_SAMPLES,
    MAX_WIDTH,
    ConfigError,
    StepReport,
    TrainConfig,
    Trainer,
)

PROG = "microgradtui"
EXIT_USAGE = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and status 2), not the whole usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _whole(low: int, high: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high:,}, got {value:,}")
        return value

    parse.__name__ = "whole number"
    return parse


def _number(low: float, *, strict: bool, high: float | None = None):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        if value < low or (strict and value == low):
            bound = f"> {low:g}" if strict else f">= {low:g}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text!r}")
        if high is not None and value >= high:
            raise argparse.ArgumentTypeError(f"must be in [{low:g}, {high:g}), got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes such as 16,16, got {text!r}"
        ) from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be >= 1, got {text!r}")
    if any(size > MAX_WIDTH for size in sizes) or len(sizes) > MAX_LAYERS:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_LAYERS} hidden layers of at most {MAX_WIDTH} neurons, got {text!r}"
        )
    return sizes


def _readable_file(text: str) -> str:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"is a folder, not a file: {text}")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"cannot read {text} (permission denied)")
    return text


def _writable_target(text: str) -> str:
    path = Path(text)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"is a folder, not a file: {text}")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write in {folder} (permission denied)")
    return text


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    p = _Parser(
        prog=PROG,
        description="Train a micrograd network live in the terminal, or headless.",
        epilog="Keys in the app: space run/pause, n step, +/- double/halve lr, ? help, q quit.",
    )
    run = p.add_argument_group("run")
    run.add_argument("--headless", action="store_true", help="train without the UI, print progress")
    run.add_argument("--paused", action="store_true", help="start the app paused")
    run.add_argument("--steps", type=_whole(1), help=f"steps to train (default {defaults.steps})")
    run.add_argument("--every", type=_whole(1), default=None, help="headless: print every N steps")
    run.add_argument("--save", type=_writable_target, metavar="PATH", help="save a checkpoint")
    run.add_argument("--load", type=_readable_file, metavar="PATH", help="resume a checkpoint")
    run.add_argument(
        "--export-dot",
        type=_writable_target,
        metavar="PATH",
        help="write the last step's graph as Graphviz DOT",
    )
    keep = p.add_argument_group("replay and browser")
    keep.add_argument(
        "--replay",
        type=_readable_file,
        metavar="PATH",
        help="show a saved checkpoint's run (loss history, final state), read-only",
    )
    keep.add_argument(
        "--serve",
        action="store_true",
        help="serve the app to web browsers (needs: pip install 'microgradtui[web]')",
    )
    keep.add_argument("--host", default="127.0.0.1", help="--serve: address (default 127.0.0.1)")
    keep.add_argument("--port", type=_whole(1), default=8000, help="--serve: port (default 8000)")
    data = p.add_argument_group("data")
    data.add_argument("--dataset", choices=sorted(DATASETS), help=f"default {defaults.dataset}")
    data.add_argument(
        "--csv",
        type=_readable_file,
        metavar="PATH",
        help="your own data: numeric feature columns, the label last",
    )
    data.add_argument("--samples", type=_whole(1, MAX_SAMPLES), help=f"default {defaults.samples}")
    data.add_argument("--noise", type=_number(0.0, strict=False), help=f"default {defaults.noise}")
    data.add_argument(
        "--test-fraction",
        type=_number(0.0, strict=False, high=1.0),
        help="share of samples held out for testing, in [0, 1)",
    )
    model = p.add_argument_group("model and training")
    model.add_argument("--hidden", type=_hidden, metavar="SIZES", help="hidden sizes, e.g. 16,16")
    model.add_argument("--activation", choices=ACTIVATIONS, help="hidden-layer activation")
    model.add_argument("--loss", choices=("auto", *LOSSES), help="default auto")
    model.add_argument("--optimizer", choices=OPTIMIZERS, help=f"default {defaults.optimizer}")
    model.add_argument("--lr", type=_number(0.0, strict=True), help=f"default {defaults.lr}")
    model.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule")
    model.add_argument("--weight-decay", type=_number(0.0, strict=False))
    model.add_argument("--alpha", type=_number(0.0, strict=False), help="L2 regularisation")
    model.add_argument("--batch-size", type=_whole(0), help="0 = full batch")
    model.add_argument("--eval-every", type=_whole(1), help="test evaluation period in steps")
    model.add_argument("--seed", type=_whole(-(2**63)), help=f"default {defaults.seed}")
    return p


_CONFIG_OPTIONS = (
    "dataset", "samples", "noise", "test_fraction", "hidden", "activation", "loss", "optimizer",
    "lr", "weight_decay", "alpha", "batch_size", "steps", "schedule", "seed", "csv", "eval_every",
)  # fmt: skip


def config_from_args(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """The options given on the command line, over `base` (or the defaults)."""
    values = (base or TrainConfig()).to_dict()
    for name in _CONFIG_OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            values[name] = value
    return TrainConfig.from_dict(values)


def _fail(message: str, status: int = EXIT_USAGE) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _shown(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    return str(value)


# With --load these may be given again only with the checkpoint's own value: a checkpoint keeps
# its data, model and training settings. --lr (the rate from the next step) and --steps (how
# many more) apply to a resumed run.
_RESUME_OPTIONS = ("lr", "steps")


def resumed_config(args: argparse.Namespace, trainer: Trainer) -> TrainConfig:
    """The checkpoint's configuration with --lr/--steps applied; an option that contradicts the
    checkpoint raises ConfigError naming it."""
    config = trainer.config
    for name in _CONFIG_OPTIONS:
        value = getattr(args, name, None)
        if value is None or name in _RESUME_OPTIONS or name == "csv":
            continue
        if value != getattr(config, name):
            raise ConfigError(
                name,
                f"{_shown(value)} does not match the checkpoint {args.load} (made with "
                f"{_flag(name)} {_shown(getattr(config, name))}); a checkpoint keeps its data "
                f"and model: leave {_flag(name)} out, or train anew without --load",
            )
    changes: dict = {"lr": args.lr if args.lr is not None else trainer.base_lr}
    if args.steps is not None:
        changes["steps"] = args.steps
    return replace(config, **changes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.load and args.csv:
        return _fail("--load and --csv cannot be used together (the checkpoint holds its data)")
    if args.serve:
        if args.headless:
            return _fail("--serve and --headless cannot be used together")
        return serve(args, sys.argv[1:] if argv is None else list(argv))
    if args.replay:
        clash = [o for o in ("load", "csv", "headless", "save", "export_dot") if getattr(args, o)]
        if clash:
            return _fail(f"--replay shows a saved run as it is: leave out {_flag(clash[0])}")
    try:
        return _main(args)
    except KeyboardInterrupt:  # Ctrl-C while loading data or building the model
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ConfigError as exc:  # a setting that does not fit the data: name its option
        return _fail(f"{_flag(exc.option)}: {exc}")
    except ValueError as exc:  # CSV and checkpoint errors: their messages name the file
        from micrograd import checkpoint
        from micrograd.data import CSVError

        if isinstance(exc, CSVError):
            return _fail(f"--csv: {exc}")
        if isinstance(exc, checkpoint.CheckpointError) and args.load and args.load in str(exc):
            return _fail(f"--load: {exc}")
        if isinstance(exc, checkpoint.CheckpointError) and args.replay:
            return _fail(f"--replay: {exc}")
        return _fail(str(exc))


def _main(args: argparse.Namespace) -> int:
    trainer = None
    if args.replay:
        from micrograd import checkpoint

        trainer = checkpoint.load(args.replay)  # refuse a bad file in one line, before the UI
        if not _has_terminal():
            return _fail("no terminal to draw on: use ssh -t")
        from tui.app import run_app

        return run_app(trainer.config, paused=True, load=args.replay, replay=args.replay)
    if args.load:
        from micrograd import checkpoint

        # refuse a bad checkpoint here, in one line, before the screen is taken over
        trainer = checkpoint.load(args.load)
        config = resumed_config(args, trainer)
        if config.lr != trainer.base_lr:
            trainer.set_lr(config.lr)
    else:
        config = config_from_args(args)
    if args.headless:
        if trainer is None:
            trainer = Trainer(config)
        steps = args.steps if args.steps is not None else config.steps
        return headless(args, trainer, steps)
    if trainer is None:
        Trainer(config)  # the data loads and fits the model: else one line, before the UI
    if not _has_terminal():
        return _fail("no terminal to draw on: use ssh -t, or --headless")
    from tui.app import run_app  # the UI is imported only when it is needed

    return run_app(config, paused=args.paused, load=args.load)


def _has_terminal() -> bool:
    """A terminal to draw on, or a browser: textual-serve runs the app on pipes with its web
    driver (TEXTUAL_DRIVER), and that draws in the browser."""
    if "web_driver" in os.environ.get("TEXTUAL_DRIVER", ""):
        return True
    return sys.stdout.isatty() and sys.stdin.isatty()


_SERVE_OPTIONS = ("--serve", "--host", "--port")


def app_command(argv: Sequence[str]) -> str:
    """The shell command that runs the app with `argv` less the --serve options."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in _SERVE_OPTIONS:
            skip = name != "--serve" and "=" not in arg
            continue
        out.append(arg)
    return shlex.join([sys.executable, "-m", "tui", *out])


def build_server(args: argparse.Namespace, argv: Sequence[str], server_class: type) -> object:
    """The textual-serve `Server` for the app (not started)."""
    return server_class(app_command(argv), host=args.host, port=args.port, title=PROG)


def serve(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Serve the app to web browsers with textual-serve (the `web` extra) until Ctrl-C."""
    try:
        import textual_serve.server  # noqa: F401 (the web extra)

        from tui.serve import BrowserAddressServer
    except ImportError:
        return _fail("--serve needs textual-serve: pip install 'microgradtui[web]'")
    server = build_server(args, argv, BrowserAddressServer)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"{PROG}: warning: serving on {args.host}: anyone who can reach it can use the app",
            file=sys.stderr,
        )
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # e.g. the port is taken
        return _fail(f"--serve: cannot listen on {args.host}:{args.port} ({exc.strerror or exc})")
    return 0


class _CtrlC:
    """While active, the first Ctrl-C asks the loop to stop after the step in progress (so the
    weights saved are those of a whole step); a second one interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def headless(args: argparse.Namespace, trainer: Trainer, steps: int) -> int:
    """Train without the UI, printing a progress line every N steps and a summary."""
    from micrograd import checkpoint

    every = args.every or max(1, steps // 10)
    out = sys.stdout
    print(f"training {describe(trainer)} for {steps} steps", file=out, flush=True)
    if trainer.data.classes:
        print(f"classes: {class_names(trainer.data.classes)}", file=out, flush=True)
    start = time.perf_counter()
    done = 0
    status = 0
    report: StepReport | None = None
    with _CtrlC() as ctrl_c:
        try:
            while done < steps and not ctrl_c.requested:
                report = trainer.step()
                done += 1
                if report.nonfinite:
                    rate = done / (time.perf_counter() - start)
                    print(progress_line(report, rate), file=out)
                    print(
                        f"{PROG}: diverged at step {report.step}: the loss or a gradient is "
                        "NaN/inf. Lower the learning rate (--lr) or reset.",
                        file=sys.stderr,
                    )
                    status = EXIT_DIVERGED
                    break
                if report.step % every == 0 or done == steps:
                    rate = done / (time.perf_counter() - start)
                    print(progress_line(report, rate), file=out, flush=True)
        except KeyboardInterrupt:  # a second Ctrl-C, in the middle of a step: do not save it
            print(f"\ninterrupted during step {done + 1}; nothing saved", file=out, flush=True)
            return EXIT_INTERRUPTED
        elapsed = time.perf_counter() - start
        if ctrl_c.requested and status == 0:
            status = EXIT_INTERRUPTED
            print(f"interrupted (Ctrl-C) after {done} steps", file=out)
        print(summary_line(trainer, done, elapsed), file=out, flush=True)
        if args.save:
            try:
                path = checkpoint.save(trainer, args.save)
            except checkpoint.CheckpointError as exc:  # e.g. the folder went away meanwhile
                return _fail(f"--save: {exc}")
            print(f"saved step {trainer.step_count} to {path}", file=out)
        if args.export_dot and trainer.last_root is not None:
            from micrograd.graph import to_dot

            try:
                checkpoint.atomic_write_text(Path(args.export_dot), to_dot(trainer.last_root))
            except checkpoint.CheckpointError as exc:
                return _fail(f"--export-dot: {exc}")
            print(f"wrote the graph of step {trainer.step_count} to {args.export_dot}", file=out)
    return status


def class_names(classes: Sequence[str]) -> str:
    """How labels became classes: `0=cat, 1=dog`."""
    return ", ".join(f"{i}={name}" for i, name in enumerate(classes))


def describe(trainer: Trainer) -> str:
    c = trainer.config
    source = f"csv {c.csv}" if c.csv else c.dataset
    sizes = ",".join(str(h) for h in c.hidden)
    return (
        f"{source} ({len(trainer.data.X_train)} train, {len(trainer.data.X_test)} test), "
        f"MLP {trainer.input_dim}->{sizes}, {c.activation}, {trainer.loss_name} loss, "
        f"{c.optimizer} lr {trainer.base_lr:g}, seed {c.seed}"
    )


def progress_line(report: StepReport, steps_per_second: float) -> str:
    line = (
        f"step {report.step}  loss {report.loss:.6g}  acc {100 * report.accuracy:.1f}%  "
        f"lr {report.lr:.4g}  {steps_per_second:.1f} steps/s"
    )
    if report.test_loss is not None and report.test_accuracy is not None:
        line += f"  test loss {report.test_loss:.6g}  test acc {100 * report.test_accuracy:.1f}%"
    return line


def summary_line(trainer: Trainer, done: int, elapsed: float) -> str:
    rate = done / elapsed if elapsed > 0 else 0.0
    line = f"done: {done} steps in {elapsed:.2f} s ({rate:.1f} steps/s)"
    if trainer.history:
        last = trainer.history[-1]
        line += f"; loss {last.loss:.6g}, train accuracy {100 * last.accuracy:.1f}%"
    if trainer.data.X_test:
        test_loss, test_acc = trainer.evaluate(trainer.data.X_test, trainer.data.y_test)
        line += f"; test loss {test_loss:.6g}, test accuracy {100 * test_acc:.1f}%"
    return line


if __name__ == "__main__":
    sys.exit(main())
