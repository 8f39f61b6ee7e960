"""Gradient health: known norms, a neuron made dead on purpose, and notices said once."""

from __future__ import annotations

import math
import pickle

import pytest

from micrograd import health
from micrograd.data import make_moons
from micrograd.health import Announcer, Condition, check, dead_neurons, layer_grad_norms
from micrograd.nn import MLP
from micrograd.train import TrainConfig, Trainer
from tui.formatting import fmt_number


def _net() -> MLP:
    return MLP(2, [4, 3, 1], seed=0)


def _set_grads(model: MLP, per_layer: list[list[float]]) -> None:
    for layer, grads in zip(model.layers, per_layer):
        params = layer.parameters()
        for p in params:
            p.grad = 0.0
        for p, g in zip(params, grads):
            p.grad = g


def test_known_layer_norms():
    model = _net()
    _set_grads(model, [[3.0, 4.0], [0.0, 12.0, 5.0], [1.0]])
    assert layer_grad_norms(model) == pytest.approx([5.0, 13.0, 1.0])


def test_a_neuron_with_a_very_negative_bias_is_dead_and_named():
    model = _net()
    X, _ = make_moons(100, 0.1, 1)
    model.layers[0].neurons[2].b.data = -100.0  # w.x + b < 0 on every sample: ReLU gives 0
    assert dead_neurons(model, X) == ["L0.N2"]
    _set_grads(model, [[0.1], [0.1], [0.1]])
    report = check(model, X, step=1)
    dead = [c for c in report.conditions if c.kind == "dead"]
    assert [c.text for c in dead] == ["L0.N2 is dead: ReLU output 0 on all 100 samples"]


def test_tanh_neurons_are_never_called_dead():
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    model.layers[0].neurons[0].b.data = -100.0
    assert dead_neurons(model, [[0.0, 0.0], [1.0, 1.0]]) == []


def test_vanishing_exploding_and_nan_name_the_layer_and_neuron():
    model = _net()
    _set_grads(model, [[1e-9], [0.0, 2000.0], [0.5]])
    by_kind = {c.kind: c for c in check(model, [], step=3).conditions}
    assert by_kind["vanishing"].where == "L0" and "L0 gradients are vanishing" in (
        by_kind["vanishing"].text
    )
    assert by_kind["exploding"].where == "L1" and "largest at L1.N0" in by_kind["exploding"].text
    _set_grads(model, [[0.1], [0.1] * 5 + [math.nan], [0.5]])  # L1.N1.w0 (N0 has 5)
    (bad,) = check(model, [], step=4).conditions
    assert bad.kind == "nonfinite" and "L1 has NaN gradients, first at L1.N1" in bad.text
    assert bad.severity == "error"


def test_all_zero_gradients_are_not_vanishing_and_step_zero_says_nothing():
    model = _net()
    _set_grads(model, [[0.0], [0.0], [0.0]])  # a flat loss (e.g. hinge at 0): nothing flows
    assert check(model, [], step=5).conditions == ()
    _set_grads(model, [[1e-12], [0.0], [1.0]])
    assert check(model, [], step=0).conditions == ()  # before a step: no judgement


def test_a_trained_model_reports_norms_and_pickles():
    trainer = Trainer(TrainConfig(samples=30, hidden=(4,), seed=3))
    trainer.step()
    report = check(trainer.model, trainer.data.X_train, trainer.step_count)
    assert len(report.layer_norms) == 2 and all(n > 0 for n in report.layer_norms)
    assert pickle.loads(pickle.dumps(report)) == report


def test_announcer_says_each_condition_once_until_it_goes_away():
    a = Condition("dead", "L0.N1", "L0.N1 is dead")
    b = Condition("exploding", "L1", "L1 explodes")
    ann = Announcer(forget_after=2)
    assert ann.news([a]) == [a]
    assert ann.news([a, b]) == [b]
    assert ann.news([a, b]) == []
    assert ann.news([b]) == []  # a flickers off once: not forgotten yet
    assert ann.news([a, b]) == []
    assert ann.news([b]) == [] and ann.news([b]) == []  # a gone for two reports: forgotten
    assert ann.news([a, b]) == [a]
    ann.reset()
    assert ann.news([a, b]) == [a, b]


def test_many_dead_neurons_make_one_notice():
    dead = [Condition("dead", f"L0.N{i}", f"L0.N{i} is dead: ReLU output 0") for i in range(5)]
    other = Condition("exploding", "L1", "L1 explodes", "error")
    notices = health.summarize([*dead, other])
    assert len(notices) == 2
    assert notices[0][0].startswith("5 neurons are dead (L0.N0, L0.N1, L0.N2, L0.N3, L0.N4)")
    assert notices[1] == ("L1 explodes", "error")
    assert health.summarize(dead[:1]) == [(dead[0].text, "warning")]


async def test_the_strip_draws_with_a_fixed_set_of_styles():
    """As the sparklines fill the strip (one bar a report), their bars start further left at
    every report. Drawn as markup-free content, Textual gave every span a style carrying its
    position (`meta={'offset': (x, y)}`, for text selection), so each report drew styles never
    seen before, and Rich's and Textual's style caches kept every one of them (1,024 of
    `Style._add`, `truecolor_style`'s, `render_ansi`'s) until full: the app's memory grew for
    the first ~80 reports of a run (about 10,000 steps on the issue-15 conv run). The strip
    draws its lines itself: the same few styles whatever the bars."""
    from textual.app import App

    from micrograd.health import HealthReport
    from tui.widgets.health import GradientHealth

    class Host(App):
        def compose(self):
            yield GradientHealth()

    app = Host()
    async with app.run_test(size=(60, 6)) as pilot:
        strip = app.query_one(GradientHealth)
        seen: list[set] = []
        for step in range(1, 61):
            norms = (1.0 + step % 7, 0.01 * (1 + step % 3), float("nan") if step == 30 else 0.5)
            strip.add(HealthReport(step, norms, (), ("C0", "L0", "L1")))
            await pilot.pause()
            styles = {s.style for y in range(3) for s in strip.render_line(y)}
            seen.append(styles)
        lines = [strip.render_line(y).text for y in range(3)]
        assert [line.split()[0] for line in lines] == ["C0", "L0", "L1"]
        assert "!" in lines[2] and lines[0].rstrip().endswith(fmt_number(1.0 + 60 % 7))
        assert len(set().union(*seen)) <= 6, set().union(*seen)
