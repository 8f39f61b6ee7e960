"""Editing a run's data between steps: add a point, remove the nearest, and train on the result."""

from __future__ import annotations

import math

import pytest

from micrograd.train import ConfigError, Data, TrainConfig, Trainer, check_fit


def _data() -> Data:
    return Data([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], [0, 1, 1], [[5.0, 5.0]], [0])


def test_add_point_appends_a_training_sample():
    data = _data()
    data.add_point([0.5, -0.5], 1)
    assert data.X_train[-1] == [0.5, -0.5] and data.y_train[-1] == 1
    assert len(data.X_train) == 4 and data.n_classes == 2


@pytest.mark.parametrize(
    "x, label, words",
    [
        ([1.0], 0, "2 finite numbers"),
        ([1.0, math.nan], 0, "2 finite numbers"),
        ("ab", 0, "2 finite numbers"),
        ([1.0, 2.0], 2, "class 2 is not in this data: use 0 to 1"),
        ([1.0, 2.0], True, "not in this data"),
    ],
)
def test_a_bad_point_is_refused_and_changes_nothing(x, label, words):
    data = _data()
    with pytest.raises(ValueError, match=words):
        data.add_point(x, label)
    assert data == _data()


def test_remove_nearest_takes_the_closest_sample_train_or_test():
    data = _data()
    assert data.remove_nearest([1.9, 2.2]) == ([2.0, 2.0], 1, False)
    assert data.X_train == [[0.0, 0.0], [1.0, 1.0]] and data.y_train == [0, 1]
    data.add_point([4.0, 4.0], 0)
    assert data.remove_nearest([5.1, 5.0]) == ([5.0, 5.0], 0, True)
    assert data.X_test == [] and data.y_test == []


def test_the_last_sample_of_a_class_stays():
    data = _data()
    data.remove_nearest([5.0, 5.0])  # a class-0 test sample; one class-0 sample is left
    with pytest.raises(ValueError, match="last sample of class 0"):
        data.remove_nearest([0.0, 0.0])
    assert data.y_train == [0, 1, 1]


def test_the_trainer_trains_on_the_edited_data():
    trainer = Trainer(TrainConfig(samples=20, hidden=(4,), seed=2))
    trainer.step()
    trainer.data.add_point([3.0, 3.0], 0)
    trainer.data.remove_nearest([trainer.data.X_train[0][0], trainer.data.X_train[0][1]])
    assert len(trainer.data.X_train) == 20
    X, _ = trainer.batch()
    assert [3.0, 3.0] in X  # full batch: the new point is in the next step
    assert math.isfinite(trainer.step().loss)


def test_check_fit_names_the_option():
    data = _data()
    with pytest.raises(ConfigError) as err:
        check_fit(TrainConfig(batch_size=5), data)
    assert err.value.option == "batch_size"
    assert check_fit(TrainConfig(), data) == "hinge"
