"""Tests of the decoding probes: the libsvm-style SMO solver, the one-vs-one RBF SVC,
multinomial logistic regression, StandardScaler and the probe pipeline."""
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.stats import norm

from refmem.analysis._smo import rbf_kernel, smo_solve
from refmem.analysis.probes import (SVC, LogisticRegression, Probe, StandardScaler, make_probe,
                           ovo_vote, ovr_decision_function)
from refmem.analysis._logreg import multinomial_loss_grad
from refmem.nn.gradcheck import numerical_vjp, rel_error


def _two_gaussians(n, shift, rng, d=2):
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, d))
    X[:, 0] += np.where(y == 1, shift, -shift)
    return X, y


def _blobs(n, rng, sep=6.0):
    centers = sep * np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=float)
    y = rng.integers(0, 4, n)
    return centers[y] + rng.normal(size=(n, 2)), y


def _check_kkt(K, y, alpha, rho, C, tol):
    """KKT conditions of the C-SVC dual at (alpha, rho), within the stopping tol."""
    f = K @ (alpha * y) - rho  # f(x_t) = sum_s a_s y_s K_st - rho
    yf = y * f
    slack = tol + 1e-9
    assert np.all(alpha >= 0) and np.all(alpha <= C)          # box
    assert abs(np.dot(alpha, y)) < 1e-10                       # sum_s a_s y_s = 0
    assert np.all(yf[alpha < C] >= 1 - slack)                  # a < C  =>  y f >= 1
    assert np.all(yf[alpha > 0] <= 1 + slack)                  # a > 0  =>  y f <= 1
    free = (alpha > 0) & (alpha < C)
    assert np.all(np.abs(yf[free] - 1) <= slack)               # free SVs on the margin


# ---------------------------------------------------------------- SMO solver
def test_two_point_linear_problem_by_hand():
    # x1 = 1 (label 0 -> libsvm y = +1), x2 = 3 (label 1 -> y = -1), linear kernel.
    # y^T a = 0 forces a1 = a2 = a; the dual is
    #   f(a) = 1/2 a^2 (K11 + K22 - 2 K12) - 2a = 1/2 a^2 (1 + 9 - 6) - 2a = 2a^2 - 2a,
    # minimal at a = 1/2 (< C = 1, so both are free SVs).
    # libsvm's f(x) = sum a_s y_s x_s x - rho = (0.5 * 1 - 0.5 * 3) x - rho = -x - rho,
    # and y1 f(x1) = 1 gives -1 - rho = 1, rho = -2: f(x) = 2 - x.
    # sklearn flips the sign for two classes: decision(x) = x - 2, intercept_ = -2,
    # dual_coef_ = -(y a) = [-0.5, 0.5].
    clf = SVC(kernel="linear", tol=1e-12).fit(np.array([[1.0], [3.0]]), np.array([0, 1]))
    np.testing.assert_allclose(clf.dual_coef_, [[-0.5, 0.5]], atol=1e-12)
    np.testing.assert_allclose(clf.intercept_, [-2.0], atol=1e-12)
    xs = np.array([[0.0], [1.0], [2.0], [3.0], [5.0]])
    np.testing.assert_allclose(clf.decision_function(xs), xs[:, 0] - 2.0, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(xs), [0, 0, 1, 1, 1])  # f = 0 at x = 2 votes j = 1
    np.testing.assert_array_equal(clf.support_, [0, 1])


