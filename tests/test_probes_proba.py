"""SVC class probabilities: Platt's sigmoid (libsvm's sigmoid_train), cross-validated
decision values, pairwise coupling and SVC.predict_proba."""
import numpy as np
import pytest
from scipy.optimize import brentq, minimize

from refmem.analysis._platt import pairwise_coupling, sigmoid_predict, sigmoid_train
from refmem.analysis.probes import SVC, make_probe


def _blobs(n, rng, sep=3.0):
    centers = sep * np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=float)
    y = rng.integers(0, 4, n)
    return centers[y] + rng.normal(size=(n, 2)), y


def test_sigmoid_by_hand_symmetric_case():
    """f = -2, -1, 1, 2 with labels -, -, +, +: B = 0 by symmetry and A solves the
    stationarity condition (t+ - s(1)) + 2 (t+ - s(2)) = 0 with t+ = 3/4, s(f) = 1/(1 + e^{A f})."""
    A, B = sigmoid_train([-2.0, -1.0, 1.0, 2.0], [-1, -1, 1, 1])
    s = lambda a, f: 1.0 / (1.0 + np.exp(a * f))  # noqa: E731
    a_star = brentq(lambda a: (0.75 - s(a, 1.0)) + 2 * (0.75 - s(a, 2.0)), -10.0, -1e-6)
    assert B == pytest.approx(0.0, abs=1e-6) and A == pytest.approx(a_star, abs=1e-5)
    assert sigmoid_predict(0.0, A, B) == pytest.approx(0.5, abs=1e-6)


def test_sigmoid_matches_a_generic_minimiser():
    rng = np.random.default_rng(0)
    y = np.where(rng.random(60) < 0.4, 1, -1)
    f = y * 0.8 + rng.normal(size=60)
    A, B = sigmoid_train(f, y)
    n_pos, n_neg = (y > 0).sum(), (y < 0).sum()
    t = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def nll(ab):
        p = np.clip(sigmoid_predict(f, *ab), 1e-300, 1)
        q = np.clip(1 - sigmoid_predict(f, *ab), 1e-300, 1)
        return -np.sum(t * np.log(p) + (1 - t) * np.log(q))

    ref = minimize(nll, [0.0, 0.0], method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose([A, B], ref, atol=1e-4)
    assert sigmoid_predict(1e4, A, B) > 1 - 1e-12 and sigmoid_predict(-1e4, A, B) < 1e-12  # no overflow


def test_pairwise_coupling_consistent_and_uniform():
    # consistent pairwise probabilities r_ij = p_i / (p_i + p_j) give back p
    p = np.array([0.5, 0.3, 0.15, 0.05])
    r = p[:, None] / (p[:, None] + p[None, :])
    np.testing.assert_allclose(pairwise_coupling(r[None])[0], p, atol=2e-3)
    np.testing.assert_allclose(pairwise_coupling(np.full((1, 3, 3), 0.5)), 1 / 3)


def test_predict_proba_properties():
    rng = np.random.default_rng(1)
    X, y = _blobs(240, rng)
    clf = SVC(probability=True, rng=0).fit(X, y)
    Xt, yt = _blobs(400, np.random.default_rng(2))
    P = clf.predict_proba(Xt)
    assert P.shape == (400, 4) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    assert np.mean(clf.classes_[P.argmax(1)] == clf.predict(Xt)) >= 0.95
    # as accurate as the vote (Bayes error of these blobs is about 0.13)
    assert np.mean(clf.classes_[P.argmax(1)] == yt) >= clf.score(Xt, yt) - 0.02 >= 0.75
    # at a blob centre the probability of its class is high; same folds, same model
    far = np.array([[0.0, 0.0], [3.0, 3.0]])
    assert clf.predict_proba(far)[0, 0] > 0.8 and clf.predict_proba(far)[1, 3] > 0.8
    np.testing.assert_array_equal(SVC(probability=True, rng=0).fit(X, y).predict_proba(Xt), P)
    assert np.all(clf.probA_ < 0)  # larger decision value -> first class of the pair


def test_predict_proba_binary_and_probe():
    rng = np.random.default_rng(3)
    X, y = _blobs(120, rng)
    yb = (y >= 2).astype(int)
    clf = SVC(probability=True, rng=1).fit(X, yb)
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(1), 1.0)
    assert np.corrcoef(P[:, 1], clf.decision_function(X))[0, 1] > 0.9  # sklearn sign: + favours class 1
    probe = make_probe("svc", probability=True, rng=0).fit(X * 100 + 5, y)
    assert probe.predict_proba(X[:5] * 100 + 5).shape == (5, 4)
    with pytest.raises(ValueError, match="probability=True"):
        SVC().fit(X, y).predict_proba(X)
