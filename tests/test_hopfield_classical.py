"""Classical (Hebbian) Hopfield network: storage, fixed points below capacity, energy."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refmem.hippocampus import CAPACITY, ClassicalHopfield

seeds = st.integers(0, 2 ** 32 - 1)


def _pm1(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


def test_hebbian_weights_by_hand():
    # p = (1, -1, 1): p p^T / 3 with the diagonal zeroed
    net = ClassicalHopfield().store(np.array([[1, -1, 1]]))
    np.testing.assert_allclose(net.W, np.array([[0, -1, 1], [-1, 0, -1], [1, -1, 0]]) / 3)
    # E(p) = -p^T W p / 2 = -(1/2)(6 * 1/3) = -1
    assert net.energy(np.array([1, -1, 1])) == pytest.approx(-1.0)
    assert net.capacity == pytest.approx(CAPACITY * 3)


@given(seed=seeds, d=st.integers(100, 300), mode=st.sampled_from(["sync", "async"]))
def test_stored_patterns_are_fixed_points_below_capacity(seed, d, mode):
    rng = np.random.default_rng(seed)
    n = max(1, int(0.03 * d))                         # load 0.03, far below 0.138
    P = _pm1(rng, (n, d))
    net = ClassicalHopfield().store(P)
    np.testing.assert_array_equal(net.update(P, mode=mode, rng=rng), P)
    # and a stored pattern with 10% of its units flipped is restored
    cue = P[0].copy()
    cue[rng.choice(d, d // 10, replace=False)] *= -1
    np.testing.assert_array_equal(net.retrieve(cue, mode=mode, rng=rng), P[0])


@given(seed=seeds, d=st.integers(2, 40), load=st.floats(0.02, 2.0), q=st.integers(1, 4))
def test_async_updates_never_increase_energy(seed, d, load, q):
    rng = np.random.default_rng(seed)
    net = ClassicalHopfield().store(_pm1(rng, (max(1, int(load * d)), d)))
    x = _pm1(rng, (q, d))
    e = net.energy(x)
    for _ in range(5):
        x = net.update(x, mode="async", rng=rng)
        e_new = net.energy(x)
        assert np.all(e_new <= e + 1e-12)
        e = e_new


@given(seed=seeds, d=st.integers(2, 30))
def test_energy_and_weights_properties(seed, d):
    rng = np.random.default_rng(seed)
    net = ClassicalHopfield().store(_pm1(rng, (3, d)))
    np.testing.assert_array_equal(net.W, net.W.T)
    assert np.all(np.diag(net.W) == 0)
    x = _pm1(rng, d)
    assert net.energy(x) == pytest.approx(-0.5 * x @ net.W @ x)
    np.testing.assert_allclose(net.energy(np.stack([x, -x])), [net.energy(x)] * 2)   # E(-x) = E(x)


def test_retrieve_info_and_sync_two_cycle():
    net = ClassicalHopfield().store(np.array([[1, 1]]))          # W = [[0, .5], [.5, 0]]
    x, info = net.retrieve(np.array([1, -1]), mode="sync", max_iter=6, return_info=True)
    assert not info["converged"] and info["n_iter"] == 6         # (1,-1) <-> (-1,1) forever
    x, info = net.retrieve(np.array([1, -1]), mode="async", rng=0, return_info=True)
    assert info["converged"] and abs(x.sum()) == 2               # async settles in a stored state


def test_bad_input():
    net = ClassicalHopfield()
    with pytest.raises(ValueError, match="no patterns stored"):
        net.update(np.ones(3))
    with pytest.raises(ValueError, match=r"\+1 and -1"):
        net.store(np.array([[1, 0, 1]]))
    with pytest.raises(ValueError, match="shape"):
        net.store(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="N >= 1"):
        net.store(np.ones((0, 3)))
    net.store(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"\(3,\)"):
        net.update(np.ones(4))
    with pytest.raises(ValueError, match="mode"):
        net.update(np.ones(3), mode="bogus")
    with pytest.raises(ValueError, match="max_iter"):
        net.retrieve(np.ones(3), max_iter=0)