def test_two_point_rbf_problem_by_hand():
    # Two points at distance d with gamma d^2 = ln 2, so k = K12 = exp(-ln 2) = 1/2.
    # With a1 = a2 = a: f(a) = 1/2 a^2 (1 + 1 - 2k) - 2a = 1/2 a^2 - 2a... with k = 1/2:
    # K11 + K22 - 2 K12 = 1, so f(a) = a^2 / 2 - 2a, minimal at a = 2 (free if C = 10).
    # By symmetry rho = 0, and f(x1) = a (K11 - K12) = 2 * 1/2 = 1: x1 on the margin.
    d = 2.0
    gamma = np.log(2.0) / d ** 2
    X = np.array([[0.0, 0.0], [d, 0.0]])
    clf = SVC(C=10.0, gamma=gamma, tol=1e-12).fit(X, [0, 1])
    np.testing.assert_allclose(np.abs(clf.dual_coef_), [[2.0, 2.0]], atol=1e-10)
    np.testing.assert_allclose(clf.intercept_, [0.0], atol=1e-10)
    np.testing.assert_allclose(clf.decision_function(X), [-1.0, 1.0], atol=1e-10)
    # With C = 1 the optimum a = 2 is clipped to a = 1 (both at the upper bound); rho is
    # the midpoint of [lb, ub]: G1 = a (Q11 + Q12) - 1 = (1 - 1/2) - 1 = -1/2 = y1 G1 (lb),
    # G2 = a (Q21 + Q22) - 1 = -1/2, y2 G2 = +1/2 (ub), so rho = 0 and f(x1) = 1/2.
    clf = SVC(C=1.0, gamma=gamma, tol=1e-12).fit(X, [0, 1])
    np.testing.assert_allclose(np.abs(clf.dual_coef_), [[1.0, 1.0]], atol=1e-12)
    np.testing.assert_allclose(clf.decision_function(X), [-0.5, 0.5], atol=1e-12)


def test_smo_matches_generic_qp_solver():
    rng = np.random.default_rng(3)
    X, y01 = _two_gaussians(14, 0.7, rng)
    y = np.where(y01 == 1, 1.0, -1.0)
    K = rbf_kernel(X, X, 0.5, same=True)
    Q = (y[:, None] * y[None, :]) * K
    C = 1.0
    res = smo_solve(K, y, C=C, tol=1e-10)
    qp = minimize(lambda a: 0.5 * a @ Q @ a - a.sum(), np.zeros(len(y)),
                  jac=lambda a: Q @ a - 1.0, method="SLSQP", bounds=[(0, C)] * len(y),
                  constraints=[{"type": "eq", "fun": lambda a: a @ y, "jac": lambda a: y}],
                  options={"ftol": 1e-14, "maxiter": 1000})
    assert qp.success
    np.testing.assert_allclose(res.alpha, qp.x, atol=1e-4)
    assert res.objective == pytest.approx(qp.fun, abs=1e-8)
    assert res.objective <= qp.fun + 1e-10


def test_kkt_on_overlapping_gaussians_and_bayes_rate():
    rng = np.random.default_rng(0)
    shift = 1.0
    X, y = _two_gaussians(400, shift, rng)
    clf = SVC().fit(X, y)
    # KKT at the solution of the binary dual, in libsvm's sign (class 0 -> y = +1)
    ys = np.where(y == 0, 1.0, -1.0)
    K = rbf_kernel(X, X, clf.gamma_, same=True)
    res = smo_solve(K, ys, C=1.0, tol=1e-3)
    _check_kkt(K, ys, res.alpha, res.rho, 1.0, 1e-3)
    assert np.any(res.alpha == 1.0) and np.any((res.alpha > 0) & (res.alpha < 1.0))
    # the SVC uses the same solution: dual_coef_ = -(y a) on the support vectors
    np.testing.assert_allclose(clf.dual_coef_[0], -(ys * res.alpha)[clf.support_])
    # accuracy near the Bayes rate Phi(shift) = 0.841 on a large test set
    Xt, yt = _two_gaussians(4000, shift, np.random.default_rng(1))
    bayes = norm.cdf(shift)
    assert bayes - 0.04 <= clf.score(Xt, yt) <= bayes + 0.02


@settings(max_examples=25)
@given(n=st.integers(2, 25), seed=st.integers(0, 10_000), C=st.sampled_from([0.1, 1.0, 10.0]),
       gamma=st.floats(0.05, 5.0))
def test_kkt_property(n, seed, C, gamma):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    y[0], y[-1] = 1.0, -1.0
    K = rbf_kernel(X, X, gamma, same=True)
    res = smo_solve(K, y, C=C, tol=1e-3)
    assert res.converged
    _check_kkt(K, y, res.alpha, res.rho, C, 1e-3)


def test_max_iter_warns():
    rng = np.random.default_rng(0)
    X, y = _two_gaussians(60, 0.3, rng)
    with pytest.warns(RuntimeWarning, match="max_iter"):
        SVC(max_iter=2).fit(X, y)


