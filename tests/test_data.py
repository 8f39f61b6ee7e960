"""Datasets: seeded generators, the stratified split, and the CSV loader with every bad input."""

from __future__ import annotations

import builtins
import hashlib
import math
import os
import pickle
import socket
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micrograd import data as data_module
from micrograd.data import (
    DATASETS,
    DIGITS_COUNT,
    DIGITS_SHAPE,
    MAX_CSV_BYTES,
    CsvData,
    CSVError,
    load_csv,
    make_blobs,
    make_circles,
    make_digits,
    make_moons,
    make_spiral,
    make_tiny,
    make_xor,
    train_test_split,
)

GENERATORS = {name: f for name, f in DATASETS.items() if name not in ("tiny", "digits")}
CLASSES = {"moons": 2, "circles": 2, "xor": 2, "spiral": 2, "spiral3": 3, "blobs": 3}

# -- generators --------------------------------------------------------------------------------


def test_dataset_names() -> None:
    assert set(DATASETS) == {
        "moons",
        "circles",
        "xor",
        "spiral",
        "spiral3",
        "blobs",
        "tiny",
        "digits",
    }


@pytest.mark.parametrize(
    ("args", "digest"),
    [
        ((100, 0.1, 1337), "68106020cdda2ab443818ba3e84f40767bac68eefb91a2542029b78ab7fcc1b9"),
        ((7, 0.3, 0), "e32227ba7a461572d64c7e6772d4dca5d47986548b1c0b07cc88bd5309b0bbad"),
        ((1, 0.1, 5), "20d66b6f62ec6fe772479f7811421f9517fb7f26a2964d0c60ccd025f388f01e"),
        ((200, 0.0, 42), "75556c07dc1f7ec43828797de91180d676eb0a9db384bb64c7ebdc4c57c27cdb"),
    ],
)
def test_make_moons_output_is_unchanged(args: tuple, digest: str) -> None:
    """Other code and tests depend on the original make_moons: its output is pinned."""
    X, y = make_moons(*args)
    assert hashlib.sha256(repr((X, y)).encode()).hexdigest() == digest


def test_make_moons_first_point_is_pinned() -> None:
    X, y = make_moons()
    assert X[0] == [0.8043727855973898, 0.19179804002672288]
    assert y[:5] == [0, 1, 0, 1, 0]


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("n", [1, 2, 3, 7, 100, 101])
def test_generators_shape_balance_and_determinism(name: str, n: int) -> None:
    f = GENERATORS[name]
    X, y = f(n, 0.1, 7)
    assert len(X) == len(y) == n
    assert all(len(row) == 2 and all(isinstance(v, float) for v in row) for row in X)
    assert all(math.isfinite(v) for row in X for v in row)
    k = CLASSES[name]
    assert set(y) <= set(range(k))
    counts = Counter(y)
    sizes = [counts.get(c, 0) for c in range(k)]
    assert max(sizes) - min(sizes) <= 1  # balanced
    assert f(n, 0.1, 7) == (X, y)  # same seed, same data
    if n >= 20:
        assert f(n, 0.1, 8) != (X, y)  # another seed, other data
        assert set(y) == set(range(k))


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_do_not_touch_the_global_random_state(name: str) -> None:
    import random

    random.seed(5)
    expected = random.random()
    random.seed(5)
    GENERATORS[name](50, 0.1, 1)
    assert random.random() == expected


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("n", [0, -1, 2.5, "10", True, None])
def test_generators_reject_bad_n(name: str, n: object) -> None:
    with pytest.raises(ValueError, match="number of samples must be an int >= 1"):
        GENERATORS[name](n, 0.1, 1)


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("noise", [-0.1, math.nan, math.inf, "0.1"])
def test_generators_reject_bad_noise(name: str, noise: object) -> None:
    with pytest.raises(ValueError, match="noise must be"):
        GENERATORS[name](10, noise, 1)


