"""Issue 12, time to watch, continued: `G` in every step, the graph of the step under way after
each phase of `.`, a sample chosen in the Dataset pane opens its branch in the Graph, and the
backprop walk shown in the tree (running sums), whole or under one node (`i`)."""

from __future__ import annotations

import pytest
from apphelp import LECTURE, SIZE, notices, status, step, step_then_skip_zero_grad, wait_for

from micrograd.graph import under
from micrograd.train import TrainConfig, Trainer
from tui.app import MicrogradApp
from tui.backprop import BackpropWalk
from tui.formatting import fmt_number
from tui.training.shown_graph import ShownGraph, sample_tags
from tui.widgets.dataset import BoundaryView, SamplesTable
from tui.widgets.graph import GraphTree, node_label
from tui.widgets.params import ParamTable


def grads(app: MicrogradApp) -> dict[str, str]:
    """The Parameters table's grad column as shown."""
    return {name: cells[1] for name, cells in app.query_one(ParamTable)._shown.items()}


def tree(app: MicrogradApp) -> GraphTree:
    return app.query_one(GraphTree)


async def test_skipping_zero_grad_applies_to_whole_steps_until_reset():
    buggy, fresh = Trainer(LECTURE), Trainer(LECTURE)  # what the training process does
    buggy.step()
    fresh.step()
    for _ in range(2):
        buggy.step(zero_grad=False)
        fresh.step()
    want = {n: fmt_number(p.grad) for n, p in buggy.model.named_parameters()}
    assert want != {n: fmt_number(p.grad) for n, p in fresh.model.named_parameters()}
    app = MicrogradApp(LECTURE, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await step_then_skip_zero_grad(pilot, app)
        await pilot.press("n", "n")
        await wait_for(pilot, lambda: step(app) == 3 and grads(app) == want)
        assert "zero_grad off" in status(app)  # the training process says so too
        await pilot.press("r")
        assert "zero_grad off" not in status(app)  # at once
        await wait_for(pilot, lambda: step(app) == 0)
        await pilot.pause(0.3)
        assert "zero_grad off" not in status(app)  # and after the new run's reports


def lines(app: MicrogradApp) -> list[str]:
    """The graph tree's loaded lines, root first."""
    out, stack = [], [tree(app).root]
    while stack:
        node = stack.pop()
        out.append(node.label.plain)
        stack.extend(reversed(node.children))
    return out


def detail(app: MicrogradApp) -> str:
    return str(app.query_one("#detail").render())


def subtitles(app: MicrogradApp) -> tuple[str, str]:
    """The Graph pane's and the Parameters table's subtitles."""
    return str(app.graph.border_subtitle), str(app.query_one(ParamTable).border_subtitle)


async def test_after_each_phase_the_graph_and_status_show_the_step_under_way():
    replica = Trainer(LECTURE)  # what the training process does
    replica.step()
    outputs = sorted(replica.model(x).data for x in replica.data.X_train)
    second = replica.step()
    app = MicrogradApp(LECTURE, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: tree(app).step == 1 and step(app) == 1)
        await pilot.press("full_stop")  # forward
        await wait_for(pilot, lambda: tree(app).step == 2)
        snap = tree(app).snapshot
        root = snap.root
        assert snap.ops[root] == "outputs" and len(snap.children[root]) == 4
        assert sorted(snap.data[c] for c in snap.children[root]) == outputs  # step 2's data
        assert all(g == 0.0 for g in snap.grads)  # no grads, not the last step's
        shown = lines(app)
        assert shown[0].startswith("forward pass of 4 samples: 4 outputs")
        assert len(shown) == 5 and all(line.endswith("grad -") or "grad - " in line
                                       for line in shown[1:])  # fmt: skip
        assert status(app).startswith("step 2 after forward  loss -  acc -%")  # as the graph
        graph_note, table_note = subtitles(app)
        assert graph_note.startswith("step 2 after forward (no grads yet), ")
        assert "grads still the last step's" in table_note
        await wait_for(pilot, lambda: detail(app).startswith("the forward pass of 4 samples"))
        await pilot.press("full_stop")  # loss
        await wait_for(pilot, lambda: tree(app).snapshot.ops[-1] != "outputs")
        snap = tree(app).snapshot
        assert snap.data[snap.root] == second.loss and "grad -" in lines(app)[0]
        # the detail is the new root's (it was the node at the old root's index: another node)
        await wait_for(pilot, lambda: f"loss   data {fmt_number(second.loss)}" in detail(app))
        assert status(app).startswith(f"step 2 after loss  loss {fmt_number(second.loss)}  ")
        await pilot.press("full_stop")  # zero_grad
        await wait_for(pilot, lambda: "every grad is 0" in subtitles(app)[1])
        await pilot.press("full_stop")  # backward
        await wait_for(pilot, lambda: "this step's grads" in subtitles(app)[1])
        await wait_for(pilot, lambda: tree(app).phase == "backward")
        assert subtitles(app)[0].startswith("step 2 after backward, ")
        assert "grad 1" in lines(app)[0] and "grad -" not in "".join(lines(app))
        await pilot.press("full_stop")  # update
        await wait_for(pilot, lambda: step(app) == 2 and tree(app).phase == "")
        assert "value moved by -lr × grad" in subtitles(app)[1]
        assert subtitles(app)[0].startswith("step 2, ")
        assert f"loss {fmt_number(second.loss)}" in status(app)  # the step the graph shows
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 3)
        assert "after" not in status(app) and "g: sort by |grad|" == subtitles(app)[1]


