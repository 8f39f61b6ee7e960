"""Save and load a run as versioned JSON, written atomically.

A checkpoint holds the configuration, the data, the weights, the optimizer state, the batch RNG
state and the history, so loading it and stepping gives exactly the losses the run would have
had. Saving goes through `micrograd.fileio`: a temporary file beside the target renamed over it
(a crash mid-save leaves the previous file as it was), through symlinks, never over a device, a
pipe or a folder. Loading parses JSON only: nothing is executed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from micrograd import fileio
from micrograd.device import DeviceError
from micrograd.train import Trainer

FORMAT = "microgradtui-checkpoint"
VERSION = 1
MAX_BYTES = 200 * 1024 * 1024


class CheckpointError(ValueError):
    """A checkpoint that cannot be written or read; the message says which file and why."""


def save(trainer: Trainer, path: str | os.PathLike, *, new_name: bool = False) -> Path:
    """Write `trainer`'s run to `path` atomically; returns the path written.

    With `new_name`, nothing already there is replaced: the run goes to the first free name of
    `path`, `stem-2.json`, `stem-3.json`, ... (for names the app chooses itself)."""
    payload = {"format": FORMAT, "version": VERSION, **trainer.state_dict()}
    text = json.dumps(payload, separators=(",", ":"))
    try:
        if new_name:
            return fileio.write_new(path, text)
        fileio.write_text(path, text)
    except fileio.WriteError as exc:
        raise CheckpointError(str(exc)) from None
    return Path(path)


def load(path: str | os.PathLike, device: str | None = None) -> Trainer:
    """Read a checkpoint written by `save` and rebuild its Trainer; `device` (the tensor
    engine's) continues it elsewhere: the weights are saved as plain numbers."""
    source = Path(path)
    try:
        size = source.stat().st_size
        if source.is_dir():
            raise CheckpointError(f"{source}: is a folder, not a checkpoint file")
        if size > MAX_BYTES:
            raise CheckpointError(f"{source}: {size} bytes is larger than the {MAX_BYTES} limit")
        raw = source.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{source}: no such file") from None
    except PermissionError:
        raise CheckpointError(f"{source}: permission denied") from None
    except OSError as exc:
        raise CheckpointError(f"{source}: cannot read ({exc.strerror or exc})") from None
    if not raw.strip():
        raise CheckpointError(f"{source}: the file is empty")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CheckpointError(f"{source}: not a checkpoint (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise CheckpointError(
            f"{source}: not valid JSON (truncated or corrupt?) at line {exc.lineno}: {exc.msg}"
        ) from None
    except RecursionError:  # "[[[[...": deeper than any checkpoint we write
        raise CheckpointError(f"{source}: not a checkpoint (JSON nested too deeply)") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{source}: not a microgradtui checkpoint")
    if payload.get("version") != VERSION:
        raise CheckpointError(
            f"{source}: checkpoint version {payload.get('version')!r} is not supported "
            f"(this microgradtui reads version {VERSION})"
        )
    if device is not None and isinstance(payload.get("config"), dict):
        payload["config"]["device"] = device
    try:
        return Trainer.from_state_dict(payload)
    except DeviceError as exc:
        raise CheckpointError(
            f"{source}: {exc}; continue this run on the CPU with device cpu (--device cpu)"
        ) from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise CheckpointError(f"{source}: the checkpoint is damaged ({detail})") from None