def test_spiral_and_blobs_class_counts() -> None:
    for classes in (2, 3, 5):
        for f in (make_spiral, make_blobs):
            _, y = f(50, 0.1, 3, classes=classes)
            assert sorted(Counter(y).values()) == sorted(
                [50 // classes + (i < 50 % classes) for i in range(classes)]
            )
    for bad in (1, 0, 2.0, True):
        with pytest.raises(ValueError, match="number of classes must be an int >= 2"):
            make_spiral(10, 0.1, 1, classes=bad)
        with pytest.raises(ValueError, match="number of classes"):
            make_blobs(10, 0.1, 1, classes=bad)


def test_spiral3_is_make_spiral_with_three_classes() -> None:
    assert DATASETS["spiral3"](60, 0.1, 2) == make_spiral(60, 0.1, 2, classes=3)
    assert DATASETS["spiral"](60, 0.1, 2) == make_spiral(60, 0.1, 2)
    assert DATASETS["blobs"](60, 0.1, 2) == make_blobs(60, 0.1, 2, classes=3)


def test_noise_free_shapes() -> None:
    X, y = make_circles(40, 0.0, 1)
    for (a, b), label in zip(X, y):
        assert math.hypot(a, b) == pytest.approx(1.0 if label == 0 else 0.5)
    X, y = make_xor(40, 0.0, 1)
    for (a, b), label in zip(X, y):
        assert (a * b < 0) == (label == 1)
        assert min(abs(a), abs(b)) >= 0.05 and max(abs(a), abs(b)) <= 1.0
    X, y = make_spiral(40, 0.0, 1, classes=2)
    assert all(0.1 - 1e-12 <= math.hypot(a, b) <= 1.0 + 1e-12 for a, b in X)
    X, y = make_blobs(30, 0.0, 1, classes=3)
    assert {(round(a, 9), round(b, 9)) for a, b in X} == {
        (
            round(math.cos(math.pi / 2 + 2 * math.pi * j / 3), 9),
            round(math.sin(math.pi / 2 + 2 * math.pi * j / 3), 9),
        )
        for j in range(3)
    }


def test_make_tiny_is_karpathys_lecture_example() -> None:
    X, y = make_tiny()
    assert X == [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    assert [2 * c - 1 for c in y] == [1, -1, -1, 1]
    assert DATASETS["tiny"](100, 0.1, 5) == (X, y)
    X[0][0] = 99.0  # a caller's change does not leak into the next call
    assert make_tiny()[0][0][0] == 2.0


# -- train/test split --------------------------------------------------------------------------


def test_split_sizes_stratification_and_determinism() -> None:
    X, y = make_moons(100, 0.1, 1)
    X_tr, y_tr, X_te, y_te = train_test_split(X, y, 0.2, seed=3)
    assert len(X_te) == len(y_te) == 20 and len(X_tr) == len(y_tr) == 80
    assert Counter(y_te) == {0: 10, 1: 10}
    assert sorted(map(tuple, X_tr + X_te)) == sorted(map(tuple, X))
    pairs = {tuple(x): label for x, label in zip(X, y)}
    assert all(pairs[tuple(x)] == label for x, label in zip(X_tr + X_te, y_tr + y_te))
    assert train_test_split(X, y, 0.2, seed=3) == (X_tr, y_tr, X_te, y_te)
    assert train_test_split(X, y, 0.2, seed=4) != (X_tr, y_tr, X_te, y_te)


def test_split_keeps_original_order_and_copies_rows() -> None:
    X = [[float(i)] for i in range(10)]
    y = [i % 2 for i in range(10)]
    X_tr, _, X_te, _ = train_test_split(X, y, 0.3, seed=1)
    assert X_tr == sorted(X_tr) and X_te == sorted(X_te)
    X_tr[0][0] = -1.0
    assert min(row[0] for row in X) == 0.0


def test_split_zero_fraction_and_uneven_classes() -> None:
    X = [[float(i)] for i in range(13)]
    y = [0] * 9 + [1] * 3 + [2]
    X_tr, y_tr, X_te, y_te = train_test_split(X, y, 0.0, seed=1)
    assert (X_tr, y_tr, X_te, y_te) == (X, y, [], [])
    _, y_tr, _, y_te = train_test_split(X, y, 0.5, seed=1)
    assert set(y_tr) == {0, 1, 2}  # every class keeps a training sample
    assert len(y_te) in (6, 7)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=1, max_size=40),
    st.floats(0.0, 0.99),
    st.integers(0, 10**6),
)
def test_split_invariants(y: list[int], fraction: float, seed: int) -> None:
    X = [[float(i)] for i in range(len(y))]
    X_tr, y_tr, X_te, y_te = train_test_split(X, y, fraction, seed)
    assert sorted(X_tr + X_te) == X
    assert set(y_tr) == set(y)
    assert len(X_te) <= math.floor(len(y) * fraction + 0.5)
    for c in set(y):
        share = y.count(c) * fraction
        assert abs(y_te.count(c) - share) < 1.0 + 1e-9 or y_te.count(c) == y.count(c) - 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([[1.0]], [0, 1], 0.2), "1 samples but 2 labels"),
        (([], [], 0.2), "no samples"),
        (([[1.0]], [0], 1.0), r"test_fraction must be in \[0, 1\)"),
        (([[1.0]], [0], -0.1), "test_fraction must be in"),
        (([[1.0]], [0], math.nan), "test_fraction must be in"),
        (([[1.0]], [0], "0.2"), "test_fraction must be a number"),
    ],
)
def test_split_bad_arguments(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train_test_split(*args, seed=1)


# -- CSV: good files ---------------------------------------------------------------------------


def write(tmp_path, text: str | bytes, name: str = "data.csv") -> str:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return str(path)


def test_load_csv_with_header_and_int_labels(tmp_path) -> None:
    path = write(tmp_path, "x1,x2,label\n0.5,1,0\n-1,2e-1,1\n3,4,1\n 5 , 6 ,0\n")
    loaded = load_csv(path)
    assert loaded == CsvData(
        X=[[0.5, 1.0], [-1.0, 0.2], [3.0, 4.0], [5.0, 6.0]],
        y=[0, 1, 1, 0],
        classes=("0", "1"),
        header=("x1", "x2", "label"),
    )
    assert loaded.n_features == 2 and loaded.n_classes == 2


def test_load_csv_without_header_and_plus_minus_one_labels(tmp_path) -> None:
    path = write(tmp_path, "2,3,-1,1\n3,-1,0.5,-1\n0.5,1,1,-1\n1,1,-1,1\n")
    loaded = load_csv(path)
    assert loaded.header is None
    assert loaded.X[0] == [2.0, 3.0, -1.0]
    assert loaded.y == [1, 0, 0, 1]
    assert loaded.classes == ("-1", "1")


def test_load_csv_string_labels_map_to_sorted_classes(tmp_path) -> None:
    rows = "1,2,setosa\n3,4,virginica\n5,6,versicolor\n7,8,setosa\n9,1,virginica\n"
    loaded = load_csv(write(tmp_path, rows))
    assert loaded.classes == ("setosa", "versicolor", "virginica")
    assert loaded.y == [0, 2, 1, 0, 2]


def test_load_csv_numeric_labels_sort_as_numbers(tmp_path) -> None:
    loaded = load_csv(write(tmp_path, "1,10\n2,2\n3,10\n4,2.0\n5,3\n"))
    assert loaded.classes == ("2", "3", "10")
    assert loaded.y == [2, 0, 2, 0, 1]


def test_load_csv_tolerates_bom_crlf_blank_lines_quotes_and_one_feature(tmp_path) -> None:
    text = '\ufeff"a","class"\r\n\r\n"1.5",yes\r\n2,no\r\n\r\n3,yes\r\n4,no\r\n'
    loaded = load_csv(write(tmp_path, text))
    assert loaded.header == ("a", "class")
    assert loaded.X == [[1.5], [2.0], [3.0], [4.0]]
    assert loaded.classes == ("no", "yes")
    assert loaded.y == [1, 0, 1, 0]


def test_load_csv_accepts_pathlib_and_wide_data(tmp_path) -> None:
    rows = "\n".join(",".join(str(i * j) for j in range(12)) + f",{i % 2}" for i in range(6))
    write(tmp_path, rows, "w.csv")
    loaded = load_csv(tmp_path / "w.csv")
    assert loaded.n_features == 12 and len(loaded.X) == 6


# -- CSV: every bad input ----------------------------------------------------------------------


def assert_csv_error(path: str, *fragments: str, line: int | None = None) -> CSVError:
    with pytest.raises(CSVError) as info:
        load_csv(path)
    err = info.value
    message = str(err)
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, message
    assert err.line == line, message
    if line is not None:
        assert f"line {line}:" in message
    assert "\n" not in message
    assert isinstance(err, ValueError)
    return err


BAD_CSVS = {
    "empty": ("", ("empty file (0 bytes)",), None),
    "blank lines only": ("\n  \n\n", ("empty file (only blank lines)",), None),
    "header only": ("x,y,label\n", ("has a header but no data rows",), 1),
    "header then blanks": ("\nx,y,label\n\n\n", ("has a header but no data rows",), 2),
    "one column": ("1\n2\n3\n4\n", ("found 1 column", "at least 2"), 1),
    "semicolons": ("1;2;0\n3;4;1\n", ("found 1 column", "commas"), 1),
    "ragged short": ("1,2,0\n3,4,1\n5,0\n6,7,1\n", ("has 2 columns, expected 3",), 3),
    "ragged long": ("x,y,c\n1,2,0\n3,4,1,9\n", ("has 4 columns, expected 3 (as on line 1)",), 3),
    "non-number": ("x,y,c\n1,2,0\n3,abc,1\n", ("column 2 ('y'): 'abc' is not a number",), 3),
    "non-number no header": ("1,2,0\n3,4,1\n5,six,0\n", ("column 2: 'six' is not a number",), 3),
    "nan": ("1,2,0\n3,nan,1\n5,6,0\n7,8,1\n", ("column 2: 'nan' is not a finite number",), 2),
    "inf": ("1,2,0\n-inf,4,1\n5,6,0\n7,8,1\n", ("column 1: '-inf' is not a finite number",), 2),
    "overflow": ("1,2,0\n3,1e999,1\n5,6,0\n7,8,1\n", ("'1e999' is not a finite number",), 2),
    "empty cell": ("1,2,0\n3,,1\n5,6,0\n7,8,1\n", ("column 2 is empty",), 2),
    "empty label": ("1,2,0\n3,4,\n5,6,0\n7,8,1\n", ("the label (column 3) is empty",), 2),
    "one class": ("1,2,a\n3,4,a\n5,6,a\n7,8,a\n", ("only one class ('a')", "at least 2"), None),
    "three rows": ("x,y,c\n1,2,0\n3,4,1\n5,6,1\n", ("only 3 data row(s); need at least 4",), None),
    "fractional label": ("1,2,0\n3,4,0.5\n5,6,1\n7,8,1\n", ("label '0.5' is not a class",), 2),
    "nan label": ("1,2,0\n3,4,1\n5,6,nan\n7,8,1\n", ("label 'nan' is not a class",), 3),
    "duplicate header": ("x,y,x,c\n1,2,3,0\n", ("duplicate column name 'x' (columns 1 and 3)",), 1),
    "mixed first row": ("x,2,c\n1,2,0\n", ("column 1 holds 'x', not a number",), 1),
    "too many classes": (
        "".join(f"{i},{i},{i}\n" for i in range(11)),
        ("11 different labels", "at most 10 classes"),
        None,
    ),
    "huge field": (
        "1,2," + "9" * 200_000 + "\n",
        ("not valid CSV: a cell is longer than 131072",),
        1,
    ),
    "unclosed quote": (
        '1,2,0\n3,"4,1\n5,6,0\n7,8,1\n',
        ("has 2 columns, expected 3 (as on line 1); a cell spans lines: a misplaced quote?",),
        2,
    ),
    "unclosed quote, right width": (
        '1,2,0\n3,"4\n5",0\n6,7,1\n8,9,0\n',
        ("column 2: '4\\n5' (it spans lines: a misplaced quote?) is not a number",),
        2,
    ),
    "long cell is shortened": ("1,2,0\n3," + "z" * 500 + ",1\n", ("'" + "z" * 40 + "...'",), 2),
}


@pytest.mark.parametrize("case", sorted(BAD_CSVS))
def test_bad_csv_gives_one_clear_error(tmp_path, case: str) -> None:
    text, fragments, line = BAD_CSVS[case]
    assert_csv_error(write(tmp_path, text), *fragments, line=line)


def test_missing_file(tmp_path) -> None:
    assert_csv_error(str(tmp_path / "nope.csv"), "file not found")
    assert_csv_error(str(tmp_path / "nope" / "deeper.csv"), "file not found")


def test_a_file_used_as_a_folder(tmp_path) -> None:
    path = write(tmp_path, "1,2,0\n")
    assert_csv_error(os.path.join(path, "inner.csv"), "file not found")


def test_directory(tmp_path) -> None:
    assert_csv_error(str(tmp_path), "is a directory, not a CSV file")


def test_empty_path() -> None:
    with pytest.raises(CSVError, match="no file name given"):
        load_csv("")


def test_not_a_path_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="takes a path"):
        load_csv(3)  # type: ignore[arg-type]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_device_is_refused_without_hanging() -> None:
    assert_csv_error("/dev/zero", "is not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_refused_without_hanging(tmp_path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert_csv_error(str(fifo), "is not a regular file")


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs unix sockets")
def test_socket_is_refused(tmp_path) -> None:
    path = str(tmp_path / "s.csv")
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.bind(path)
        except OSError:
            pytest.skip("cannot bind a unix socket here")
        assert_csv_error(path, "is not a regular file")


def test_unreadable_file(tmp_path, monkeypatch) -> None:
    path = write(tmp_path, "1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    real_open = builtins.open

    def refusing_open(file, *args, **kwargs):
        if os.fspath(file) == path:
            raise PermissionError(13, "Permission denied", path)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refusing_open)
    assert_csv_error(path, "cannot read the file: permission denied")


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch) -> None:
    path = tmp_path / "big.csv"
    with open(path, "wb") as f:
        f.truncate(100_000_000)  # sparse: 100 MB on paper, nothing on disk

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(builtins, "open", no_reading)
    err = assert_csv_error(str(path), "the file is 100.0 MB; the limit is 50 MB")
    assert err.problem.endswith("the limit is 50 MB")