def test_a_walk_under_one_node_ends_at_every_grad_and_a_whole_walk_too_without_zero_grad():
    t = Trainer(LECTURE)
    t.step()
    t.step(zero_grad=False)  # the leaves hold two steps' grads: the walk starts them there
    params = list(t.model.named_parameters())
    snap = ShownGraph(2, t.last_root, params, [p.data for _, p in params],
                      samples=sample_tags(t)).snapshot  # fmt: skip
    branch = snap.labels.index(next(x for x in snap.labels if x.startswith("sample 1:")))
    for top in (None, branch):
        walk = BackpropWalk(snap, 2, top)
        inside = range(len(snap)) if top is None else under(snap, top)
        if top is not None:  # a walk under a node leaves its leaves out: they send nothing
            inside = [i for i in inside if snap.children[i]]
        assert walk.total == len(inside)
        seen = []
        while (s := walk.advance()) is not None:
            seen.append(s.index)
            assert s.grad == pytest.approx(snap.grads[s.index], rel=1e-9, abs=1e-12)
        assert sorted(seen) == sorted(inside)
        for i in range(len(snap)):
            assert walk.running_grad(i) == pytest.approx(snap.grads[i], rel=1e-9, abs=1e-12), i
    assert 10 < len(under(snap, branch)) < len(snap) // 2  # tens of nodes, not the whole graph
    w0 = snap.labels.index("L0.N0.w0")
    walk = BackpropWalk(snap, 2, branch)
    assert walk.running_grad(w0) != 0  # the other samples' share, and the last step's grad
    assert "outside this walk" in walk.describe(w0).plain


async def test_the_tree_shows_the_walks_running_sums_and_i_walks_one_branch():
    app = MicrogradApp(LECTURE, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: tree(app).step == 1 and tree(app).root.children)
        snap = tree(app).snapshot
        w0 = snap.labels.index("L0.N0.w0")
        await pilot.press("b")  # the loss: its inputs' sums are complete now
        node = tree(app).reveal(w0)
        assert snap.grads[w0] != 0
        assert node.label.plain.endswith("grad 0"), node.label.plain  # not reached yet
        walk = app.graph.walk
        for _ in range(walk.total - 1):
            app.graph.backprop_next()
        assert walk.current is not None and app.graph.walk is walk  # at its last node
        with_sums = lines(app)
        assert node.label.plain == node_label(snap, w0).plain  # reached: its final grad
        tree(app).walk_sums = None
        tree(app).relabel()
        assert lines(app) == with_sums  # every sum equals the real grad
        await pilot.press("escape")
        branch = snap.labels.index(next(x for x in snap.labels if x.startswith("sample 2:")))
        tree(app).reveal(branch)
        await pilot.press("i")
        walk = app.graph.walk
        assert walk is not None and walk.top == branch and walk.current.index == branch
        ops = [i for i in under(snap, branch) if snap.children[i]]  # its leaves: no step
        assert walk.total == len(ops) < 100
        assert f"backprop 1/{walk.total} under #{branch}" in subtitles(app)[0]
        assert any(f"{walk.total} of step 1's {len(snap)} nodes" in n for n in notices(app))
        for _ in range(walk.total - 1):
            await pilot.press("b")
        assert walk.current.number == walk.total
        assert all(walk.running_grad(i) == pytest.approx(snap.grads[i], rel=1e-9, abs=1e-12)
                   for i in range(len(snap)))  # fmt: skip
        assert "grad 0 " not in lines(app)[0]
        await pilot.press("b")
        assert app.graph.walk is None
        assert any(f"Backward pass done: {walk.total} nodes" in n for n in notices(app))


