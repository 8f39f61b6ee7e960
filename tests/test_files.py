"""Files the project writes: atomic, through symlinks, never over a device, a pipe or a folder,
and never over another run's file when the app picks the name (issue 13, items 4 and 5)."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from apphelp import FAST, SIZE, notices, wait_for
from apphelp import step as app_step
from test_reliability import run

from micrograd import checkpoint, fileio
from micrograd.fileio import WriteError
from micrograd.train import TrainConfig, Trainer
from tui.app import MicrogradApp

SMALL = ["--headless", "--samples", "20", "--hidden", "4", "--steps", "3"]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def char_device(tmp_path: Path) -> Path:
    """A character device to aim at: a copy of /dev/null's node in tmp_path when we may make one
    (root), else /dev/null itself (which no one else can replace, so a regression cannot harm
    it)."""
    node = tmp_path / "null-device"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        return Path("/dev/null")
    return node


HELD: list = []  # files a test keeps open while it runs


@pytest.fixture(autouse=True)
def _close_held():
    yield
    while HELD:
        HELD.pop().close()


def non_regular(kind: str, tmp_path: Path) -> tuple[Path, str]:
    """A path holding something that is not a regular file, and how the refusal names it."""
    if kind == "device":
        return char_device(tmp_path), "is a character device, not a regular file"
    if kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
        return path, "is a pipe, not a regular file"
    if kind == "link-to-device":
        path = tmp_path / "out.json"
        path.symlink_to(char_device(tmp_path))
        return path, "is a character device, not a regular file"
    if kind == "fd-link":  # what /dev/stdout is: a link into /proc, here to a regular file
        held = (tmp_path / "held.txt").open("w")
        HELD.append(held)
        path = tmp_path / "stdout-like"
        path.symlink_to(f"/proc/self/fd/{held.fileno()}")
        return path, "names a process's open file (under /proc)"
    raise AssertionError(kind)


def fingerprint(path: Path) -> tuple:
    info = os.lstat(path)
    return (stat.S_IFMT(info.st_mode), info.st_ino, info.st_rdev)


# -- the writer ----------------------------------------------------------------------------------


def test_a_symlink_is_written_through_its_target_updated_and_the_link_kept(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir()
    target = real / "run.json"
    target.write_text("old")
    link = tmp_path / "run.json"
    link.symlink_to(target)
    relative = tmp_path / "rel.json"
    relative.symlink_to(Path("elsewhere") / "run.json")

    assert fileio.write_text(link, "new") == target
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    fileio.write_text(relative, "newer")
    assert relative.is_symlink() and target.read_text() == "newer"
    assert listing(tmp_path) == ["elsewhere", "rel.json", "run.json"]  # no temporary files
    assert listing(real) == ["run.json"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "run.json"
    link.symlink_to(tmp_path / "made.json")
    fileio.write_text(link, "text")
    assert link.is_symlink() and (tmp_path / "made.json").read_text() == "text"


def test_the_temporary_file_goes_in_the_targets_folder(tmp_path: Path, monkeypatch) -> None:
    """Renaming across file systems is not atomic: the temporary file must sit by the target."""
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "run.json"
    link.symlink_to(real / "run.json")
    folders = []
    mkstemp = fileio.tempfile.mkstemp

    def recording(*args, **kwargs):
        folders.append(Path(kwargs["dir"]))
        return mkstemp(*args, **kwargs)

    monkeypatch.setattr(fileio.tempfile, "mkstemp", recording)
    fileio.write_text(link, "x")
    assert folders == [real]


@pytest.mark.parametrize("kind", ["device", "fifo", "link-to-device", "fd-link"])
def test_anything_but_a_regular_file_is_refused_and_left_as_it_was(kind, tmp_path) -> None:
    path, says = non_regular(kind, tmp_path)
    before = fingerprint(path)
    with pytest.raises(WriteError, match="^" + re.escape(f"{path}: {says}")) as refusal:
        fileio.write_text(path, "text")
    assert "\n" not in str(refusal.value)
    assert fingerprint(path) == before
    if kind == "fd-link":
        assert path.is_symlink()


def test_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "run.json"
    folder.mkdir()
    with pytest.raises(WriteError, match="run.json: is a folder, not a regular file"):
        fileio.write_text(folder, "text")
    assert folder.is_dir()


@pytest.mark.parametrize("fails", ["write", "fsync", "replace"])
def test_a_full_disk_leaves_the_old_file_and_no_temporary_file(fails, tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    path.write_text("the previous save")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, fails, full)
    with pytest.raises(WriteError, match=r"run\.json: could not save \(No space left on device\)"):
        fileio.write_text(path, "x" * 100_000)
    monkeypatch.undo()
    assert path.read_text() == "the previous save"
    assert listing(tmp_path) == ["run.json"]


def test_a_full_disk_in_write_new_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(WriteError, match="No space left on device"):
        fileio.write_new(tmp_path / "a.csv", "x")
    monkeypatch.undo()
    assert listing(tmp_path) == []


def test_replacing_keeps_the_files_permissions(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("old")
    path.chmod(0o640)
    fileio.write_text(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    fresh = fileio.write_new(tmp_path / "new.json", "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask  # as open() would make it


# -- names the program chooses: never over what is there ------------------------------------------


def test_write_new_never_replaces_and_says_which_name_it_took(tmp_path: Path) -> None:
    first = tmp_path / "microgradtui-moons-step3.json"
    first.write_text("another run's save")
    dangling = tmp_path / "microgradtui-moons-step3-2.json"
    dangling.symlink_to(tmp_path / "nowhere")
    os.mkfifo(tmp_path / "microgradtui-moons-step3-3.json")
    got = fileio.write_new(first, "ours")
    assert got == tmp_path / "microgradtui-moons-step3-4.json"
    assert got.read_text() == "ours"
    assert first.read_text() == "another run's save"
    assert dangling.is_symlink() and not (tmp_path / "nowhere").exists()
    assert stat.S_ISFIFO(os.lstat(tmp_path / "microgradtui-moons-step3-3.json").st_mode)
    assert fileio.write_new(first, "again") == tmp_path / "microgradtui-moons-step3-5.json"


def _race(folder: str, tag: str, count: int, start) -> None:
    start.wait()
    for i in range(count):
        fileio.write_new(Path(folder) / "microgradtui-moons-step300.json", f"{tag} {i}")


def test_two_processes_racing_for_a_name_never_both_take_it(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    workers = [ctx.Process(target=_race, args=(str(tmp_path), t, 25, start)) for t in "ab"]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    texts = sorted(p.read_text() for p in tmp_path.iterdir())
    assert len(texts) == 50  # every write kept, none over another
    assert texts == sorted(f"{t} {i}" for t in "ab" for i in range(25))


def test_checkpoint_save_with_new_name(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    first = checkpoint.save(Trainer(TrainConfig(samples=20, hidden=(2,))), path, new_name=True)
    second = checkpoint.save(Trainer(TrainConfig(samples=20, hidden=(2,))), path, new_name=True)
    assert (first, second) == (path, tmp_path / "run-2.json")
    assert checkpoint.load(second).config.samples == 20


# -- the command line --------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--save", "--export-dot"])
@pytest.mark.parametrize("kind", ["device", "fifo", "link-to-device", "fd-link"])
def test_the_cli_refuses_a_non_regular_target_in_one_line(option, kind, tmp_path, capsys):
    path, says = non_regular(kind, tmp_path)
    before = fingerprint(path)
    status, out, err = run([*SMALL, option, str(path)], capsys)
    assert status == 2, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"microgradtui: error: argument {option}: {path}: {says}"), err
    assert out == ""  # refused before training
    assert fingerprint(path) == before


def test_export_dot_to_dev_stdout_is_refused_in_a_pipe_and_in_a_file(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "tui", *SMALL, "--export-dot", "/dev/stdout"]
    piped = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 2 and piped.stdout == ""
    assert "/dev/stdout: is a pipe, not a regular file" in piped.stderr
    out = tmp_path / "out.txt"
    with out.open("w") as f:  # stdout redirected to a file: do not swap it for another
        redirected = subprocess.run(command, stdout=f, stderr=subprocess.PIPE, text=True)
    assert redirected.returncode == 2
    assert "/dev/stdout: names a process's open file" in redirected.stderr
    assert listing(tmp_path) == ["out.txt"] and out.read_text() == ""


def test_the_cli_saves_through_a_symlink(tmp_path: Path, capsys) -> None:
    (tmp_path / "runs").mkdir()
    link = tmp_path / "latest.json"
    link.symlink_to(Path("runs") / "run.json")
    dot = tmp_path / "graph.dot"
    dot.symlink_to(Path("runs") / "graph.dot")
    status, out, err = run([*SMALL, "--save", str(link), "--export-dot", str(dot)], capsys)
    assert status == 0, err
    assert link.is_symlink() and dot.is_symlink()
    assert checkpoint.load(tmp_path / "runs" / "run.json").step_count == 3
    assert (tmp_path / "runs" / "graph.dot").read_text().startswith("digraph")
    assert listing(tmp_path / "runs") == ["graph.dot", "run.json"]


# -- the app ------------------------------------------------------------------------------------


async def press_save_keys_at_step_1(folder: Path, files_after: int) -> list[str]:
    """Run an app in `folder`, take one step, press s e w p; its notices once all four said
    where they wrote."""
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: app_step(app) == 1 and app.graph_step == 1)
        await pilot.press("s", "e", "w", "p")
        told = ("Saved step 1 to", "Wrote the graph", "Wrote the loss history", "Saved the screen")
        await wait_for(pilot, lambda: all(any(t in n for n in notices(app)) for t in told))
        assert len(list(folder.iterdir())) == files_after
        return notices(app)


async def test_two_apps_in_one_folder_never_overwrite_each_others_files(tmp_path, monkeypatch):
    """Both at step 1, both press s, e, w and p: the second run's files get new names, the
    notices say which, and the first run's files are as it left them."""
    monkeypatch.chdir(tmp_path)
    names = [
        "microgradtui-moons-step1.json",
        "microgradtui-graph-step1.dot",
        "microgradtui-loss-step1.csv",
        "microgradtui-screen-step1.svg",
    ]
    await press_save_keys_at_step_1(tmp_path, 4)
    first = {name: (tmp_path / name).read_bytes() for name in names}
    said = await press_save_keys_at_step_1(tmp_path, 8)
    for name in names:
        renamed = name.replace("-step1.", "-step1-2.")
        assert (tmp_path / renamed).exists(), listing(tmp_path)
        assert any(f"{renamed} ({name} was already there)" in n for n in said), said
        assert (tmp_path / name).read_bytes() == first[name]  # the first run's, untouched


async def test_a_pipe_or_a_link_where_the_app_saves_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "microgradtui-moons-step1.json")
    elsewhere = tmp_path / "elsewhere.dot"
    elsewhere.write_text("someone's graph")
    (tmp_path / "microgradtui-graph-step1.dot").symlink_to(elsewhere)
    app = MicrogradApp(FAST, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: app_step(app) == 1 and app.graph_step == 1)
        await pilot.press("s", "e")
        told = ("Saved step 1 to", "Wrote the graph of step 1")
        await wait_for(pilot, lambda: all(any(t in n for n in notices(app)) for t in told))
        said = notices(app)
    assert len(listing(tmp_path)) == 5
    assert any(
        "Saved step 1 to" in n
        and "microgradtui-moons-step1-2.json (microgradtui-moons-step1.json was already there)" in n
        for n in said
    ), said
    assert stat.S_ISFIFO(os.lstat(tmp_path / "microgradtui-moons-step1.json").st_mode)
    assert elsewhere.read_text() == "someone's graph"
    assert json.loads((tmp_path / "microgradtui-moons-step1-2.json").read_text())["step"] == 1