def test_the_size_limit_is_50_mb() -> None:
    assert MAX_CSV_BYTES == 50_000_000


def test_limit_is_rechecked_after_reading(tmp_path, monkeypatch) -> None:
    """A file that grows between the size check and the read is still cut off at the limit."""
    path = write(tmp_path, "1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    real_stat = os.stat

    class SmallStat:
        def __init__(self, real):
            self.st_mode = real.st_mode
            self.st_size = 1

    monkeypatch.setattr(data_module, "MAX_CSV_BYTES", 10)
    monkeypatch.setattr(data_module.os, "stat", lambda p: SmallStat(real_stat(p)))
    assert_csv_error(path, "the file grew past 0 MB; the limit is 0 MB")


def test_binary_file(tmp_path) -> None:
    path = write(tmp_path, b"1,2,0\n3,4,1\n\x89PNG\x00\x01\x02")
    assert_csv_error(path, "binary content (a NUL byte", line=3)


def test_non_utf8_file(tmp_path) -> None:
    path = write(tmp_path, "x,y,c\n1,2,caf\u00e9\n".encode("latin-1"))
    assert_csv_error(path, "not UTF-8 text (byte 0xe9", "save the file as UTF-8", line=2)


def test_utf16_file(tmp_path) -> None:
    path = write(tmp_path, "x,y,c\n1,2,0\n".encode("utf-16"))
    assert_csv_error(path, "is UTF-16 text", line=1)


def test_csv_error_pickles_and_keeps_its_parts(tmp_path) -> None:
    err = assert_csv_error(write(tmp_path, "1,2,0\n3,x,1\n"), "'x' is not a number", line=2)
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is CSVError
    assert (clone.path, clone.line, clone.problem, str(clone)) == (
        err.path,
        err.line,
        err.problem,
        str(err),
    )


def test_nothing_is_half_loaded(tmp_path, monkeypatch) -> None:
    """A bad last row fails the whole load: no partial result is ever returned."""
    good = "".join(f"{i},{i + 1},{i % 2}\n" for i in range(50))
    path = write(tmp_path, good + "1,2\n")
    assert_csv_error(path, "has 2 columns", line=51)


# -- fuzzing -----------------------------------------------------------------------------------


def _check_loaded(loaded: CsvData) -> None:
    assert len(loaded.X) == len(loaded.y) >= 4
    assert all(len(row) == loaded.n_features >= 1 for row in loaded.X)
    assert all(math.isfinite(v) for row in loaded.X for v in row)
    assert 2 <= loaded.n_classes <= 10
    assert set(loaded.y) == set(range(loaded.n_classes))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300))