def in_graph(app: MicrogradApp) -> set[int]:
    """The training samples with a branch in the shown graph."""
    labels = tree(app).snapshot.labels
    return {int(x.split("sample ", 1)[1].split(":")[0]) for x in labels if "sample " in x}


def cursor_label(app: MicrogradApp) -> str:
    node = tree(app).cursor_node
    return tree(app).snapshot.labels[node.data[1]] if node is not None else ""


async def test_enter_on_a_table_row_opens_that_samples_branch():
    app = MicrogradApp(LECTURE, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: tree(app).step == 1)
        app.query_one(SamplesTable).focus()
        await pilot.press("down", "down", "enter")  # the third row: sample 2
        await wait_for(pilot, lambda: cursor_label(app).startswith("sample 2: x=(0.5, 1, 1) y=-1"))
        node = tree(app).cursor_node
        assert node.parent is tree(app).root or node.parent.parent is tree(app).root  # a top
        assert any(n.startswith("Sample 2: its branch in step 1's graph") for n in notices(app))
        assert app.focused is app.query_one(SamplesTable)  # the learner can choose the next


async def test_enter_on_a_point_opens_its_branch_or_says_the_batch_left_it_out():
    config = TrainConfig(samples=40, hidden=(3,), lr=0.1, seed=7, batch_size=6, steps=1000)
    app = MicrogradApp(config, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: tree(app).step == 1)
        view = app.query_one(BoundaryView)
        view.focus()
        batch = in_graph(app)
        assert len(batch) == 6
        X = view.train[0]
        cols, rows = view.size.width, view.size.height
        cells = [view._cell_of(x[0], x[1], cols, rows) for x in X]
        alone = [
            i
            for i, c in enumerate(cells)
            if c is not None
            and cells.count(c) == 1
            and c not in [view._cell_of(x[0], x[1], cols, rows) for x in view.test[0]]
        ]
        chosen = next(i for i in alone if i in batch)
        left_out = next(i for i in alone if i not in batch)
        view.cursor = cells[chosen]
        await pilot.press("enter")
        await wait_for(pilot, lambda: cursor_label(app).startswith(f"sample {chosen}: "))
        view.cursor = (cells[left_out][0], cells[left_out][1])
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any(
                f"Sample {left_out} is not in the shown graph" in n for n in notices(app)
            ),  # fmt: skip
        )
        assert cursor_label(app).startswith(f"sample {chosen}: ")  # the tree stays where it was


async def test_u_mid_step_shows_the_same_step_under_way_split():
    app = MicrogradApp(LECTURE, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "full_stop", "full_stop")  # step 2 after loss
        await wait_for(pilot, lambda: tree(app).step == 2 and tree(app).phase == "loss")
        fused = tree(app).snapshot
        await pilot.press("u")
        await wait_for(pilot, lambda: tree(app).snapshot is not fused)
        split = tree(app).snapshot
        assert tree(app).step == 2 and tree(app).phase == "loss" and "*" in split.ops
        assert split.data[split.root] == fused.data[fused.root]  # the same loss, not step 1's
        await pilot.press("full_stop", "full_stop", "full_stop")  # zero_grad, backward, update
        await wait_for(pilot, lambda: step(app) == 2 and tree(app).phase == "")
        assert tree(app).snapshot.data[tree(app).snapshot.root] == fused.data[fused.root]


async def test_g_and_the_samples_branch_say_they_need_the_scalar_engine():
    config = TrainConfig(engine="tensor", samples=40, hidden=(4,), lr=0.1, seed=7, steps=1000)
    app = MicrogradApp(config, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: step(app) == 1 and tree(app).snapshot is not None)
        await pilot.press("G")
        assert "zero_grad off" not in status(app)
        assert any("G (skip zero_grad) works on the scalar engine" in n for n in notices(app))
        app.query_one(BoundaryView).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("branch of a sample works on the scalar" in n
                                          for n in notices(app)))  # fmt: skip


async def test_a_walk_stopped_by_the_smaller_forward_graph_shows_its_root():
    """The walk's cursor (the loss, the last index) is beyond the forward graph's nodes: the
    stop once read the old tree's cursor and failed (IndexError, found by a key storm)."""
    app = MicrogradApp(LECTURE, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: tree(app).step == 1 and tree(app).root.children)
        await pilot.press("b")
        assert app.graph.walk is not None and app.graph.cursor_index() == tree(app).snapshot.root
        await pilot.press("full_stop")
        await wait_for(pilot, lambda: tree(app).phase == "forward")
        await wait_for(pilot, lambda: detail(app).startswith("the forward pass of 4 samples"))
        assert app.is_running and app.graph.walk is None
