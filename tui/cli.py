"""The `microgradtui` command: options -> a run configuration -> the app, or a headless run.

Bad options exit with status 2 and one line naming the option and what it accepts; a headless
run that diverges (NaN/inf) stops with status 3; Ctrl-C, SIGTERM or SIGHUP (a closed SSH
session) stops a headless run after the step in progress, prints the summary, saves if `--save`
was given and exits with status 128 + the signal (130, 143, 129). Nothing here prints a
traceback for bad input.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from micrograd import fileio
from micrograd.settings import ConfigError, Setting
from micrograd.train import (
    SETTING,
    SETTINGS,
    StepReport,
    TrainConfig,
    Trainer,
    config_for_dataset,
)

PROG = "microgradtui"
EXIT_USAGE = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and status 2), not the whole usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _option_type(setting: Setting):
    """The argparse `type` of a setting: its own parser, its refusal as argparse's one line."""

    def parse(text: str) -> object:
        try:
            return setting.parse(text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(exc.problem) from None

    parse.__name__ = setting.kind
    return parse


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
    try:  # a device, a pipe (/dev/stdout in a pipeline), a socket: never written over
        fileio.check_target(text)
    except fileio.WriteError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


# Options of the command itself (not of a run's configuration), checked by the same rules.
EVERY = Setting("every", "whole", "headless: print every N steps", low=1)
PORT = Setting("port", "whole", "--serve: port (default 8000)", low=1, high=65535)


def build_parser() -> argparse.ArgumentParser:
    """The options: those of the command, then one per training setting (micrograd.train's
    SETTINGS: its kind, range or choices, help and default)."""
    defaults = TrainConfig()
    p = _Parser(
        prog=PROG,
        description="Train a micrograd network live in the terminal, or headless.",
        epilog="Keys in the app: space run/pause, n step, +/- double/halve lr, ? help, q quit.",
    )
    run = p.add_argument_group("run")
    run.add_argument("--headless", action="store_true", help="train without the UI, print progress")
    run.add_argument("--paused", action="store_true", help="start the app paused")
    run.add_argument(
        "--lecture",
        action="store_true",
        help="Karpathy's lecture example: its 4 samples, MLP 3-4-4-1 tanh, sum of squared "
        "errors, lr 0.05, no L2 (other options still apply)",
    )
    run.add_argument(
        "--expr",
        metavar="TEXT",
        help="open the scratch pad on an expression, e.g. 'a=2.0, b=-3.0; c=a*b' "
        "(with --headless: print each named node's value and grad)",
    )
    run.add_argument("--every", type=_option_type(EVERY), default=None, help=EVERY.help)
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
    keep.add_argument("--port", type=_option_type(PORT), default=8000, help=PORT.help)
    groups = {"run": run, "data": p.add_argument_group("data")}
    groups["model and training"] = p.add_argument_group("model and training")
    groups["tensor engine"] = p.add_argument_group("tensor engine")
    for setting in SETTINGS:
        default = getattr(defaults, setting.name)
        shown = ",".join(map(str, default or ())) if setting.kind == "sizes" else default
        help_text = setting.help if default in (None, ()) else f"{setting.help} (default {shown})"
        if setting.kind in ("whole", "number", "sizes"):
            help_text += f"; {setting.rule()}"
        options: dict = {"help": help_text}
        if setting.kind == "choice":
            options["choices"] = setting.choices
        elif setting.kind == "path":
            options.update(type=_readable_file, metavar="PATH")
        else:
            options["type"] = _option_type(setting)
        if setting.kind == "sizes":
            options["metavar"] = "SIZES"
        groups[setting.group].add_argument(setting.flag, **options)
    return p


_CONFIG_OPTIONS = tuple(s.name for s in SETTINGS)


def config_from_args(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """The options given on the command line, over `base` (or the defaults)."""
    values = (base or TrainConfig()).to_dict()
    if getattr(args, "lecture", False):
        values["dataset"] = "tiny"  # the lecture's 4 samples; main() refused other data
    given = set()
    for name in _CONFIG_OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            values[name] = value
            given.add(name)
    config = TrainConfig.from_dict(values)
    if base is None:  # a new run: the dataset's own defaults where no option was given
        config = config_for_dataset(config, given=given)
    return config


def _fail(message: str, status: int = EXIT_USAGE) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


def _flag(name: str) -> str:
    return SETTING[name].flag if name in SETTING else "--" + name.replace("_", "-")


def _shown(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    return str(value)


# With --load these may be given again only with the checkpoint's own value: a checkpoint keeps
# its data, model and training settings. --lr (the rate from the next step) and --steps (how
# many more) apply to a resumed run.
_RESUME_OPTIONS = ("lr", "steps", "device")  # a run saved on a GPU continues on the CPU, and back


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
    if args.device is not None:
        changes["device"] = args.device
    return replace(config, **changes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.headless:  # before numpy loads (a tensor run): as in the app's training process
        from tui.training import one_blas_thread

        one_blas_thread()
    if args.expr is not None:
        return scratch(args)
    if args.lecture and (args.csv or args.dataset not in (None, "tiny") or args.load):
        other = "--csv" if args.csv else "--load" if args.load else "--dataset"
        return _fail(f"--lecture trains the lecture's 4 samples: leave out {other}")
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


def scratch(args: argparse.Namespace) -> int:
    """--expr: the scratch pad on its own, or its values and grads printed (--headless)."""
    from micrograd.expr import ExprError, parse

    clash = [o for o in ("load", "replay", "serve", "csv", "save") if getattr(args, o)]
    if clash:
        return _fail(f"--expr opens the scratch pad on its own: leave out {_flag(clash[0])}")
    try:
        expression = parse(args.expr)
    except ExprError as exc:
        return _fail(f"--expr: {exc}")
    if args.headless:
        expression.root.backward()
        for name, node in expression.names.items():
            print(f"{name:>8}  data {node.data:.6g}  grad {node.grad:.6g}")
        return 0
    if not _has_terminal():
        return _fail("no terminal to draw on: use ssh -t, or --headless")
    from tui.app import run_app

    # the app, paused on the default run, with the scratch pad open on top
    return run_app(config_from_args(args), paused=True, expr=args.expr)


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
        trainer = checkpoint.load(args.load, device=args.device)
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

    return run_app(config, paused=args.paused, load=args.load, lecture=args.lecture)


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


# The signals that stop a headless run after the step in progress, and how the summary names them.
STOP_SIGNALS = {
    signal.SIGINT: "Ctrl-C",
    signal.SIGTERM: "SIGTERM",
    getattr(signal, "SIGHUP", signal.SIGTERM): "SIGHUP: the terminal hung up",
}
EXIT_OUTPUT_GONE = 128 + getattr(signal, "SIGPIPE", 13)  # what a shell reports for a closed pipe


class _StopRequest:
    """While active, the first SIGINT (Ctrl-C), SIGTERM or SIGHUP (the terminal or the SSH session
    went away) asks the loop to stop after the step in progress, so the weights saved are those of
    a whole step; a second one interrupts at once. A signal ignored when the run began (`nohup`)
    stays ignored. The exit status is 128 + the signal, as shells report it."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.output_lost = False  # stdout went away (a closed pipe, a hung-up terminal)
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.signum is not None or self.output_lost

    @property
    def status(self) -> int:
        return 128 + self.signum if self.signum is not None else EXIT_OUTPUT_GONE

    def __enter__(self) -> _StopRequest:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    def __exit__(self, *exc) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)

    def say(self, text: str, file=None) -> None:
        """Print a line; if the output has gone (a hang-up gives EIO, a closed pipe EPIPE), stop
        after this step and send the rest to /dev/null, so the run still saves."""
        stream = sys.stdout if file is None else file
        try:
            print(text, file=stream, flush=True)
        except (OSError, ValueError):
            self.output_lost = True
            _silence(stream)


def _silence(stream) -> None:
    """Point `stream`'s file descriptor at /dev/null: what is still buffered goes nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def headless(args: argparse.Namespace, trainer: Trainer, steps: int) -> int:
    """Train without the UI, printing a progress line every N steps and a summary."""
    from micrograd import checkpoint

    every = args.every or max(1, steps // 10)
    start = time.perf_counter()
    done = 0
    status = 0
    report: StepReport | None = None
    diverging = False
    with _StopRequest() as stop:
        say = stop.say
        say(f"training {describe(trainer)} for {steps} steps")
        if trainer.device_note:
            say(trainer.device_note)
        if trainer.data.classes:
            say(f"classes: {class_names(trainer.data.classes)}")
        try:
            while done < steps and not stop.requested:
                report = trainer.step()
                done += 1
                if report.nonfinite:
                    rate = done / (time.perf_counter() - start)
                    say(progress_line(report, rate))
                    say(
                        f"{PROG}: diverged at step {report.step}: the loss or a gradient is "
                        "NaN/inf. Lower the learning rate (--lr) or reset.",
                        file=sys.stderr,
                    )
                    status = EXIT_DIVERGED
                    break
                starts = report.diverging and not diverging  # said once, when it starts
                diverging = report.diverging
                if starts or report.step % every == 0 or done == steps:
                    rate = done / (time.perf_counter() - start)
                    say(progress_line(report, rate))
                if starts:
                    say(f"{PROG}: {trainer.divergence(report)} (--lr)", file=sys.stderr)
        except KeyboardInterrupt:  # a second signal, in the middle of a step: do not save it
            say(f"\ninterrupted during step {done + 1}; nothing saved")
            return stop.status
        elapsed = time.perf_counter() - start
        if stop.requested and status == 0:
            status = stop.status
            if stop.signum is not None:
                say(f"interrupted ({STOP_SIGNALS[stop.signum]}) after {done} steps")
        say(summary_line(trainer, done, elapsed))
        if args.save:
            try:
                path = checkpoint.save(trainer, args.save)
            except checkpoint.CheckpointError as exc:  # e.g. the folder went away meanwhile
                say(f"{PROG}: error: --save: {exc}", file=sys.stderr)
                return EXIT_USAGE
            say(f"saved step {trainer.step_count} to {path}")
        if args.export_dot and trainer.last_root is not None:
            if trainer.tensor_run is not None:
                from micrograd.tensor import to_dot
            else:
                from micrograd.graph import to_dot

            try:
                fileio.write_text(args.export_dot, to_dot(trainer.last_root))
            except fileio.WriteError as exc:
                say(f"{PROG}: error: --export-dot: {exc}", file=sys.stderr)
                return EXIT_USAGE
            say(f"wrote the graph of step {trainer.step_count} to {args.export_dot}")
    return status


def class_names(classes: Sequence[str]) -> str:
    """How labels became classes: `0=cat, 1=dog`."""
    return ", ".join(f"{i}={name}" for i, name in enumerate(classes))


def describe(trainer: Trainer) -> str:
    c = trainer.config
    source = f"csv {c.csv}" if c.csv else c.dataset
    model = trainer.architecture if c.conv else f"MLP {trainer.architecture}"
    engine = ""
    if trainer.tensor_run is not None:
        engine = f", tensor engine on {trainer.tensor_run.device.name} ({c.dtype})"
    return (
        f"{source} ({len(trainer.data.X_train)} train, {len(trainer.data.X_test)} test), "
        f"{model}, {c.activation}, {trainer.loss_name} loss, "
        f"{c.optimizer} lr {trainer.base_lr:g}, seed {c.seed}{engine}"
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
