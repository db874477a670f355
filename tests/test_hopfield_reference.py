"""The chunked kernels of ModernHopfield equal the plain reference (H2), (H4) to rounding."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from refmem.hippocampus import ModernHopfield
from refmem.hippocampus.reference import energy_reference, softmax_reference, update_reference

cases = st.tuples(st.integers(0, 2 ** 32 - 1), st.integers(1, 12), st.integers(1, 9),
                  st.integers(1, 6), st.floats(1e-2, 50.0), st.booleans(), st.integers(1, 4))


def _draw(seed, n, d, q):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, d)), rng.uniform(-2, 2, (q, d))


def _case(case):
    """Patterns X, states xi, the network storing X, and a chunk size, from one drawn case."""
    seed, n, d, q, beta, normalize, chunk = case
    X, xi = _draw(seed, n, d, q)
    return X, xi, ModernHopfield(beta, normalize=normalize).store(X), chunk


@settings(max_examples=60, deadline=None)
@given(cases)
def test_update_equals_reference(case):
    X, xi, net, chunk = _case(case)
    want = np.stack([update_reference(X, x, net.beta_eff) for x in xi])
    # rtol 1e-12 relative to the states' scale: BLAS and the plain matmul sum in different orders
    np.testing.assert_allclose(net.update(xi, chunk_size=chunk), want, rtol=1e-12,
                               atol=1e-12 * np.abs(X).max())


@settings(max_examples=60, deadline=None)
@given(cases)
def test_energy_equals_reference(case):
    X, xi, net, chunk = _case(case)
    want = np.array([energy_reference(X, x, net.beta_eff) for x in xi])
    scale = np.abs(want).max() + 0.5 * (xi * xi).sum(axis=1).max() + np.log(len(X)) / net.beta_eff
    np.testing.assert_allclose(net.energy(xi, chunk_size=chunk), want, rtol=1e-12, atol=1e-12 * scale)


def test_retrieve_equals_iterated_reference():
    X, xi = _draw(3, 7, 5, 4)
    net = ModernHopfield(4.0, normalize=False).store(X)
    want = xi.copy()
    for _ in range(5):
        want = np.stack([update_reference(X, x, 4.0) for x in want])
    np.testing.assert_allclose(net.retrieve(xi, max_iter=5, tol=0.0), want, rtol=1e-12, atol=1e-12)


def test_softmax_reference_is_stable():
    p = softmax_reference(np.array([1e300, 0.0, -1e300]))
    np.testing.assert_array_equal(p, [1.0, 0.0, 0.0])