# ---------------------------------------------------------------- SVC
def test_separable_data_margin_and_known_separator():
    rng = np.random.default_rng(1)
    w = np.array([3.0, 4.0]) / 5.0  # known separator w . x = 0 with a gap of 1 on each side
    X = rng.uniform(-4, 4, size=(300, 2))
    X = X[np.abs(X @ w) > 1.0]
    y = (X @ w > 0).astype(int)
    # hard-margin linear SVM (large C): every support vector lies on the margin
    lin = SVC(kernel="linear", C=1e4, tol=1e-6).fit(X, y)
    assert lin.score(X, y) == 1.0
    f = lin.decision_function(X)
    ysign = np.where(y == 1, 1.0, -1.0)
    np.testing.assert_allclose(ysign[lin.support_] * f[lin.support_], 1.0, atol=1e-5)
    others = np.setdiff1d(np.arange(len(y)), lin.support_)
    assert np.all(ysign[others] * f[others] >= 1.0 - 1e-6)
    w_hat = lin.dual_coef_[0] @ lin.support_vectors_
    assert np.dot(w_hat, w) / np.linalg.norm(w_hat) > 0.98  # close to the true normal
    # RBF with the paper's defaults also separates it, and agrees with the known
    # separator on test points away from the boundary
    rbf = SVC().fit(X, y)
    assert rbf.score(X, y) == 1.0
    Xt = rng.uniform(-4, 4, size=(2000, 2))
    Xt = Xt[np.abs(Xt @ w) > 1.0]
    np.testing.assert_array_equal(rbf.decision_function(Xt) > 0, Xt @ w > 0)


def test_gamma_scale_formula_and_decision_reconstruction():
    rng = np.random.default_rng(2)
    X, y = _two_gaussians(80, 1.0, rng, d=5)
    X *= 3.0
    clf = SVC().fit(X, y)
    assert clf.gamma_ == pytest.approx(1.0 / (5 * X.var()), rel=1e-12)  # 1 / (d Var[X])
    assert SVC(gamma="auto").fit(X, y).gamma_ == pytest.approx(1.0 / 5)
    assert SVC(gamma=0.3).fit(X, y).gamma_ == 0.3
    assert SVC().fit(np.zeros((4, 3)), [0, 1, 0, 1]).gamma_ == 1.0  # Var[X] = 0 -> 1
    Xt = rng.normal(size=(30, 5))
    d2 = ((Xt[:, None, :] - clf.support_vectors_[None]) ** 2).sum(-1)
    manual = np.exp(-clf.gamma_ * d2) @ clf.dual_coef_[0] + clf.intercept_[0]
    np.testing.assert_allclose(clf.decision_function(Xt), manual, atol=1e-10)


def test_multiclass_ovo_on_four_blobs():
    rng = np.random.default_rng(4)
    X, y = _blobs(400, rng)
    labels = np.array(["cube", "cylinder", "sphere", "pill"])[y]  # string labels
    clf = SVC().fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, np.sort(np.unique(labels)))
    Xt, yt = _blobs(1000, np.random.default_rng(5))
    assert clf.score(Xt, np.array(["cube", "cylinder", "sphere", "pill"])[yt]) >= 0.98
    raw = clf.decision_function(Xt)
    assert raw.shape == (1000, 6)
    np.testing.assert_array_equal(clf.predict(Xt), clf.classes_[ovo_vote(raw, 4)])
    scores = clf.class_scores(Xt)
    assert scores.shape == (1000, 4)
    np.testing.assert_array_equal(np.argmax(scores, 1), ovo_vote(raw, 4))  # no vote ties here
    assert SVC(decision_function_shape="ovr").fit(X, labels).decision_function(Xt).shape == (1000, 4)
    assert clf.dual_coef_.shape == (3, clf.support_.size)
    assert clf.n_support_.sum() == clf.support_.size
    assert np.all(np.diff(np.searchsorted(clf.classes_, labels[clf.support_])) >= 0)  # grouped
    assert np.all(np.abs(clf.dual_coef_) <= 1.0 + 1e-12)


