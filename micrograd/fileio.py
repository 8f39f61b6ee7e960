"""Writing the files a run keeps: one safe writer for checkpoints, DOT, CSV, SVG and JSON.

`write_text(path, text)` writes the whole text or nothing, and only over a regular file:

- atomic: the text goes to a temporary file in the destination's folder, is flushed to disk
  (fsync), and is renamed over the destination (`os.replace`); a crash or a full disk leaves the
  previous file as it was, and no temporary file behind;
- through symlinks: a link is followed to its target, which is replaced (in the target's folder,
  so the rename stays on one file system); the link itself is kept;
- refusing what is not a regular file: a device (`/dev/null`, `/dev/full`), a pipe or FIFO
  (`/dev/stdout` in a pipeline), a socket or a folder is never replaced; the `WriteError` says so
  in one line.

`write_new(path, text)` is for names the program chose itself (`s`, `e`, `w`, `p` in the app): it
never replaces anything that is already there, not even a file this run wrote before. If the
name is taken it tries `name-2.ext`, `name-3.ext`, ...; the file appears under its name whole,
and exclusively (a hard link, which fails if the name exists), so two processes racing for one
name never both get it. It returns the path it took.

Standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

MAX_TRIES = 1000  # names tried by write_new before it gives up


class WriteError(ValueError):
    """A file that cannot be written; the message names it and says why, in one line."""


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def kind_of(mode: int) -> str:
    """What a file of this mode is, in words ("a pipe"); "a regular file" for one."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_target(path: str | os.PathLike) -> Path:
    """The file that writing to `path` would replace or create, with symlinks followed.

    Raises WriteError if something that is not a regular file is there, or the folder it would
    go in does not exist. Nothing is written."""
    shown = os.fspath(path)
    try:
        info = os.stat(shown)  # follows links, /proc's magic ones (/dev/stdout) included
    except FileNotFoundError:
        info = None
    except OSError as exc:  # a link loop, a path through a file, no permission to look
        raise WriteError(f"{shown}: cannot write there ({exc.strerror or exc})") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise WriteError(
            f"{shown}: is {kind_of(info.st_mode)}, not a regular file; refusing to write over it"
        )
    if _through_proc(shown):
        raise WriteError(
            f"{shown}: names a process's open file (under /proc), not a file of its own; "
            "refusing to replace it"
        )
    target = Path(os.path.realpath(shown))  # the file a symlink points to (it may not exist)
    if info is not None:
        try:
            same = os.stat(target)
        except OSError:
            same = None
        if same is None or (same.st_dev, same.st_ino) != (info.st_dev, info.st_ino):
            raise WriteError(f"{shown}: cannot tell which file this link names; not written")
    folder = target.parent
    if not folder.is_dir():
        raise WriteError(f"{shown}: the folder {_folder_shown(shown, folder)} does not exist")
    return target


def _through_proc(shown: str) -> bool:
    """Whether `shown` leads through /proc: /dev/stdout, /dev/fd/3, /proc/self/fd/1, or a link
    to one. Such a link names whatever a process has open; replacing the file it resolves to
    would swap the file out from under the shell that opened it."""
    path = os.path.abspath(shown)
    for _ in range(40):  # as many links as the kernel follows
        folder = os.path.realpath(os.path.dirname(path))
        path = os.path.join(folder, os.path.basename(path))
        if path == "/proc" or path.startswith("/proc/"):
            return True
        try:
            path = os.path.join(folder, os.readlink(path))
        except OSError:  # not a link (or gone): the end of the chain
            return False
    return False


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically, through symlinks, only over a regular file.

    Returns the file written (a symlink's target). Raises WriteError, naming `path` and the
    reason, and leaves whatever was there untouched."""
    target = check_target(path)
    shown = os.fspath(path)
    mode = _mode_of(target)
    tmp = _write_temporary(shown, target.parent, target.name, text.encode("utf-8"), mode)
    with _removed_on_failure(shown, tmp):
        check_target(path)  # still a regular file (or nothing) at the moment of the rename
        os.replace(tmp, target)
    _sync_folder(target.parent)
    return target


def write_new(path: str | os.PathLike, text: str) -> Path:
    """Write `text` under `path`, or the first of `stem-2.ext`, `stem-3.ext`, ... not taken.

    Never replaces anything (a file, a link, a device): a name is taken by creating it
    exclusively, whole. Returns the path written. Raises WriteError and leaves nothing behind."""
    first = Path(path)
    shown = os.fspath(path)
    folder = first.parent
    if not folder.is_dir():
        raise WriteError(f"{shown}: the folder {_folder_shown(shown, folder)} does not exist")
    tmp = _write_temporary(shown, folder, first.name, text.encode("utf-8"), _mode_of(None))
    try:
        for n in range(1, MAX_TRIES + 1):
            candidate = first if n == 1 else first.with_name(f"{first.stem}-{n}{first.suffix}")
            if _claim(tmp, candidate):
                _sync_folder(folder)
                return candidate
        raise WriteError(f"{shown}: {MAX_TRIES} files of this name are there already")
    except OSError as exc:
        raise WriteError(f"{shown}: could not save ({exc.strerror or exc})") from None
    finally:
        _remove_quietly(tmp)


def _claim(tmp: str, candidate: Path) -> bool:
    """Give the finished temporary file the name `candidate` if nothing has it: True if done."""
    try:
        os.link(tmp, candidate)  # atomic and exclusive: EEXIST if the name is taken
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
    # A file system without hard links: reserve the name exclusively, then fill it atomically.
    try:
        os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return False
    try:
        os.replace(tmp, candidate)
    except BaseException:
        _remove_quietly(str(candidate))
        raise
    return True


def _write_temporary(shown: str, folder: Path, name: str, data: bytes, mode: int) -> str:
    """A temporary file in `folder` holding `data`, flushed to disk, with permissions `mode`."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise WriteError(
            f"{shown}: cannot write in {_folder_shown(shown, folder)} ({exc.strerror or exc})"
        ) from None
    with _removed_on_failure(shown, tmp):
        try:
            if hasattr(os, "fchmod"):  # not on Windows: the file keeps what mkstemp gave it
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:  # os.write may write less than asked
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    return tmp


@contextlib.contextmanager
def _removed_on_failure(shown: str, tmp: str) -> Iterator[None]:
    """Remove the temporary file `tmp` if the block fails (Ctrl-C included); an OSError
    becomes a WriteError naming `shown`."""
    try:
        yield
    except BaseException as exc:
        _remove_quietly(tmp)
        if isinstance(exc, OSError):
            raise WriteError(f"{shown}: could not save ({exc.strerror or exc})") from None
        raise


def _mode_of(target: Path | None) -> int:
    """The permissions the file replaced had, or those a new file gets under the umask."""
    if target is not None:
        try:
            return stat.S_IMODE(os.stat(target).st_mode)
        except OSError:
            pass
    return 0o666 & ~_umask()


def _umask() -> int:
    try:  # Linux says it without changing it (changing it is process-wide, so racy)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _folder_shown(shown: str, folder: Path) -> str:
    """The folder as the user named it, where they did; else its full path."""
    given = os.path.dirname(shown)
    return given if given and Path(given).resolve() == folder.resolve() else str(folder)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every system lets a folder be synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
