"""Seeded toy datasets for classification, a train/test split and a CSV loader.

Every generator takes `n` samples, a `noise` level and a `seed`, and returns `(X, y)`: `X` a
list of `[x1, x2]` lists of floats and `y` a list of int class labels 0..k-1, the classes as
balanced as `n` allows (sizes differ by at most one). Each draws from its own
`random.Random(seed)`, so the same arguments give the same data on every call and machine.

`load_csv(path)` reads the user's own data: numeric feature columns, the class label last, an
optional header. Any problem raises one `CSVError` naming the file, the line and the problem;
the file is parsed completely before anything is returned, so nothing is half-loaded.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
import random
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_CSV_BYTES = 50_000_000  # 50 MB: refused before reading
MAX_CLASSES = 10
MIN_ROWS = 4

Dataset = tuple[list[list[float]], list[int]]


def _check_size(n: object, noise: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of samples must be an int >= 1, got {n!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)):
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")


def _check_classes(classes: object) -> int:
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(f"the number of classes must be an int >= 2, got {classes!r}")
    return classes


def _class_sizes(n: int, classes: int) -> list[int]:
    """n split into `classes` sizes that differ by at most one, larger ones first."""
    return [n // classes + (1 if j < n % classes else 0) for j in range(classes)]


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 1337) -> Dataset:
    """Two interleaving half circles (scikit-learn's `make_moons` shape)."""
    _check_size(n, noise)
    rng = random.Random(seed)
    n_out = n // 2
    n_in = n - n_out
    X: list[list[float]] = []
    y: list[int] = []
    for i in range(n_out):
        t = math.pi * i / max(n_out - 1, 1)
        X.append([math.cos(t), math.sin(t)])
        y.append(0)
    for i in range(n_in):
        t = math.pi * i / max(n_in - 1, 1)
        X.append([1.0 - math.cos(t), 0.5 - math.sin(t)])
        y.append(1)
    return _jittered_and_shuffled(X, y, noise, rng)


def make_circles(n: int = 100, noise: float = 0.1, seed: int = 1337) -> Dataset:
    """A circle of radius 0.5 (class 1) inside one of radius 1 (class 0), evenly spaced angles."""
    _check_size(n, noise)
    rng = random.Random(seed)
    X: list[list[float]] = []
    y: list[int] = []
    for label, (size, radius) in enumerate(zip(_class_sizes(n, 2)[::-1], (1.0, 0.5))):
        for i in range(size):
            t = 2.0 * math.pi * i / size
            X.append([radius * math.cos(t), radius * math.sin(t)])
            y.append(label)
    return _jittered_and_shuffled(X, y, noise, rng)


def make_xor(n: int = 100, noise: float = 0.1, seed: int = 1337) -> Dataset:
    """Points in the square [-1, 1]^2; class 1 where x1 and x2 have opposite signs (XOR).

    Each class fills its two quadrants equally; coordinates are at least 0.05 from the axes
    before the noise is added.
    """
    _check_size(n, noise)
    rng = random.Random(seed)
    quadrants = (((1.0, 1.0), (-1.0, -1.0)), ((1.0, -1.0), (-1.0, 1.0)))
    X: list[list[float]] = []
    y: list[int] = []
    for label, size in enumerate(_class_sizes(n, 2)[::-1]):
        for i in range(size):
            sx, sy = quadrants[label][i % 2]
            X.append([sx * rng.uniform(0.05, 1.0), sy * rng.uniform(0.05, 1.0)])
            y.append(label)
    return _jittered_and_shuffled(X, y, noise, rng)


def make_spiral(n: int = 100, noise: float = 0.1, seed: int = 1337, classes: int = 2) -> Dataset:
    """`classes` spiral arms (CS231n's spiral): arm j at radius r in [0.1, 1] has angle
    4r + 2*pi*j/classes, so the arms turn 4 radians and are evenly spaced around the centre."""
    _check_size(n, noise)
    _check_classes(classes)
    rng = random.Random(seed)
    X: list[list[float]] = []
    y: list[int] = []
    for label, size in enumerate(_class_sizes(n, classes)):
        for i in range(size):
            r = 0.1 + 0.9 * i / max(size - 1, 1)
            t = 4.0 * r + 2.0 * math.pi * label / classes
            X.append([r * math.sin(t), r * math.cos(t)])
            y.append(label)
    return _jittered_and_shuffled(X, y, noise, rng)


def make_blobs(n: int = 100, noise: float = 0.2, seed: int = 1337, classes: int = 3) -> Dataset:
    """`classes` Gaussian blobs with standard deviation `noise` around centres evenly spaced on
    the unit circle (the first at the top)."""
    _check_size(n, noise)
    _check_classes(classes)
    rng = random.Random(seed)
    X: list[list[float]] = []
    y: list[int] = []
    for label, size in enumerate(_class_sizes(n, classes)):
        t = math.pi / 2.0 + 2.0 * math.pi * label / classes
        cx, cy = math.cos(t), math.sin(t)
        for _ in range(size):
            X.append([cx + rng.gauss(0.0, noise), cy + rng.gauss(0.0, noise)])
            y.append(label)
    return _shuffled(X, y, rng)


def make_spiral3(n: int = 100, noise: float = 0.1, seed: int = 1337) -> Dataset:
    """`make_spiral` with three arms."""
    return make_spiral(n, noise, seed, classes=3)


def make_tiny(n: int = 4, noise: float = 0.0, seed: int = 1337) -> Dataset:
    """The four samples of three inputs from Karpathy's micrograd lecture.

    Targets ys = [1, -1, -1, 1] become labels [1, 0, 0, 1] (t = 2*label - 1 gives them back);
    train with `MLP(3, [4, 4, 1])`, tanh and mse. The arguments exist only so `DATASETS`
    entries share one signature; they are ignored.
    """
    X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    return X, [1, 0, 0, 1]


DIGITS_SHAPE = (1, 8, 8)  # channels, height, width
DIGITS_COUNT = 1797
_DIGITS_FILE = os.path.join(os.path.dirname(__file__), "datafiles", "digits.bin.gz")


def make_digits(n: int = DIGITS_COUNT, noise: float = 0.0, seed: int = 1337) -> Dataset:
    """The 8x8 handwritten digits (the UCI optical recognition of handwritten digits set, as
    scikit-learn ships it): up to `n` of its 1,797 images, shuffled by `seed`, each a flat list
    of 64 pixels in [0, 1] (row by row; `DIGITS_SHAPE` is its image shape), labels 0-9.
    `noise` is ignored (the images are as scanned).

    Stored in the package as 1,797 rows of 65 bytes (64 pixels 0..16, then the label),
    gzipped: read with the standard library alone.
    """
    _check_size(n, noise)
    with gzip.open(_DIGITS_FILE, "rb") as f:
        raw = f.read()
    row = 65
    if len(raw) != DIGITS_COUNT * row:
        raise ValueError(f"the digits file is damaged ({len(raw)} bytes)")
    X = [[v / 16.0 for v in raw[i : i + 64]] for i in range(0, len(raw), row)]
    y = list(raw[64::row])
    X, y = _shuffled(X, y, random.Random(seed))
    return X[:n], y[:n]


DATASETS: dict[str, Callable[[int, float, int], Dataset]] = {
    "moons": make_moons,
    "circles": make_circles,
    "xor": make_xor,
    "spiral": make_spiral,
    "spiral3": make_spiral3,
    "blobs": make_blobs,
    "tiny": make_tiny,
    "digits": make_digits,
}


def _jittered_and_shuffled(X: list, y: list, noise: float, rng: random.Random) -> Dataset:
    """Add Gaussian noise of standard deviation `noise` to both coordinates, then shuffle."""
    X = [[a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] for a, b in X]
    return _shuffled(X, y, rng)


def _shuffled(X: list, y: list, rng: random.Random) -> Dataset:
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


def train_test_split(
    X: Sequence[Sequence[float]], y: Sequence[int], test_fraction: float, seed: int = 1337
) -> tuple[list[list[float]], list[int], list[list[float]], list[int]]:
    """Split into (X_train, y_train, X_test, y_test), stratified by class and seeded.

    The test set holds round(n * test_fraction) samples, shared among the classes in
    proportion to their sizes (largest remainders first), and every class keeps at least one
    training sample. Both parts keep the original order of the samples.
    """
    if len(X) != len(y):
        raise ValueError(f"train_test_split: {len(X)} samples but {len(y)} labels")
    if not X:
        raise ValueError("train_test_split: no samples")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)):
        raise ValueError(f"test_fraction must be a number in [0, 1), got {test_fraction!r}")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction!r}")
    rng = random.Random(seed)
    by_class: dict[int, list[int]] = {}
    for i, label in enumerate(y):
        by_class.setdefault(label, []).append(i)
    labels = sorted(by_class)
    quotas = {c: len(by_class[c]) * test_fraction for c in labels}
    take = {c: math.floor(quotas[c]) for c in labels}
    left = math.floor(len(X) * test_fraction + 0.5) - sum(take.values())
    for c in sorted(labels, key=lambda c: (-(quotas[c] - take[c]), c))[: max(left, 0)]:
        take[c] += 1
    test: set[int] = set()
    for c in labels:
        members = list(by_class[c])
        rng.shuffle(members)
        test.update(members[: min(take[c], len(members) - 1)])
    train_idx = [i for i in range(len(X)) if i not in test]
    test_idx = sorted(test)
    return (
        [list(X[i]) for i in train_idx],
        [y[i] for i in train_idx],
        [list(X[i]) for i in test_idx],
        [y[i] for i in test_idx],
    )