def test_vote_tie_breaking_and_ovr_transform():
    # pairs (0,1), (0,2), (1,2): 0 beats 1, 2 beats 0, 1 beats 2 -> 1 vote each -> class 0
    raw = np.array([[1.0, -1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]])
    np.testing.assert_array_equal(ovo_vote(raw, 3), [0, 2, 2])  # f = 0 votes for j
    s = ovr_decision_function(raw[:1], 3)
    # class 0: 1 vote, confidence +1 - (-1) ... s_0 = +1 + (-1) = 0, s_1 = -1 + 1 = 0,
    # s_2 = +1 - 1 = 0 -> all scores equal to the votes
    np.testing.assert_allclose(s, [[1.0, 1.0, 1.0]])
    s = ovr_decision_function(np.array([[2.0, 3.0, 0.5]]), 3)
    # votes (2, 1, 0); s = (2 + 3, -2 + 0.5, -3 - 0.5) = (5, -1.5, -3.5)
    np.testing.assert_allclose(s, [[2 + 5 / 18, 1 - 1.5 / 7.5, -3.5 / 13.5]])
    with pytest.raises(ValueError, match="shape"):
        ovo_vote(np.zeros((2, 2)), 3)  # 3 classes need 3 pairwise columns


def test_float32_input_gives_same_model():
    rng = np.random.default_rng(6)
    X, y = _blobs(200, rng, sep=3.0)
    a = SVC().fit(X.astype(np.float32), y)
    b = SVC().fit(X.astype(np.float32).astype(np.float64), y)
    np.testing.assert_allclose(a.dual_coef_, b.dual_coef_, atol=1e-9)
    assert a.decision_function(X.astype(np.float32)).dtype == np.float64


# ---------------------------------------------------------------- logistic regression
def test_logreg_gradient_check():
    rng = np.random.default_rng(7)
    n, d, K, C = 13, 4, 3, 0.7
    X = rng.normal(size=(n, d))
    yi = rng.integers(0, K, n)
    W, b = rng.normal(size=(K, d)), rng.normal(size=K)
    _, dW, db = multinomial_loss_grad(W, b, X, yi, C)
    one = np.ones(())  # the loss is a scalar: its VJP with dy = 1 is the gradient
    num_W = numerical_vjp(lambda w: multinomial_loss_grad(w, b, X, yi, C)[0], W, one)
    num_b = numerical_vjp(lambda c: multinomial_loss_grad(W, c, X, yi, C)[0], b, one)
    assert rel_error(dW, num_W) < 1e-7
    assert rel_error(db, num_b) < 1e-7


def test_logreg_loss_by_hand():
    # W = 0, b = 0: every class has probability 1/K, so the loss is log K (no penalty)
    X = np.ones((5, 2))
    loss, _, db = multinomial_loss_grad(np.zeros((3, 2)), np.zeros(3), X, np.array([0, 0, 1, 2, 2]), 1.0)
    assert loss == pytest.approx(np.log(3))
    np.testing.assert_allclose(db, [1 / 3 - 2 / 5, 1 / 3 - 1 / 5, 1 / 3 - 2 / 5])  # mean(P - Y)


def test_logreg_separable_and_nonseparable():
    rng = np.random.default_rng(8)
    X, y = _blobs(300, rng)
    clf = LogisticRegression().fit(X, y)
    assert clf.score(X, y) == 1.0
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), np.argmax(P, 1))
    X, y = _two_gaussians(500, 1.0, rng)
    Xt, yt = _two_gaussians(4000, 1.0, np.random.default_rng(9))
    acc = LogisticRegression().fit(X, y).score(Xt, yt)
    assert norm.cdf(1.0) - 0.03 <= acc <= norm.cdf(1.0) + 0.02


