"""Modern Hopfield network: update rule, energy (Theorem 1), retrieval regimes, validation.

Float64 throughout unless a test is about dtype. Arrays are drawn from seeds chosen by
hypothesis (cheaper than hypothesis-built arrays, same shrinking of sizes and seeds).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax

from refmem.hippocampus import ModernHopfield, mask_cue, noise_cue

seeds = st.integers(0, 2 ** 32 - 1)


def _net(seed, n, d, beta, normalize, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-scale, scale, (n, d))
    return ModernHopfield(beta, normalize=normalize).store(X), rng


def _direct_update(X, beta_eff, xi):
    """Ramsauer Eq. (3), column form, transcribed literally: X_R softmax(beta X_R^T xi)."""
    XR = X.T                                            # Ramsauer's (d, N) pattern matrix
    return np.stack([XR @ softmax(beta_eff * (XR.T @ x)) for x in np.atleast_2d(xi)])


def test_worked_example_by_hand():
    # Two stored 3-d patterns x1 = (1, 0, 0), x2 = (0, 1, 0); beta = ln 3, not normalised.
    X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    net = ModernHopfield(math.log(3.0), normalize=False).store(X)
    xi = np.array([1.0, 0.0, 5.0])
    # scores X xi = (1, 0); beta * scores = (ln 3, 0); exp -> (3, 1); softmax -> (3/4, 1/4)
    # xi_new = 3/4 x1 + 1/4 x2 = (0.75, 0.25, 0)   (the 5 is not in any pattern: dropped)
    np.testing.assert_allclose(net.update(xi), [0.75, 0.25, 0.0], rtol=0, atol=1e-15)
    # energy: -lse(beta, (1, 0)) + xi.xi/2 + ln(N)/beta + M^2/2
    #   lse = ln(e^{ln 3} + e^0) / ln 3 = ln 4 / ln 3;  xi.xi/2 = 26/2 = 13;
    #   ln(N)/beta = ln 2 / ln 3;  M = 1 -> M^2/2 = 1/2
    #   E = -2 ln 2 / ln 3 + 13 + ln 2 / ln 3 + 1/2 = 13.5 - ln 2 / ln 3
    assert net.energy(xi) == pytest.approx(13.5 - math.log(2) / math.log(3), rel=1e-15)
    # normalised with beta = ln(3) * sqrt(3) has the same beta_eff, hence the same update
    net_n = ModernHopfield(math.log(3.0) * math.sqrt(3.0)).store(X)
    np.testing.assert_allclose(net_n.update(xi), [0.75, 0.25, 0.0], rtol=0, atol=1e-15)
    _, info = net.retrieve(xi, max_iter=1, return_info=True, return_weights=True)
    np.testing.assert_allclose(info["weights"], [0.75, 0.25], atol=1e-15)
    assert info["winner"] == 0 and info["max_weight"] == pytest.approx(0.75)


@given(seed=seeds, n=st.integers(1, 40), d=st.integers(1, 30), q=st.integers(1, 8),
       log_beta=st.floats(-3, 3), normalize=st.booleans())
def test_update_equals_direct_transcription(seed, n, d, q, log_beta, normalize):
    net, rng = _net(seed, n, d, 10.0 ** log_beta, normalize)
    xi = rng.uniform(-2, 2, (q, d))
    assert net.beta_eff == (10.0 ** log_beta / math.sqrt(d) if normalize else 10.0 ** log_beta)
    np.testing.assert_allclose(net.update(xi), _direct_update(net.patterns, net.beta_eff, xi),
                               rtol=1e-12, atol=1e-13)
    assert net.update(xi[0]).shape == (d,)


def test_no_overflow_at_huge_scores():
    X = np.array([[100.0, 0.0], [0.0, 100.0], [-100.0, 0.0]])
    net = ModernHopfield(10.0, normalize=False).store(X)        # beta * X xi up to 1e5
    out, info = net.retrieve(np.array([[90.0, 10.0], [10.0, 90.0]]), max_iter=3, return_info=True)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out, X[[0, 1]])
    np.testing.assert_array_equal(info["max_weight"], [1.0, 1.0])
    with pytest.raises(FloatingPointError):
        ModernHopfield(1e308, normalize=False).store(X).update(np.array([1e10, 0.0]))
    # energy at the same scale: X xi = (9000, 1000, -9000) for xi = (90, 10), beta X xi up
    # to 9e4; lse = 9000 + log(1 + e^-80000 + e^-180000)/beta = 9000 (to double precision);
    # E = -9000 + (8100 + 100)/2 + ln(3)/10 + 100^2/2 = 100 + ln(3)/10
    assert net.energy(np.array([90.0, 10.0])) == pytest.approx(100 + math.log(3) / 10, rel=1e-14)


def test_update_memory_is_outputs_plus_one_score_block():
    # docs/hippocampus.md, "Memory": a plain update allocates only the outputs, one
    # (chunk, N) score block and the small per-query info arrays, no (chunk, d) work rows.
    import tracemalloc
    rng = np.random.default_rng(0)
    X = rng.random((200, 4000), dtype=np.float32)
    Q = rng.random((300, 4000), dtype=np.float32)
    net = ModernHopfield(20.0).store(X)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = net.update(Q, chunk_size=50)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    bound = Q.nbytes + 50 * 200 * 4 + 300 * (8 + 1 + 8 + 4)
    work_row = 50 * 4000 * 4
    assert peak <= bound + work_row // 4, (peak, bound)
    # writing in place changes nothing: same bits as one tracked retrieval step
    np.testing.assert_array_equal(out, net.retrieve(Q, max_iter=1, chunk_size=50))


@given(seed=seeds, n=st.integers(1, 30), d=st.integers(1, 20), q=st.integers(1, 12),
       chunk=st.integers(1, 12), log_beta=st.floats(-2, 2), normalize=st.booleans())
def test_batched_equals_per_query(seed, n, d, q, chunk, log_beta, normalize):
    # Same maths per query; OpenBLAS may round a row differently depending on the GEMM
    # shape/slot it lands in (docs/hippocampus.md, "Batch independence"), so one update
    # agrees to a few ulps, not bit for bit.
    net, rng = _net(seed, n, d, 10.0 ** log_beta, normalize)
    xi = rng.uniform(-1.5, 1.5, (q, d))
    batched = net.update(xi, chunk_size=chunk)
    single = np.stack([net.update(x) for x in xi])
    np.testing.assert_allclose(batched, single, rtol=1e-13, atol=1e-14)
    # multi-step retrieval with per-query stopping: each query follows its own trajectory
    out, info = net.retrieve(xi, max_iter=4, chunk_size=chunk, return_info=True)
    for k in range(q):
        o, i = net.retrieve(xi[k], max_iter=4, return_info=True)
        np.testing.assert_allclose(out[k], o, rtol=1e-9, atol=1e-10)


@given(seed=seeds, q=st.integers(2, 9))
def test_row_result_ignores_other_rows_of_its_chunk(seed, q):
    # Exact (bit-for-bit) part of batch independence: for a fixed chunk shape and slot,
    # a row's result does not depend on what the other rows of the chunk contain.
    net, rng = _net(seed, 25, 17, 8.0, True)
    xi = rng.uniform(-1, 1, (q, 17))
    other = xi.copy()
    other[1:] = rng.uniform(-1, 1, (q - 1, 17))
    np.testing.assert_array_equal(net.update(xi, chunk_size=q)[0],
                                  net.update(other, chunk_size=q)[0])
    np.testing.assert_array_equal(net.update(xi), net.update(xi))          # deterministic


@given(seed=seeds, n=st.integers(1, 30), d=st.integers(1, 20), log_beta=st.floats(-2, 2),
       normalize=st.booleans(), scale=st.floats(0.1, 3.0), state_scale=st.floats(0.1, 5.0))
def test_energy_never_increases_under_update(seed, n, d, log_beta, normalize, scale, state_scale):
    # Theorem 1 of Ramsauer et al.: the CCCP update does not increase E.
    net, rng = _net(seed, n, d, 10.0 ** log_beta, normalize, scale)
    xi = rng.uniform(-state_scale, state_scale, (5, d))
    e = net.energy(xi)
    for _ in range(6):
        nxt = net.update(xi)
        e_new = net.energy(nxt)
        slack = 1e-10 * (1 + np.abs(e) + 0.5 * np.einsum("ij,ij->i", xi, xi)
                         + 0.5 * net.max_norm ** 2 + math.log(n) / net.beta_eff)
        assert np.all(e_new <= e + slack)
        xi, e = nxt, e_new


@given(seed=seeds, n=st.integers(1, 12), d=st.integers(1, 8), log_beta=st.floats(-1, 1),
       normalize=st.booleans())
@settings(max_examples=25)
def test_update_is_xi_minus_energy_gradient(seed, n, d, log_beta, normalize):
    # grad E(xi) = xi - X^T softmax(beta_eff X xi), so update(xi) = xi - grad E(xi): the
    # energy and the update use the same beta_eff (the paper's code's energy did not).
    from refmem.nn.gradcheck import numerical_vjp, rel_error
    net, rng = _net(seed, n, d, 10.0 ** log_beta, normalize)
    xi = rng.uniform(-1, 1, d)
    grad = numerical_vjp(lambda v: np.asarray(net.energy(v)), xi, np.ones(()), h=1e-5)
    assert rel_error(xi - grad, net.update(xi)) < 1e-7


def test_energy_matches_definition():
    net, rng = _net(3, 12, 7, 2.0, True)
    xi = rng.uniform(-1, 1, (4, 7))
    X, b = net.patterns, net.beta_eff
    M = np.linalg.norm(X, axis=1).max()
    lse = np.log(np.exp(b * xi @ X.T).sum(axis=1)) / b
    expected = -lse + 0.5 * (xi * xi).sum(1) + math.log(12) / b + 0.5 * M ** 2
    np.testing.assert_allclose(net.energy(xi), expected, rtol=1e-13)


@given(seed=seeds, n=st.integers(2, 20), d=st.integers(16, 64), beta=st.floats(0.02, 2.0))
def test_stored_pattern_within_one_step_error_bound(seed, n, d, beta):
    # For xi = x_i: ||f(x_i) - x_i|| = ||sum_j p_j (x_j - x_i)|| <= 2 (N-1) M exp(-beta Delta_i),
    # Delta_i = x_i.x_i - max_{j != i} x_i.x_j (Ramsauer et al., one-update retrieval error).
    rng = np.random.default_rng(seed)
    X = rng.choice([-1.0, 1.0], size=(n, d))
    net = ModernHopfield(beta, normalize=False).store(X)
    G = X @ X.T
    M = math.sqrt(d)
    err = np.linalg.norm(net.update(X) - X, axis=1)
    for i in range(n):
        delta = G[i, i] - np.max(np.delete(G[i], i))
        bound = 2 * (n - 1) * M * math.exp(-beta * delta)
        assert err[i] <= bound * (1 + 1e-9) + 1e-12 * M
        if bound < 1e-14:
            np.testing.assert_allclose(net.retrieve(X[i], max_iter=3), X[i], atol=1e-12)


@given(seed=seeds, frac=st.sampled_from([0.3, 0.5]), kind=st.sampled_from(["mask", "noise"]))
@settings(max_examples=10)
def test_pattern_completion_large_beta(seed, frac, kind):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (20, 256))
    net = ModernHopfield(20.0).store(X)                         # beta_eff = 1.25
    i = int(rng.integers(20))
    cue = mask_cue(X[i], frac, rng) if kind == "mask" else noise_cue(X[i], frac, rng)
    out, info = net.retrieve(cue, max_iter=10, return_info=True)
    assert out @ X[i] / (np.linalg.norm(out) * np.linalg.norm(X[i])) >= 0.99
    assert info["winner"] == i


@given(seed=seeds, n=st.integers(1, 30), d=st.integers(1, 20))
def test_small_beta_gives_mean_metastable(seed, n, d):
    net, rng = _net(seed, n, d, 1e-9, False)
    mean = net.patterns.mean(axis=0)
    xi = rng.uniform(-1, 1, (3, d))
    np.testing.assert_allclose(net.update(xi), np.broadcast_to(mean, (3, d)), atol=1e-7)
    # ~ the global fixed point (O(beta) away from the mean)
    np.testing.assert_allclose(net.retrieve(mean, max_iter=5), mean, atol=1e-7)


@given(seed=seeds, n=st.integers(2, 30), d=st.integers(2, 20))
def test_large_beta_gives_pattern_with_largest_dot_product(seed, n, d):
    net, rng = _net(seed, n, d, 1e6, False)
    xi = rng.uniform(-1, 1, (4, d))
    s = xi @ net.patterns.T
    top = np.sort(s, axis=1)
    ok = (top[:, -1] - top[:, -2]) * 1e6 > 60                    # gap large enough for one-hot
    out, info = net.retrieve(xi, max_iter=1, return_info=True)
    k = s.argmax(axis=1)
    np.testing.assert_array_equal(info["winner"], k)
    np.testing.assert_allclose(out[ok], net.patterns[k[ok]], rtol=0, atol=1e-12)


@given(seed=seeds, n=st.integers(1, 25), d=st.integers(1, 15), log_beta=st.floats(-1, 2))
def test_permutation_invariance(seed, n, d, log_beta):
    net, rng = _net(seed, n, d, 10.0 ** log_beta, True)
    perm = rng.permutation(n)
    net_p = ModernHopfield(10.0 ** log_beta).store(net.patterns[perm])
    xi = rng.uniform(-1, 1, (5, d))
    out, info = net.retrieve(xi, max_iter=3, return_info=True)
    out_p, info_p = net_p.retrieve(xi, max_iter=3, return_info=True)
    np.testing.assert_allclose(out_p, out, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(net_p.energy(xi), net.energy(xi), rtol=1e-12)
    np.testing.assert_allclose(info_p["max_weight"], info["max_weight"], rtol=1e-9)


@given(seed=seeds, n=st.integers(1, 25), d=st.integers(1, 40), beta=st.floats(0.01, 100.0))
def test_normalize_equals_unnormalized_with_beta_over_sqrt_d(seed, n, d, beta):
    net, rng = _net(seed, n, d, beta, True)
    raw = ModernHopfield(beta / math.sqrt(d), normalize=False).store(net.patterns)
    assert raw.beta_eff == net.beta_eff
    xi = rng.uniform(-1, 1, (3, d))
    np.testing.assert_array_equal(net.retrieve(xi, max_iter=3), raw.retrieve(xi, max_iter=3))
    np.testing.assert_array_equal(net.energy(xi), raw.energy(xi))


def test_retrieve_stopping_and_info():
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(10, 64))
    net = ModernHopfield(50.0).store(X)                          # beta_eff = 6.25: one-hot
    xi = np.vstack([X[3], rng.uniform(-1, 1, 64)])
    out, info = net.retrieve(xi, max_iter=7, return_info=True, return_weights=True)
    np.testing.assert_array_equal(out[0], X[3])
    assert info["n_iter"][0] == 1 and info["converged"][0]       # exact fixed point at once
    assert info["n_iter"][1] <= 7
    assert info["weights"].shape == (2, 10)
    np.testing.assert_allclose(info["weights"].sum(1), 1.0)
    np.testing.assert_array_equal(info["winner"], info["weights"].argmax(1))
    np.testing.assert_array_equal(info["max_weight"], info["weights"].max(1))
    # metastable query that never reaches an exact fixed point runs all max_iter updates
    slow = ModernHopfield(0.5).store(X)
    _, info2 = slow.retrieve(xi, max_iter=4, return_info=True)
    np.testing.assert_array_equal(info2["n_iter"], [4, 4])
    # tol > 0 stops earlier than tol = 0
    _, info3 = slow.retrieve(xi, max_iter=200, tol=1e-6, return_info=True)
    assert np.all(info3["converged"]) and np.all(info3["n_iter"] < 200)


def test_dtypes_preserved():
    rng = np.random.default_rng(1)
    X32 = rng.uniform(-1, 1, (30, 20)).astype(np.float32)
    net = ModernHopfield(5.0).store(X32)
    assert net.patterns.dtype == np.float32
    assert net.update(X32[:3]).dtype == np.float32
    assert net.retrieve(X32[:3].astype(np.float64)).dtype == np.float32  # network dtype
    assert net.replay(4, rng).dtype == np.float32
    assert net.energy(X32[:2]).dtype == np.float32
    assert ModernHopfield(1.0).store(np.ones((2, 3), int)).patterns.dtype == np.float64


def test_store_copies_and_is_read_only():
    X = np.ones((3, 4))
    net = ModernHopfield(1.0).store(X)
    X[0, 0] = 5.0
    assert net.patterns[0, 0] == 1.0
    with pytest.raises(ValueError):
        net.patterns[0, 0] = 2.0
    assert net.n_patterns == 3 and net.dim == 4 and net.beta_eff == 0.5


def test_replay_draws_uniform_cues_and_retrieves_them():
    rng = np.random.default_rng(7)
    X = rng.uniform(-1, 1, (40, 50))
    net = ModernHopfield(20.0).store(X)
    out, info = net.replay(6, np.random.default_rng(11), max_iter=3, return_info=True, chunk_size=4)
    cues = np.empty((6, 50))
    np.random.default_rng(11).random(out=cues)
    np.testing.assert_allclose(out, net.retrieve(2 * cues - 1, max_iter=3), rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(out, net.replay(6, 11, max_iter=3, chunk_size=4))   # reproducible
    assert set(info) >= {"n_iter", "winner", "max_weight"} and info["winner"].shape == (6,)
    assert net.replay(0, rng).shape == (0, 50)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_beta(bad):
    with pytest.raises(ValueError, match="beta"):
        ModernHopfield(bad)


def test_bad_input():
    net = ModernHopfield(1.0)
    with pytest.raises(ValueError, match="no patterns stored"):
        net.update(np.zeros(3))
    with pytest.raises(ValueError, match="no patterns stored"):
        net.replay(2, 0)
    with pytest.raises(ValueError, match="no patterns stored"):
        _ = net.beta_eff
    for X in (np.zeros(3), np.zeros((0, 3)), np.zeros((3, 0)), np.zeros((2, 2, 2))):
        with pytest.raises(ValueError, match=r"\(N, d\)"):
            net.store(X)
    with pytest.raises(ValueError, match="NaN or inf"):
        net.store(np.array([[1.0, np.nan]]))
    with pytest.raises(TypeError):
        net.store(np.array([["a", "b"]]))
    net.store(np.ones((2, 3)))
    for xi in (np.zeros(4), np.zeros((2, 4)), np.zeros((1, 2, 3))):
        with pytest.raises(ValueError, match=r"\(3,\) or \(Q, 3\)"):
            net.retrieve(xi)
    with pytest.raises(ValueError, match="NaN or inf"):
        net.energy(np.array([1.0, np.inf, 0.0]))
    with pytest.raises(ValueError, match="max_iter"):
        net.retrieve(np.zeros(3), max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        net.retrieve(np.zeros(3), tol=-1.0)
    with pytest.raises(ValueError, match="chunk_size"):
        net.update(np.zeros((2, 3)), chunk_size=0)
    with pytest.raises(ValueError, match="low < high"):
        net.replay(2, 0, low=1.0, high=1.0)
    with pytest.raises(ValueError, match="fraction"):
        mask_cue(np.ones(4), 1.5, 0)
    with pytest.raises(ValueError, match="low < high"):
        noise_cue(np.ones(4), 0.5, 0, low=2.0, high=1.0)


@given(seed=seeds, d=st.integers(1, 50), frac=st.floats(0, 1), q=st.integers(1, 3))
def test_cues_change_exactly_int_d_fraction_elements(seed, d, frac, q):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.5, 1.0, (q, d))                       # no zeros: masked ones are visible
    k = int(d * frac)
    m = mask_cue(p, frac, rng)
    assert np.all((m == 0).sum(axis=1) == k) and np.all(m[m != 0] == p[m != 0])
    nz = noise_cue(p, frac, rng, low=-1.0, high=0.0)        # noise in [-1, 0): distinct from p
    assert np.all((nz != p).sum(axis=1) == k) and np.all(nz[nz != p] < 0)
    assert mask_cue(p[0], frac, rng).shape == (d,)
