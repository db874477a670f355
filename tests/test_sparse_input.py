"""Sparse (scipy.sparse CSR) input to Dense and to the VAE: same results as dense input."""
import numpy as np
import pytest
import scipy.sparse

from refmem import bow_vae


@pytest.fixture
def small_vae():
    rng = np.random.default_rng(3)
    vae = bow_vae(6, latent_dim=3, rng=1, dtype=np.float64)
    for v in vae.params.values():
        v += rng.normal(0, 0.3, v.shape)
    x = (rng.random((5, 6)) < 0.4).astype(np.float64)
    eps = rng.standard_normal((5, 3))
    return vae, x, eps


def test_sparse_input_gives_the_dense_results(small_vae):
    vae, x, eps = small_vae
    ld, gd = vae.loss_and_grads(x, eps=eps)
    ls, gs = vae.loss_and_grads(scipy.sparse.csr_matrix(x), eps=eps)
    assert ls["total"] == pytest.approx(ld["total"], rel=1e-12)
    for k in gd:
        np.testing.assert_allclose(gs[k], gd[k], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(vae.encode(scipy.sparse.csr_matrix(x))[0], vae.encode(x)[0], rtol=1e-12)


def test_dense_layer_sparse_forward_backward():
    from refmem.nn.layers import Dense
    rng = np.random.default_rng(0)
    layer = Dense(8, 4, rng=0, dtype=np.float64)
    x = (rng.random((6, 8)) < 0.3) * rng.random((6, 8))
    dy = rng.standard_normal((6, 4))
    y, c = layer.forward(x)
    dx = layer.backward(dy, c)
    g = {k: v.copy() for k, v in layer.grads.items()}
    layer.zero_grad()
    ys, cs = layer.forward(scipy.sparse.csr_matrix(x))
    assert isinstance(ys, np.ndarray)
    np.testing.assert_allclose(ys, y, rtol=1e-12)
    assert layer.backward(dy, cs) is None  # sparse input is data: no dx
    assert dx.shape == x.shape
    for k in g:
        np.testing.assert_allclose(layer.grads[k], g[k], rtol=1e-12)
    with pytest.raises(TypeError, match="dtype"):
        layer.forward(scipy.sparse.csr_matrix(x.astype(np.float32)))
    with pytest.raises(ValueError, match="shape"):
        layer.forward(scipy.sparse.csr_matrix(np.zeros((2, 5))))


def test_sparse_training_matches_dense_training():
    rng = np.random.default_rng(1)
    x = (rng.random((64, 30)) < 0.1).astype(np.float64)
    a, b = bow_vae(30, 4, rng=0, dtype=np.float64), bow_vae(30, 4, rng=0, dtype=np.float64)
    ha = a.fit(x, 2, batch_size=16, rng=5)
    hb = b.fit(scipy.sparse.csr_matrix(x), 2, batch_size=16, rng=5)
    np.testing.assert_allclose(hb["loss"], ha["loss"], rtol=1e-9)
    for k in a.params:
        np.testing.assert_allclose(b.params[k], a.params[k], rtol=1e-8, atol=1e-12)


def test_sparse_input_validation():
    vae = bow_vae(6, latent_dim=3, rng=1)
    with pytest.raises(ValueError, match="shape"):
        vae.encode(scipy.sparse.csr_matrix(np.zeros((2, 5), np.float32)))
    with pytest.raises(ValueError, match="lie in"):
        vae.encode(scipy.sparse.csr_matrix(np.full((2, 6), 2.0, np.float32)))
    with pytest.raises(ValueError, match="NaN"):
        vae.encode(scipy.sparse.csr_matrix(np.full((2, 6), np.nan, np.float32)))
    from refmem.nn.layers import Dropout
    d = Dropout((6,), 0.5, mode="batch")
    with pytest.raises(TypeError, match="dense"):
        d.forward(scipy.sparse.csr_matrix(np.ones((2, 6), np.float32)), train=True, rng=0)
    x = scipy.sparse.csr_matrix(np.ones((2, 6), np.float32))
    assert d.forward(x, train=False)[0] is x