# ---------------------------------------------------------------- scaler and probe
def test_standard_scaler():
    rng = np.random.default_rng(10)
    X = rng.normal(3.0, 2.0, size=(50, 4)).astype(np.float32)
    X[:, 2] = 7.0  # constant feature: scale 1, maps to 0
    sc = StandardScaler().fit(X)
    Z = sc.transform(X)
    assert Z.dtype == np.float32
    assert sc.scale_[2] == 1.0
    np.testing.assert_allclose(Z[:, 2], 0.0)
    np.testing.assert_allclose(Z[:, [0, 1, 3]].mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(Z[:, [0, 1, 3]].std(0), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="features"):
        sc.transform(X[:, :3])
    with pytest.raises(ValueError, match="not fitted"):
        StandardScaler().transform(X)


@pytest.mark.parametrize("kind", ["svc", "logreg"])
def test_probe_pipeline(kind):
    rng = np.random.default_rng(11)
    X, y = _blobs(200, rng)
    X = X * np.array([100.0, 0.01])  # badly scaled features: the scaler fixes this
    probe = make_probe(kind).fit(X, y)
    assert isinstance(probe, Probe)
    Xt, yt = _blobs(500, np.random.default_rng(12))
    assert probe.score(Xt * np.array([100.0, 0.01]), yt) >= 0.97
    s = probe.class_scores(Xt * np.array([100.0, 0.01]))
    assert s.shape == (500, 4)
    np.testing.assert_array_equal(probe.classes_, np.arange(4))


@pytest.mark.parametrize("kind", ["svc", "logreg"])
def test_probe_with_one_class_raises(kind):
    X = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="at least 2 classes"):
        make_probe(kind).fit(X, np.zeros(10, dtype=int))


def test_bad_input_raises():
    X = np.random.default_rng(0).normal(size=(10, 3))
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="kind"):
        make_probe("tree")
    with pytest.raises(ValueError):
        SVC(C=0.0)
    with pytest.raises(ValueError, match="gamma"):
        SVC(gamma="wide")
    with pytest.raises(ValueError, match="kernel"):
        SVC(kernel="poly")
    with pytest.raises(ValueError, match="NaN"):
        SVC().fit(np.where(X > 1, np.nan, X), y)
    with pytest.raises(ValueError, match="shape"):
        SVC().fit(X, y[:5])
    with pytest.raises(ValueError, match="shape"):
        SVC().fit(X[:, :, None], y)
    with pytest.raises(ValueError, match="not fitted"):
        SVC().predict(X)
    with pytest.raises(ValueError, match="features"):
        SVC().fit(X, y).predict(X[:, :2])
    with pytest.raises(ValueError, match="max_iter"):
        LogisticRegression(max_iter=0)
    with pytest.raises(TypeError):
        SVC().fit(X, np.array([object()] * 10))


@pytest.mark.slow
def test_paper_scale_few_shot_problem():
    """200 examples of 30,752 features (the paper's conv1 layer, E8) fit in seconds."""
    rng = np.random.default_rng(13)
    y = rng.integers(0, 4, 1200)
    X = rng.normal(size=(1200, 30752)).astype(np.float32)
    X[:, :4000] += np.repeat(np.eye(4, dtype=np.float32)[y], 1000, axis=1)  # class signal
    t = time.perf_counter()
    probe = make_probe().fit(X[:200], y[:200])
    elapsed = time.perf_counter() - t
    assert probe.score(X[200:], y[200:]) >= 0.8
    assert elapsed < 30.0  # generous: a few seconds unloaded
    X2, y2 = _blobs(1000, rng, sep=1.5)
    X2 = np.hstack([X2, rng.normal(size=(1000, 18))])
    t = time.perf_counter()
    SVC().fit(X2, y2)
    assert time.perf_counter() - t < 10.0  # 1,000 x 20, 4 classes: well under 2 s unloaded


def test_svc_fitted_on_handed_over_features_is_the_same_model():
    # Probe hands its standardised copy to the SVC, which regroups and compacts it in place
    from refmem.analysis._smo import permute_rows
    from refmem.analysis.probes import SVC
    from refmem.analysis._logreg import check_labels

    rng = np.random.default_rng(7)
    perm = rng.permutation(40)
    x = rng.normal(size=(40, 3))
    np.testing.assert_array_equal(permute_rows(x.copy(), perm), x[perm])
    X = rng.normal(size=(60, 5))
    y = (X[:, 0] + 0.3 * rng.normal(size=60) > 0).astype(int) + (X[:, 1] > 1)
    classes, yi = check_labels(y, 60)
    a = SVC()._fit_checked(X, classes, yi)
    b = SVC()._fit_checked(X.copy(), classes, yi, owned=True)
    for key in ("support_", "support_vectors_", "dual_coef_", "intercept_", "n_support_"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    t = rng.normal(size=(30, 5))
    np.testing.assert_array_equal(a.decision_function(t), b.decision_function(t))