def test_fuzz_random_bytes_only_raise_csv_error(tmp_path, blob: bytes) -> None:
    path = write(tmp_path, blob, "fuzz.csv")
    try:
        loaded = load_csv(path)
    except CSVError as err:
        assert str(err).startswith(path)
    else:
        _check_loaded(loaded)


CELLS = st.sampled_from(
    ["1", "-2.5", "0", "1e3", "nan", "inf", "", " ", "a", "b", "x", "1.5", '"3"', "é", "0x1", "2"]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.lists(CELLS, min_size=0, max_size=4), min_size=0, max_size=8),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_fuzz_well_formed_but_wrong_csvs_only_raise_csv_error(tmp_path, rows, newline) -> None:
    text = newline.join(",".join(row) for row in rows)
    path = write(tmp_path, text.encode("utf-8"), "fuzz.csv")
    try:
        loaded = load_csv(path)
    except CSVError as err:
        assert str(err).startswith(path)
    else:
        _check_loaded(loaded)


def test_digits_are_the_1797_uci_images_with_balanced_labels() -> None:
    X, y = make_digits(5000, 0.0, 1)
    assert len(X) == len(y) == DIGITS_COUNT == 1797
    assert all(len(x) == 64 for x in X) and len(DIGITS_SHAPE) == 3
    assert all(0.0 <= v <= 1.0 for x in X for v in x)
    counts = [y.count(c) for c in range(10)]
    assert sorted(counts) == [174, 177, 178, 179, 180, 181, 181, 182, 182, 183]
    # a zero is a ring: dark centre, bright ring around it
    zero = X[y.index(0)]
    assert zero[3 * 8 + 3] + zero[4 * 8 + 4] < zero[3 * 8 + 1] + zero[4 * 8 + 6] + 0.3


def test_digits_are_shuffled_by_the_seed_and_cut_to_n() -> None:
    a, b = make_digits(20, 0.0, 1), make_digits(20, 0.0, 2)
    assert a == make_digits(20, 0.0, 1) and a != b and len(a[0]) == 20
    assert make_digits(1797, 0.0, 1)[1][:20] == a[1]
