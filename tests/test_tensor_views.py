"""The tensor run's views (tui.tensor_views): each checked against the trainer by another path."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pytest

from micrograd.train import TrainConfig, Trainer
from tui import tensor_views as tv

DIGITS = TrainConfig(
    engine="tensor", dataset="digits", samples=300, test_fraction=0.2, hidden=(16,),
    optimizer="adam", lr=0.01, batch_size=64, seed=3,
)  # fmt: skip
CONV = replace(DIGITS, conv=(4, 6))


@pytest.fixture(scope="module")
def conv_trainer() -> Trainer:
    t = Trainer(CONV)
    for _ in range(15):
        t.step()
    return t


def test_refuses_the_scalar_engine():
    with pytest.raises(ValueError, match="tensor engine"):
        tv.param_rows(Trainer(TrainConfig(samples=20, hidden=(3,))))


def test_param_rows_update_is_lr_times_grad_for_plain_sgd():
    config = TrainConfig(engine="tensor", samples=30, hidden=(5,), lr=0.3, alpha=0.0)
    t = Trainer(config)
    rows = tv.param_rows(t)
    assert [r.name for r in rows] == ["L0.W", "L0.b", "L1.W", "L1.b"]
    assert rows[0].shape == (2, 5) and rows[0].grad_norm is None and rows[0].update_norm is None
    before = tv.copy_params(t)
    t.step()
    for row, p, old in zip(tv.param_rows(t, before), t.params, before):
        assert row.shape == p.shape
        assert row.value_norm == pytest.approx(np.linalg.norm(p.data))
        assert row.update_norm == pytest.approx(0.3 * row.grad_norm, rel=1e-9, abs=1e-15)
        assert row.update_norm == pytest.approx(np.linalg.norm(p.data - old))


def test_param_arrays_are_the_parameter_one_filter_a_row(conv_trainer):
    arrays = tv.param_arrays(conv_trainer, "C1.K")
    K = conv_trainer.model.layers[2].K
    assert arrays.shape == (6, 4, 3, 3) and arrays.values.shape == (6, 36)
    np.testing.assert_array_equal(arrays.values[5], K.data[5].ravel())
    np.testing.assert_array_equal(arrays.grads[2], K.grad[2].ravel())
    bias = tv.param_arrays(conv_trainer, "L0.b")
    assert bias.values.shape == (1, 16)
    with pytest.raises(KeyError):
        tv.param_arrays(conv_trainer, "nope")


def test_confusion_counts_and_accuracy_match_the_trainer(conv_trainer):
    t = conv_trainer
    preds = tv.predictions(t, "test")
    predicted = t.predict_grid(t.data.X_test)  # the Trainer's own path
    expected = [[0] * 10 for _ in range(10)]
    for p, y in zip(predicted, t.data.y_test):
        expected[y][p] += 1
    conf = tv.confusion(preds)
    assert [list(r) for r in conf.counts] == expected
    assert conf.total == len(t.data.y_test) == 60
    _, test_acc = t.evaluate(t.data.X_test, t.data.y_test)
    assert conf.correct / conf.total == pytest.approx(test_acc)
    train_acc, test_acc2 = tv.accuracies(t)
    assert test_acc2 == pytest.approx(test_acc)
    assert train_acc == pytest.approx(t.evaluate(t.data.X_train, t.data.y_train)[1])


def test_digits_page_holds_the_images_and_marks_the_wrong_ones(conv_trainer):
    t = conv_trainer
    preds = tv.predictions(t, "test")
    page = tv.digits_page(t, "test", start=24, size=24)
    from_preds = tv.digits_page(t, "test", start=24, size=24, preds=preds)
    assert from_preds.predicted == page.predicted and from_preds.indices == page.indices
    assert page.start == 24 and page.indices == tuple(range(24, 48)) and page.total == 60
    for k, i in enumerate(page.indices):
        np.testing.assert_allclose(page.images[k].ravel(), t.data.X_test[i])
        assert page.true[k] == t.data.y_test[i]
    predicted = t.predict_grid(t.data.X_test)
    wrong = tuple(k for k, i in enumerate(page.indices) if predicted[i] != page.true[k])
    assert page.wrong == wrong
    last = tv.digits_page(t, "test", start=10_000, size=24)
    assert last.start == 48 and last.indices == tuple(range(48, 60))
    assert tv.digits_page(Trainer(replace(DIGITS, dataset="moons", batch_size=0))) is None


def test_image_of_scales_a_csv_range_to_one():
    img = tv.image_of([0, 255, 51, 102], (1, 2, 2))
    np.testing.assert_allclose(img, [[0, 1], [0.2, 0.4]])


def test_conv_filters_and_feature_maps_by_a_direct_loop(conv_trainer):
    t = conv_trainer
    filters = tv.conv_filters(t)
    assert [(f.name, f.weights.shape) for f in filters.layers] == [
        ("C0", (4, 1, 3, 3)),
        ("C1", (6, 4, 3, 3)),
    ]
    conv0 = t.model.layers[0]
    np.testing.assert_array_equal(filters.layers[0].grads, conv0.K.grad)
    fm = tv.feature_maps(t, 7)
    assert fm.index == 7 and fm.true == t.data.y_test[7]
    assert fm.predicted == t.predict_grid([t.data.X_test[7]])[0]
    (n0, m0), (n1, m1) = fm.maps
    assert (n0, m0.shape, n1, m1.shape) == ("C0", (4, 8, 8), "C1", (6, 4, 4))
    img = np.pad(np.asarray(t.data.X_test[7]).reshape(8, 8), 1)
    K, b = conv0.K.data[:, 0], conv0.b.data
    for c in range(4):
        for i in range(8):
            for j in range(8):
                expected = max(0.0, float((img[i : i + 3, j : j + 3] * K[c]).sum() + b[c]))
                assert m0[c, i, j] == pytest.approx(expected, abs=1e-12)
    assert tv.feature_maps(Trainer(DIGITS), 0) is None  # no conv layers


def test_compare_engines_same_loss_far_fewer_nodes():
    config = TrainConfig(samples=40, hidden=(4,), seed=5)
    cmp = tv.compare_engines(config, steps=2)
    assert cmp.batch == 40
    assert cmp.same_loss
    assert cmp.scalar.loss == pytest.approx(Trainer(config).step().loss, abs=0)
    assert cmp.tensor.nodes < 30 < 400 < cmp.scalar.nodes
    assert cmp.scalar.links > cmp.scalar.nodes and cmp.tensor.links >= cmp.tensor.nodes
    assert cmp.scalar.ms_per_step > 0 and cmp.tensor.ms_per_step > 0
    assert pickle.loads(pickle.dumps(cmp)) == cmp
    conv = tv.compare_engines(replace(CONV, samples=100), steps=1)
    assert conv.scalar.loss is None and "no conv" in conv.scalar.note
    assert conv.tensor.nodes > 0 and conv.same_loss is None
    big = tv.compare_engines(config, steps=1, limit=10)
    assert big.scalar.nodes is None and "over 10" in big.scalar.note


def test_views_pickle(conv_trainer):
    t = conv_trainer
    preds = tv.predictions(t)
    for view in (
        tv.param_rows(t),
        tv.param_arrays(t, "L0.W"),
        tv.confusion(preds),
        tv.digits_page(t, preds=preds),
        tv.conv_filters(t),
        tv.feature_maps(t, 0),
    ):
        back = pickle.loads(pickle.dumps(view))
        assert type(back) is type(view)


def test_tensor_model_view(conv_trainer):
    t = conv_trainer
    view = tv.tensor_model_view(t, page_start=24)
    assert view.step == t.step_count and len(view.params) == 8
    h = list(t.history)
    assert view.train_accuracy == pytest.approx(sum(r.accuracy for r in h[-20:]) / len(h[-20:]))
    tests = [r.test_accuracy for r in h if r.test_accuracy is not None]
    assert tests and view.test_accuracy == tests[-1]  # step 10's evaluation
    assert view.confusion.split == "test" and view.confusion.total == 60
    assert view.page.start == 24
    assert tv.tensor_model_view(t, page_start=24, with_confusion=False).confusion is None
    assert tv.tensor_model_view(t, with_confusion=False).page.predicted == (
        tv.digits_page(t).predicted
    )
    moons = Trainer(TrainConfig(engine="tensor", samples=30, hidden=(5, 3)))
    mv = tv.tensor_model_view(moons)
    assert mv.page is None and mv.train_accuracy is None and mv.confusion.split == "train"


def test_layer_grad_norms_group_each_layers_arrays(conv_trainer):
    t = conv_trainer
    names, norms = tv.layer_grad_norms(t)
    assert names == ("C0", "C1", "L0", "L1")  # the conv layers too (issue 15)
    W, b = t.params[4], t.params[5]  # L0.W, L0.b
    assert norms[2] == pytest.approx(np.sqrt((W.grad**2).sum() + (b.grad**2).sum()))
    K, kb = t.params[0], t.params[1]  # C0.K, C0.b
    assert norms[0] == pytest.approx(np.sqrt((K.grad**2).sum() + (kb.grad**2).sum()))
