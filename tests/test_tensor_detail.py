"""The tensor node detail and tree labels, from a real step's snapshot, in a small test App."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from textual.app import App

from micrograd.tensor import RULES, Tensor, snapshot
from micrograd.train import TrainConfig, Trainer
from tui.formatting import fmt_number
from tui.widgets.tensor_detail import (
    TensorNodeDetail,
    TensorTreeSnapshot,
    consumers,
    describe_tensor,
    operand_letters,
    tensor_node_label,
)

CSS = str(Path(__file__).parents[1] / "tui" / "app.tcss")


class Detail(App):
    CSS_PATH = CSS

    def compose(self):
        yield TensorNodeDetail()


def moons_snapshot():
    t = Trainer(TrainConfig(engine="tensor", samples=100, hidden=(16, 16), seed=2))
    t.step()
    return snapshot(t.last_root)


def test_operand_letters_come_from_the_rule_table():
    assert operand_letters("@", 2) == ["A", "B"]
    assert operand_letters("linear", 3) == ["X", "W", "b"]
    assert operand_letters("**", 1) == ["a"]
    assert operand_letters("softmax", 1) == ["a"]
    assert operand_letters("", 2) == ["in0", "in1"]


async def test_detail_of_a_linear_node_states_its_rule_shape_and_summaries():
    snap = moons_snapshot()
    i = next(n.index for n in snap.nodes if n.op == "linear" and n.shape == (100, 16))
    node = snap.node(i)
    app = Detail()
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one(TensorNodeDetail).show_node(snap, i)
        await pilot.pause()
        text = app.query_one(TensorNodeDetail).shown_text()
    lines = text.splitlines()
    assert lines[0] == "L0 = linear 100x16  (float64)"
    assert f"forward:  {RULES['linear'].forward}" in text
    assert f"backward: {RULES['linear'].text}" in text
    x, w, b = node.children
    assert "  X = x  100x2" in text and "  W = L0.W  2x16" in text and "  b = L0.b  16" in text
    low, high, _, norm = node.data_summary
    assert f"min {fmt_number(low)}  max {fmt_number(high)}" in text
    assert f"norm {fmt_number(norm)}" in text
    assert f"norm {fmt_number(node.grad_summary[3])}" in text
    ((user, pos),) = consumers(snap, i)
    assert f"{snap.node(user).op} 100x16, as a" in text  # the relu that reads it
    assert "data values" not in text  # 1,600 elements: summaries only
    label = tensor_node_label(snap, i).plain
    assert label.startswith("linear 100x16 L0  |data| ")
    assert tensor_node_label(snap, snap.root).plain.startswith("loss = add scalar loss  |data| ")


def test_matmul_in_matrix_form_with_small_values_and_a_markup_label():
    a = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), label="[b]A[/b]")
    b = Tensor(np.array([[0.5], [-1.0]]), label="B")
    out = (a @ b).sum()
    out.backward()
    snap = snapshot(out)
    mm = next(n.index for n in snap.nodes if n.op == "@")
    text = describe_tensor(snap, mm).plain
    assert "= matmul 2x1" in text
    assert "backward: dL/dA = G B^T, dL/dB = A^T G" in text  # RULES["@"].text
    assert "  A = [b]A[/b]  2x2" in text and "  B = B  2x1" in text
    assert "data values:\n       -1.5\n       -2.5\n" in text
    leaf = describe_tensor(snap, next(n.index for n in snap.nodes if n.label == "[b]A[/b]"))
    assert "a leaf" in leaf.plain and "grad values:\n        0.5        -1\n" in leaf.plain
    assert "the loss itself: G = 1" in describe_tensor(snap, snap.root).plain


def test_tree_snapshot_paths_go_from_the_loss_down():
    snap = moons_snapshot()
    tree = TensorTreeSnapshot(snap)
    assert len(tree) == len(snap) and tree.root == snap.root
    w = next(n.index for n in snap.nodes if n.label == "L0.W")
    path = tree.path_to(w)
    assert path[0] == snap.root and path[-1] == w
    for parent, child in zip(path, path[1:]):
        assert child in snap.node(parent).children
    assert tree.path_to(snap.root) == (snap.root,)
    assert tree.tree_label(w).plain.startswith("leaf 2x16 L0.W")


def test_heatmaps_of_data_and_grad_fit_the_width_and_say_what_they_show():
    from micrograd.tensor import PREVIEW
    from tui.widgets.tensor_detail import heatmap_text, matrix_cell

    a = Tensor(np.arange(-100.0, 100.0).reshape(40, 5) / 10)
    w = Tensor(np.ones((5, 70)))
    loss = (a @ w).tanh().sum()
    loss.backward()
    snap = snapshot(loss)
    node = snap.node(2)  # a @ w: 40x70, a corner of PREVIEW kept
    assert node.shape == (40, 70) and np.shape(node.data_preview) == PREVIEW
    np.testing.assert_array_equal(node.data_preview, (a.data @ w.data)[:16, :32])
    wide = heatmap_text(node, 80, element=(3, 7)).plain.splitlines()
    assert wide[0].startswith("heatmap (rows 0-15 of 40, cols 0-31 of 70;")
    assert "data |max|" in wide[1] and "grad |max|" in wide[1]  # side by side
    maps = wide[2:]
    assert len(maps) == 8 and all(len(line) <= 80 for line in maps)  # two rows a line
    narrow = heatmap_text(node, 30, shades=True).plain.splitlines()  # stacked, 2 chars each
    assert narrow[0].startswith("heatmap (rows 0-15 of 40, cols 0-14 of 70;")
    shaded = [line for line in narrow if line and line[0] in " ·-=≡+*#"]
    assert len(shaded) == 2 * 16 and set("".join(shaded)) <= set(" ·-=≡+*#")  # data, grad
    assert all(len(line) <= 30 for line in shaded)  # the maps fit (text lines may wrap)
    assert matrix_cell((4, 3, 2), (1, 2, 1)) == (1, 5) and matrix_cell((7,), (4,)) == (0, 4)