# -- CSV ---------------------------------------------------------------------------------------


class CSVError(ValueError):
    """A CSV file that cannot be used; the message names the file, the line and the problem."""

    def __init__(self, path: str, problem: str, line: int | None = None) -> None:
        self.path = path
        self.problem = problem
        self.line = line
        where = f"{path}: line {line}" if line is not None else path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple:
        return (type(self), (self.path, self.problem, self.line))


@dataclass(frozen=True)
class CsvData:
    """A loaded CSV: features X, labels y in 0..k-1, the class names and the header if any."""

    X: list[list[float]]
    y: list[int]
    classes: tuple[str, ...]
    header: tuple[str, ...] | None

    @property
    def n_features(self) -> int:
        return len(self.X[0])

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def _read_bytes(path: str) -> bytes:
    """The file's bytes, refusing what is missing, not a regular file or too big."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise CSVError(path, "file not found") from None
    except PermissionError:
        raise CSVError(path, "cannot read the file: permission denied") from None
    except (OSError, ValueError) as err:
        raise CSVError(
            path, f"cannot read the file: {getattr(err, 'strerror', None) or err}"
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise CSVError(path, "is a directory, not a CSV file")
    if not stat.S_ISREG(info.st_mode):
        raise CSVError(path, "is not a regular file (a device, pipe or socket); give a CSV file")
    too_big = f"the limit is {MAX_CSV_BYTES // 1_000_000} MB"
    if info.st_size > MAX_CSV_BYTES:
        raise CSVError(path, f"the file is {info.st_size / 1e6:.1f} MB; {too_big}")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CSV_BYTES + 1)
    except PermissionError:
        raise CSVError(path, "cannot read the file: permission denied") from None
    except OSError as err:
        raise CSVError(path, f"cannot read the file: {err.strerror or err}") from None
    if len(data) > MAX_CSV_BYTES:
        raise CSVError(path, f"the file grew past {MAX_CSV_BYTES // 1_000_000} MB; {too_big}")
    return data


def _decode(path: str, data: bytes) -> str:
    """UTF-8 text (a byte-order mark is dropped); binary and other encodings are refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CSVError(path, "is UTF-16 text; save it as UTF-8", 1)
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise CSVError(
            path, f"binary content (a NUL byte at offset {nul}); expected a UTF-8 text CSV", line
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise CSVError(
            path,
            f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "save the file as UTF-8",
            line,
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _rows(path: str, text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row; a row's line is the one where it starts."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as err:
        problem = str(err)
        if "field limit" in problem:
            problem = f"a cell is longer than {csv.field_size_limit()} characters"
        raise CSVError(path, f"not valid CSV: {problem}", reader.line_num) from None
    return rows


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _show(text: str, limit: int = 40) -> str:
    """A cell's text for a message: quoted, escaped (one line), shortened."""
    shown = repr(text if len(text) <= limit else text[:limit] + "...")
    if "\n" in text or "\r" in text:
        shown += " (it spans lines: a misplaced quote?)"
    return shown


def _column(header: tuple[str, ...] | None, j: int) -> str:
    if header is not None and header[j]:
        return f"column {j + 1} ({_show(header[j])})"
    return f"column {j + 1}"


def load_csv(path: str | os.PathLike[str], *, max_classes: int = MAX_CLASSES) -> CsvData:
    """Read a CSV of numeric feature columns followed by one label column.

    A first row whose feature cells are all non-numeric is a header. Labels may be whole
    numbers or names; either way the distinct labels, in sorted order, become classes 0..k-1
    and `classes` keeps their text. Raises `CSVError` for anything unusable (see the module).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load_csv takes a path, got {type(path).__name__}")
    name = os.fspath(path)
    if not name:
        raise CSVError("''", "no file name given")
    data = _read_bytes(name)
    if not data:
        raise CSVError(name, "empty file (0 bytes)")
    rows = _rows(name, _decode(name, data))
    if not rows:
        raise CSVError(name, "empty file (only blank lines)")

    first_line, first = rows[0]
    width = len(first)
    if width < 2:
        raise CSVError(
            name,
            "found 1 column; need at least 2 separated by commas: numeric features, "
            "then the class label",
            first_line,
        )
    numeric = [_is_number(c) for c in first[:-1]]
    header: tuple[str, ...] | None = None
    if not any(numeric):
        header = tuple(c.strip() for c in first)
        seen: dict[str, int] = {}
        for j, column in enumerate(header):
            if column and column in seen:
                raise CSVError(
                    name,
                    f"duplicate column name {_show(column)} "
                    f"(columns {seen[column] + 1} and {j + 1})",
                    first_line,
                )
            seen[column] = j
        rows = rows[1:]
        if not rows:
            raise CSVError(name, "has a header but no data rows", first_line)
    elif not all(numeric):
        j = numeric.index(False)
        raise CSVError(
            name,
            f"column {j + 1} holds {_show(first[j].strip())}, not a number, but other cells are "
            "numbers: a header must name every feature column, a data row holds only numbers",
            first_line,
        )

    X: list[list[float]] = []
    raw_labels: list[tuple[int, str]] = []
    for line, cells in rows:
        if len(cells) != width:
            hint = ""
            if any("\n" in c or "\r" in c for c in cells):
                hint = "; a cell spans lines: a misplaced quote?"
            raise CSVError(
                name,
                f"has {len(cells)} columns, expected {width} (as on line {first_line}){hint}",
                line,
            )
        features = []
        for j, cell in enumerate(cells[:-1]):
            text = cell.strip()
            if not text:
                raise CSVError(name, f"{_column(header, j)} is empty", line)
            try:
                value = float(text)
            except ValueError:
                raise CSVError(
                    name, f"{_column(header, j)}: {_show(text)} is not a number", line
                ) from None
            if not math.isfinite(value):
                raise CSVError(
                    name, f"{_column(header, j)}: {_show(text)} is not a finite number", line
                )
            features.append(value)
        label = cells[-1].strip()
        if not label:
            raise CSVError(name, f"the label ({_column(header, width - 1)}) is empty", line)
        X.append(features)
        raw_labels.append((line, label))

    if len(X) < MIN_ROWS:
        raise CSVError(name, f"only {len(X)} data row(s); need at least {MIN_ROWS}")
    classes, y = _classes(name, raw_labels)
    if len(classes) < 2:
        raise CSVError(
            name, f"only one class ({_show(classes[0])}) in the label column; need at least 2"
        )
    if len(classes) > max_classes:
        raise CSVError(
            name,
            f"{len(classes)} different labels in the last column; at most {max_classes} classes "
            "are supported (is the last column really the class label?)",
        )
    return CsvData(X, y, classes, header)


def _classes(path: str, raw: list[tuple[int, str]]) -> tuple[tuple[str, ...], list[int]]:
    """Map label texts to 0..k-1: whole numbers in numeric order, otherwise names sorted."""
    numbers: list[float] = []
    for _line, text in raw:
        try:
            numbers.append(float(text))
        except ValueError:
            break
    if len(numbers) == len(raw):  # numeric labels: they must be whole numbers
        for (line, text), value in zip(raw, numbers):
            if not (math.isfinite(value) and value.is_integer()):
                raise CSVError(
                    path,
                    f"label {_show(text)} is not a class: numeric labels must be whole numbers "
                    "(or use names)",
                    line,
                )
        ints = [int(v) for v in numbers]
        distinct = sorted(set(ints))
        index = {v: k for k, v in enumerate(distinct)}
        return tuple(str(v) for v in distinct), [index[v] for v in ints]
    names = sorted({text for _line, text in raw})
    index = {v: k for k, v in enumerate(names)}
    return tuple(names), [index[text] for _line, text in raw]
