"""make_moons gives scikit-learn's points for the same arguments and seed."""

from __future__ import annotations

import numpy as np
import pytest

from chaingrad.datasets import make_moons


def test_shapes_labels_and_determinism():
    X, y = make_moons(n_samples=101, noise=0.1, random_state=7)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert sorted(set(y.tolist())) == [0, 1] and y.sum() == 51
    X2, y2 = make_moons(n_samples=101, noise=0.1, random_state=7)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_known_points_without_noise():
    X, y = make_moons(n_samples=4, shuffle=False)
    expected = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5], [2.0, 0.5]])
    assert np.allclose(X, expected, atol=1e-15) and y.tolist() == [0, 0, 1, 1]


def test_global_seed_is_used_when_random_state_is_none():
    np.random.seed(1337)
    a = make_moons(n_samples=20, noise=0.1)
    np.random.seed(1337)
    b = make_moons(n_samples=20, noise=0.1)
    assert np.array_equal(a[0], b[0])


@pytest.mark.parametrize("kwargs", [dict(n_samples=100, noise=0.1, random_state=3),
                                    dict(n_samples=(3, 7), random_state=1),
                                    dict(n_samples=11, noise=0.3, shuffle=False, random_state=0)])
def test_same_points_as_scikit_learn(kwargs):
    sk = pytest.importorskip("sklearn.datasets")
    X, y = make_moons(**kwargs)
    Xs, ys = sk.make_moons(**kwargs)
    assert np.array_equal(X, Xs) and np.array_equal(y, ys)


def test_same_points_as_scikit_learn_global_seed():
    sk = pytest.importorskip("sklearn.datasets")
    np.random.seed(1337)
    X, _ = make_moons(n_samples=100, noise=0.1)
    np.random.seed(1337)
    Xs, _ = sk.make_moons(n_samples=100, noise=0.1)
    assert np.array_equal(X, Xs)


def test_bad_arguments():
    with pytest.raises(ValueError):
        make_moons(n_samples=(1, 2, 3))
    with pytest.raises(ValueError):
        make_moons(n_samples=-4)
    with pytest.raises(TypeError):
        make_moons(random_state="seed")
